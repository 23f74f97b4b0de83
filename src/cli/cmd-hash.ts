/**
 * `aicert hash PATH... [--sharded] [--json]` and `aicert hash --check FILE` (spec/cli.md §aicert hash):
 * sha256sum-style digests of files and directories, through the same hashing path `aicert-verify --model` uses.
 * Exit 0 on success (--check: every line OK), 1 a --check mismatch or missing file, 2 unreadable input or bad usage.
 */
import { MalformedInputError } from '../errors.js';
import { hashFile, hashPaths, type FileDigest } from '../node/hashing.js';
import { createProgressBar } from '../node/progress.js';
import { parse, printJson, readInput, usageError } from './io.js';
import { safe } from './text.js';
import { stderr } from '../node/stderr.js';
import { escapeChars, hasUnsafeChars, unescapeChars } from '../util/escape.js';

const USAGE = 'aicert hash PATH... [--sharded] [--json] | aicert hash --check FILE [--json]';
/** Most lines a --check file may hold. */
const MAX_CHECK_LINES = 1_000_000;

/** One `sha256sum` line: `<hex>  <name>` or `<hex> *<name>`; a leading `\` means the name is escaped. */
export function parseCheckLine(line: string, n: number): { sha256: string; path: string } {
  const m = /^(\\?)([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
  if (!m) throw new MalformedInputError(`line ${n}: not '<sha256 hex>  <file>'`, { path: `line ${n}` });
  let path = m[3]!;
  if (m[1]) path = unescapeChars(path);
  return { sha256: m[2]!.toLowerCase(), path };
}

/** `--check FILE`: re-hashes every file listed and reports OK / FAILED / missing, like `sha256sum -c`. */
async function check(file: string, json: boolean): Promise<number> {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(readInput(file, 'checksum file'));
  const lines = text.split('\n').filter((l, i, a) => l.length > 0 || i < a.length - 1).map((l) => l.replace(/\r$/, ''));
  if (lines.length > MAX_CHECK_LINES) throw new MalformedInputError(`more than ${MAX_CHECK_LINES} lines`, { path: file });
  const wanted = lines.map((l, i) => parseCheckLine(l, i + 1));
  if (wanted.length === 0) throw new MalformedInputError('no checksum lines', { path: file });
  const results: { path: string; status: 'OK' | 'FAILED' | 'missing'; expected: string; actual?: string }[] = [];
  for (const w of wanted) {
    try {
      const d = await hashFile(w.path);
      results.push({ path: w.path, status: d.sha256 === w.sha256 ? 'OK' : 'FAILED', expected: w.sha256, actual: d.sha256 });
    } catch (e) {
      if (!(e instanceof MalformedInputError)) throw e;
      results.push({ path: w.path, status: 'missing', expected: w.sha256 });
    }
  }
  const bad = results.filter((r) => r.status !== 'OK');
  if (json) {
    const doc: Record<string, unknown> = { valid: bad.length === 0, files: results };
    if (bad.length) doc.error = { code: 'ARTIFACT_MISMATCH', message: `${bad.length} of ${results.length} files did not match or could not be read` };
    printJson(doc);
  } else {
    for (const r of results) process.stdout.write(`${safe(r.path, 400)}: ${r.status === 'missing' ? 'FAILED open or read' : r.status}\n`);
    if (bad.length) stderr`aicert hash: WARNING: ${bad.length} of ${results.length} computed checksums did NOT match or could not be read\n`;
  }
  return bad.length ? 1 : 0;
}

/**
 * A sha256sum output line. A name holding a backslash, newline or any character the escaper escapes (control, bidi,
 * invisible) is written escaped behind a leading backslash, as coreutils marks its escaped names, so a file name can
 * never drive the terminal; parseCheckLine reads it back.
 */
function formatLine(digest: string, path: string): string {
  if (!hasUnsafeChars(path)) return `${digest}  ${path}`;
  return `\\${digest}  ${escapeChars(path)}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      sharded: { type: 'boolean' },
      check: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(
      `usage: ${USAGE}\n\n` +
        'Prints "<sha256 hex>  <path>" per file, like sha256sum; directories expand to every regular file below,\n' +
        'sorted by POSIX path. Symlinks inside directories are refused. --sharded prints the aicert sharded digest\n' +
        '(spec/sharded-digest.md, 1 GiB shards, hashed on all cores). --json: [{"path","sha256","size"}].\n' +
        '--check FILE (-c) reads sha256sum lines and prints "<file>: OK|FAILED" for each; exit 1 on any failure.\n\n' +
        'Examples:\n  aicert hash ./weights > SHA256SUMS\n  aicert hash --check SHA256SUMS\n',
    );
    return 0;
  }
  if (o.check !== undefined) {
    if (positionals.length || o.sharded) throw usageError('--check takes one FILE and no PATH or --sharded', USAGE);
    return check(o.check, o.json === true);
  }
  if (positionals.length === 0) throw usageError('at least one PATH is required', USAGE);
  // progress goes to stderr, and only when stderr is a terminal
  const bar = createProgressBar(process.stderr);
  let results: FileDigest[];
  try {
    results = await hashPaths(positionals, { sharded: o.sharded === true, onProgress: (d, t) => bar.update(d, t) });
  } finally {
    bar.done();
  }
  if (o.json) {
    printJson(
      results.map((r) => (o.sharded ? { path: r.path, sha256: r.digest, size: r.size, algorithm: r.algorithm } : { path: r.path, sha256: r.digest, size: r.size })),
    );
  } else {
    process.stdout.write(results.map((r) => formatLine(r.digest, r.path) + '\n').join(''));
  }
  return 0;
}
