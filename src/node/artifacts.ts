/**
 * Checks model files against the digests a certificate binds, reported the way OMS model-signing reports a
 * manifest mismatch: matched, missing, extra and mismatched files.
 *
 * Rules (spec/cli.md §Model folders; spec/sharded-digest.md §6):
 * - Every given file must be bound and match its digest; a given file that is not bound is `extra` and fails,
 *   unless it is a conventional non-output file (README.md, .gitattributes, LICENSE…) or matches `ignore`: those
 *   are listed as `conventional` and not hashed. A bound conventional file is compared like any output.
 * - Each physical file is taken once, whatever the paths given (a file below a given folder and named again).
 * - FIFOs, sockets and devices are refused at once (they could block forever).
 * - A bound file that was not given is `missing`. Missing files fail when `requireAll` is true, which is the
 *   default as soon as a directory is given (a directory stands for the whole model); when only single files are
 *   given, the caller checks just those files (spec/cli.md: "every given file must match").
 * - Extra files are not hashed. Bound names must be relative POSIX paths without `..` (else MalformedInputError).
 */
import { MalformedInputError } from '../errors.js';
import { DEFAULT_READ_SIZE, hashEntries, parseShardedAlgorithm, type PathsProgress } from './hashing.js';
import { defaultWorkers } from './hash-worker.js';
import { validateSafetensorsHeader } from './safetensors.js';
import { conventionalFileReason } from '../hub/conventions.js';
import { compareCodePoints, validateArtifactName, walkPaths, type FileEntry, type WalkOptions } from './walk.js';

/** A bound artifact: its name and a digest set (`sha256` and/or `aicert-sharded-sha256-<n>`; others ignored). */
export interface ExpectedArtifact {
  name: string;
  digest: { sha256?: string; [algorithm: string]: string | undefined };
}

/** A path to check; `name` overrides the bound name of a file, or prefixes the names found below a directory. */
export type ArtifactPath = string | { path: string; name: string };

export interface VerifyArtifactsOptions extends Omit<WalkOptions, 'ignore' | 'regularOnly'> {
  /** More names (relative POSIX) that are not outputs, e.g. from `--ignore GLOB`; listed as conventional. */
  ignore?: (name: string) => boolean;
  /** Treat README.md, .gitattributes, LICENSE* … as non-outputs when unbound (default true). */
  conventional?: boolean;
  /** Bound files not given fail the check. Default: true when any directory is given, else false. */
  requireAll?: boolean;
  /** 'auto' (default): whole-file sha256 when bound, else the sharded digest. 'sharded' prefers the sharded digest. */
  algorithm?: 'auto' | 'sha256' | 'sharded';
  /** Validate the header of every `*.safetensors` file before hashing it (hub mode). */
  validateSafetensors?: boolean;
  workers?: number;
  highWaterMark?: number;
  onProgress?: PathsProgress;
}

/** The files-on-disk report (named apart from the document-level `ArtifactReport` of aicert/aibom). */
export interface LocalArtifactReport {
  ok: boolean;
  /** Whether missing files counted against `ok`. */
  requireAll: boolean;
  matched: Array<{ name: string; path: string; algorithm: string; digest: string }>;
  missing: string[];
  extra: Array<{ name: string; path: string }>;
  mismatched: Array<{ name: string; path: string; algorithm: string; expected: string; actual: string }>;
  /** Unbound files that are not outputs by convention or by `ignore`: listed, not hashed, not failing. */
  conventional: Array<{ name: string; path: string; reason: string }>;
}
/** @deprecated use LocalArtifactReport (this name is also the aibom-level report's). */
export type ArtifactReport = LocalArtifactReport;

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Validates the bound list; returns name -> digest set with lowercase hex. */
function indexExpected(expected: readonly ExpectedArtifact[]): Map<string, Map<string, string>> {
  if (!Array.isArray(expected)) throw new TypeError('expected must be an array');
  const out = new Map<string, Map<string, string>>();
  expected.forEach((a, i) => {
    const name = validateArtifactName(a?.name, `expected[${i}].name`);
    if (out.has(name)) throw new MalformedInputError(`artifact ${JSON.stringify(name)} is bound twice`, { path: `expected[${i}].name` });
    if (typeof a.digest !== 'object' || a.digest === null) throw new MalformedInputError('digest must be an object', { path: `expected[${i}].digest` });
    const set = new Map<string, string>();
    for (const [alg, hex] of Object.entries(a.digest)) {
      if (alg !== 'sha256' && parseShardedAlgorithm(alg) === undefined) continue;
      if (typeof hex !== 'string' || !HEX64.test(hex)) throw new MalformedInputError(`${alg} digest must be 64 hex characters`, { path: `expected[${i}].digest.${alg}` });
      set.set(alg, hex.toLowerCase());
    }
    if (set.size === 0) throw new MalformedInputError('no supported digest (sha256 or aicert-sharded-sha256-<n>)', { path: `expected[${i}].digest` });
    out.set(name, set);
  });
  return out;
}

