/**
 * `aicert hash PATH... [--sharded] [--json]` (cli-contract.md): sha256sum-style digests of files and directories,
 * through the same hashing path `aicert-verify --model` uses. Exit 0 on success, 2 on an unreadable path or bad usage.
 */
import { hashPaths, type FileDigest } from '../node/hashing.js';
import { createProgressBar } from '../node/progress.js';
import { parse, printJson, UsageError } from './io.js';

const USAGE = 'aicert hash PATH... [--sharded] [--json]';

/** A sha256sum output line; names with a backslash or newline are escaped the way coreutils does. */
function formatLine(digest: string, path: string): string {
  if (!/[\\\n\r]/.test(path)) return `${digest}  ${path}`;
  const esc = path.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `\\${digest}  ${esc}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      sharded: { type: 'boolean' },
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
        '(spec/sharded-digest.md, 1 GiB shards, hashed on all cores). --json: [{"path","sha256","size"}].\n',
    );
    return 0;
  }
  if (positionals.length === 0) throw new UsageError(`at least one PATH is required\nusage: ${USAGE}`);
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