/** The algorithm used to check one bound file. */
function pickAlgorithm(set: Map<string, string>, pref: 'auto' | 'sha256' | 'sharded'): string | undefined {
  const sharded = [...set.keys()].filter((k) => k !== 'sha256').sort(compareCodePoints)[0];
  if (pref === 'sha256') return set.has('sha256') ? 'sha256' : undefined;
  if (pref === 'sharded') return sharded ?? (set.has('sha256') ? 'sha256' : undefined);
  return set.has('sha256') ? 'sha256' : sharded;
}

/** Walks the given paths and names every file as it is bound. */
async function collect(paths: readonly ArtifactPath[], opts: WalkOptions): Promise<{ entries: FileEntry[]; anyDirectory: boolean; invalid: FileEntry[] }> {
  if (!Array.isArray(paths)) throw new TypeError('paths must be an array');
  const found: FileEntry[] = [];
  let anyDirectory = false;
  for (const p of paths) {
    const { path, name } = typeof p === 'string' ? { path: p, name: undefined } : p;
    if (typeof path !== 'string' || (name !== undefined && typeof name !== 'string')) throw new TypeError('each path must be a string or {path, name}');
    for (const e of await walkPaths([path], { ...opts, regularOnly: true })) {
      if (e.fromDirectory) anyDirectory = true;
      found.push({ ...e, name: name === undefined ? e.name : e.fromDirectory ? `${name}/${e.name}` : name });
    }
  }
  const entries: FileEntry[] = [];
  const invalid: FileEntry[] = [];
  for (const e of judgedOnce(found)) {
    // a name no manifest can bind (backslash, control character, `..`) is an extra file, named in the report
    (isBindableName(e.name) ? entries : invalid).push(e);
  }
  // a name given twice cannot be judged once
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new MalformedInputError(`${JSON.stringify(e.name)} is given twice`, { path: e.display });
    seen.add(e.name);
  }
  return { entries, anyDirectory, invalid };
}

/**
 * Every name is judged (spec/cli.md §Model folders): one physical file reached twice under one name counts once, but
 * a second name of one physical file (a hard link, or a path that names it otherwise) is its own entry, bound or not.
 */
function judgedOnce(found: FileEntry[]): FileEntry[] {
  const taken = new Set<string>();
  return found.filter((e) => {
    if (e.identity === undefined) return true;
    const key = `${e.identity}\0${e.name}`;
    if (taken.has(key)) return false;
    taken.add(key);
    return true;
  });
}

/** Whether a file name could be bound at all (spec/sharded-digest.md §5), without throwing. */
function isBindableName(name: string): boolean {
  try {
    validateArtifactName(name, 'name');
    return !/[\u0000-\u001f\u007f]/.test(name);
  } catch {
    return false;
  }
}

/** Hashes the given files that are bound and compares them with the bound digests. */
export async function verifyArtifacts(expected: readonly ExpectedArtifact[], paths: readonly ArtifactPath[], opts: VerifyArtifactsOptions = {}): Promise<LocalArtifactReport> {
  const bound = indexExpected(expected);
  const { ignore, conventional, ...walkOpts } = opts;
  const { entries, anyDirectory, invalid } = await collect(paths, walkOpts);
  const requireAll = opts.requireAll ?? anyDirectory;
  const report: LocalArtifactReport = { ok: false, requireAll, matched: [], missing: [], extra: invalid.map((e) => ({ name: e.name, path: e.display })), mismatched: [], conventional: [] };
  const nonOutput = (n: string): string | undefined => (conventional !== false ? conventionalFileReason(n) : undefined) ?? (ignore?.(n) ? 'ignored (options.ignore)' : undefined);
  // group the bound, given files by the algorithm that checks them
  const groups = new Map<string, FileEntry[]>();
  for (const e of entries) {
    const set = bound.get(e.name);
    if (!set) {
      const reason = nonOutput(e.name);
      if (reason) report.conventional.push({ name: e.name, path: e.display, reason });
      else report.extra.push({ name: e.name, path: e.display });
      continue;
    }
    const alg = pickAlgorithm(set, opts.algorithm ?? 'auto');
    if (alg === undefined) throw new MalformedInputError(`no ${opts.algorithm} digest bound for ${JSON.stringify(e.name)}`, { path: e.display });
    const g = groups.get(alg);
    if (g) g.push(e);
    else groups.set(alg, [e]);
  }
  // hub mode: refuse a malformed safetensors file before spending time hashing it
  if (opts.validateSafetensors) {
    for (const e of entries) if (bound.has(e.name) && e.kind === 'file' && e.name.endsWith('.safetensors')) await validateSafetensorsHeader(e.fsPath);
  }
  const total = [...groups.values()].flat().reduce((a, e) => a + e.size, 0);
  let base = 0;
  for (const [alg, group] of groups) {
    const groupBase = base;
    const results = await hashEntries(group, {
      shardSize: alg === 'sha256' ? undefined : parseShardedAlgorithm(alg),
      hwm: opts.highWaterMark ?? DEFAULT_READ_SIZE,
      workers: opts.workers ?? defaultWorkers(),
      onProgress: opts.onProgress ? (d) => opts.onProgress!(groupBase + d, total) : undefined,
    });
    base += group.reduce((a, e) => a + e.size, 0);
    for (const r of results) {
      const want = bound.get(r.name)!.get(alg)!;
      if (r.digest === want) report.matched.push({ name: r.name, path: r.path, algorithm: alg, digest: r.digest });
      else report.mismatched.push({ name: r.name, path: r.path, algorithm: alg, expected: want, actual: r.digest });
    }
  }
  const given = new Set(entries.map((e) => e.name));
  report.missing = [...bound.keys()].filter((n) => !given.has(n)).sort(compareCodePoints);
  report.matched.sort((a, b) => compareCodePoints(a.name, b.name));
  report.mismatched.sort((a, b) => compareCodePoints(a.name, b.name));
  report.extra.sort((a, b) => compareCodePoints(a.name, b.name));
  report.conventional.sort((a, b) => compareCodePoints(a.name, b.name));
  report.ok = report.mismatched.length === 0 && report.extra.length === 0 && report.matched.length > 0 && (!requireAll || report.missing.length === 0);
  return report;
}

/** Normalizes an LFS oid (`sha256:<hex>` or hex) or an ETag / X-Linked-Etag (`"<hex>"`, `W/"<hex>"`) to hex. */
export function normalizeLfsDigest(v: string): string {
  if (typeof v !== 'string') throw new TypeError('digest must be a string');
  let s = v.trim();
  if (s.startsWith('W/')) s = s.slice(2);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  if (s.toLowerCase().startsWith('sha256:')) s = s.slice(7);
  if (!HEX64.test(s)) {
    const why = /^[0-9a-fA-F]{40}$/.test(s) ? ' (a 40-hex git blob id: the file is not in LFS; hash it instead)' : '';
    throw new MalformedInputError(`not a SHA-256 LFS oid or ETag: ${JSON.stringify(v.slice(0, 80))}${why}`, { path: 'lfs' });
  }
  return s.toLowerCase();
}

/** Hub mode: does the bound whole-file sha256 equal the hub's LFS oid / X-Linked-Etag? No re-hashing. */
export function compareLfs(expectedSha256: string, lfsOidOrEtag: string): boolean {
  if (typeof expectedSha256 !== 'string' || !HEX64.test(expectedSha256)) throw new MalformedInputError('expected sha256 must be 64 hex characters', { path: 'expected' });
  return normalizeLfsDigest(lfsOidOrEtag) === expectedSha256.toLowerCase();
}
