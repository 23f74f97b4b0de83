/**
 * Compares an AIBOM's bound outputs with the tree of one Hub commit, without downloading the weights: a bound
 * whole-file sha256 against the LFS sha256 oid; a small non-LFS file by reading it (its git blob id checked against
 * the listing, then its sha256); a sharded digest (spec/sharded-digest.md) from the LFS oid when the file fits one
 * shard, else it cannot be judged without the bytes. Per file: match, mismatch, missing, extra, conventional or
 * unverifiable. Spec: spec/hub.md §4.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { MalformedInputError } from '../errors.js';
import { concat, fromHex, toHex, utf8 } from '../util/bytes.js';
import { conventionalFileReason } from './conventions.js';
import { compareCodePoints, type HubFile, type HubTree } from './tree.js';

/** A bound output: the AIBOM claims shape `{name, sha256}` or a digest set `{name, digest: {...}}`. */
export type BoundOutput = { name: string; sha256: string } | { name: string; digest: Record<string, string | undefined> };

export type HubFileStatus = 'match' | 'mismatch' | 'missing' | 'extra' | 'conventional' | 'unverifiable';

export interface HubFileResult {
  name: string;
  status: HubFileStatus;
  /** The digest algorithm compared (match / mismatch). */
  algorithm?: string;
  expected?: string;
  actual?: string;
  /** How the Hub's side was obtained: its LFS oid, or the file's bytes (checked against its git blob id). */
  via?: 'lfs-oid' | 'content';
  size?: number;
  /** Plain words: why conventional, why unverifiable, what the header check found. */
  reason?: string;
}

export interface HubCompareReport {
  ok: boolean;
  /** `[datasets/]ORG/NAME@<commit>` as confirmed by the Hub. */
  ref: string;
  commit: string;
  /** One entry per bound output and per listed file, in code-point order of name. */
  files: HubFileResult[];
  counts: Record<HubFileStatus, number>;
}

export interface HubCompareOptions {
  /** Reads a small file of the tree (verified against its git blob id); without it such files are unverifiable. */
  readFile?: (file: HubFile) => Promise<Uint8Array>;
  /** Largest file `readFile` is asked for. Default 10 MiB. */
  maxReadBytes?: number;
  /** Checks a matched `*.safetensors` header (e.g. read by range); a MalformedInputError marks it a mismatch. */
  checkSafetensors?: (file: HubFile) => Promise<string | void>;
  /** More paths that are not outputs (e.g. `--ignore GLOB`); listed as conventional, never failing. */
  ignore?: (path: string) => boolean;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
const SHARDED = /^aicert-sharded-sha256-([1-9][0-9]*)$/;
const MIN_SHARD = 4096;
const MAX_SHARD = 2 ** 40;

/** The shard size of an `aicert-sharded-sha256-<S>` name, or undefined (spec/sharded-digest.md §2). */
export function shardSizeOf(alg: string): number | undefined {
  const m = SHARDED.exec(alg);
  const s = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(s) && s >= MIN_SHARD && s <= MAX_SHARD ? s : undefined;
}

const u64be = (v: number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v));
  return b;
};

/** The sharded root of a file of `size` bytes that fits in one shard, from its whole-file sha256 (§3). */
export function singleShardRoot(shard: number, size: number, wholeSha256: string): string {
  if (size > shard) throw new RangeError('the file spans more than one shard');
  const parts = [utf8('aicert-sharded-sha256\0'), u64be(shard), u64be(size)];
  if (size > 0) parts.push(fromHex(wholeSha256));
  return toHex(sha256(concat(...parts)));
}

/** name -> digest set (lowercase), validated as spec/sharded-digest.md §5–6 requires. */
function indexBound(outputs: readonly BoundOutput[]): Map<string, Map<string, string>> {
  if (!Array.isArray(outputs)) throw new TypeError('outputs must be an array');
  const out = new Map<string, Map<string, string>>();
  outputs.forEach((o, i) => {
    const name = o?.name;
    if (typeof name !== 'string' || name === '' || name.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\\\0]/.test(name))
      throw new MalformedInputError('a bound output name must be a relative POSIX path', { path: `outputs[${i}].name` });
    if (out.has(name)) throw new MalformedInputError(`output ${JSON.stringify(name)} is bound twice`, { path: `outputs[${i}].name` });
    const raw: Record<string, string | undefined> = 'digest' in o ? o.digest : { sha256: o.sha256 };
    const set = new Map<string, string>();
    for (const [alg, hex] of Object.entries(raw ?? {})) {
      if (alg !== 'sha256' && shardSizeOf(alg) === undefined) continue;
      if (typeof hex !== 'string' || !HEX64.test(hex)) throw new MalformedInputError(`${alg} must be 64 hex`, { path: `outputs[${i}].digest.${alg}` });
      set.set(alg, hex.toLowerCase());
    }
    if (set.size === 0) throw new MalformedInputError('no sha256 or aicert-sharded-sha256-<S> digest bound', { path: `outputs[${i}]` });
    out.set(name, set);
  });
  return out;
}

/** Judges one bound file that the tree holds. */
async function judge(name: string, set: Map<string, string>, f: HubFile, opts: HubCompareOptions): Promise<HubFileResult> {
  const base = { name, size: f.size };
  const alg = set.has('sha256') ? 'sha256' : [...set.keys()].sort(compareCodePoints)[0]!;
  const want = set.get(alg)!;
  const shard = alg === 'sha256' ? undefined : shardSizeOf(alg)!;
  let whole: string | undefined;
  let via: HubFileResult['via'];
  if (f.lfs) {
    whole = f.lfs.sha256;
    via = 'lfs-oid';
  } else if (opts.readFile && f.size <= (opts.maxReadBytes ?? 10 * 1024 * 1024)) {
    whole = toHex(sha256(await opts.readFile(f)));
    via = 'content';
  } else {
    return { ...base, status: 'unverifiable', reason: 'not in LFS: the Hub gives only its git blob id, and the file was not read' };
  }
  if (shard !== undefined && f.size > shard)
    return { ...base, status: 'unverifiable', algorithm: alg, reason: `only a sharded digest is bound and the file spans ${Math.ceil(f.size / shard)} shards: download it and check the local files (options.model)` };
  const actual = shard === undefined ? whole : singleShardRoot(shard, f.size, whole);
  if (actual !== want) return { ...base, status: 'mismatch', algorithm: alg, expected: want, actual, via };
  const r: HubFileResult = { ...base, status: 'match', algorithm: alg, expected: want, actual, via };
  if (opts.checkSafetensors && name.endsWith('.safetensors')) {
    try {
      const note = await opts.checkSafetensors(f);
      if (note) r.reason = note;
    } catch (e) {
      // a malformed header is this file's verdict; anything the Hub did wrong while serving it is the Hub's error
      if (!(e instanceof MalformedInputError)) throw e;
      return { ...r, status: 'mismatch', reason: `safetensors header refused: ${e.message}` };
    }
  }
  return r;
}

/**
 * The per-file report. `ok` requires at least one match and no mismatch, missing, extra or unverifiable file:
 * a commit stands for the whole model, so every bound output must be there and nothing else but conventional files.
 */
export async function compareOutputsWithTree(outputs: readonly BoundOutput[], tree: HubTree, opts: HubCompareOptions = {}): Promise<HubCompareReport> {
  const bound = indexBound(outputs);
  const byPath = new Map(tree.files.map((f) => [f.path, f]));
  const files: HubFileResult[] = [];
  for (const [name, set] of bound) {
    const f = byPath.get(name);
    files.push(f ? await judge(name, set, f, opts) : { name, status: 'missing', reason: 'bound by the certificate, not in the commit' });
  }
  for (const f of tree.files) {
    if (bound.has(f.path)) continue;
    const why = conventionalFileReason(f.path) ?? (opts.ignore?.(f.path) ? 'ignored by the caller' : undefined);
    files.push(why ? { name: f.path, status: 'conventional', size: f.size, reason: why } : { name: f.path, status: 'extra', size: f.size, reason: 'in the commit, not bound by the certificate' });
  }
  files.sort((a, b) => compareCodePoints(a.name, b.name));
  const counts: Record<HubFileStatus, number> = { match: 0, mismatch: 0, missing: 0, extra: 0, conventional: 0, unverifiable: 0 };
  for (const r of files) counts[r.status]++;
  const ok = counts.match > 0 && counts.mismatch + counts.missing + counts.extra + counts.unverifiable === 0;
  const ref = `${tree.ref.kind === 'dataset' ? 'datasets/' : ''}${tree.ref.repo}@${tree.commit}`;
  return { ok, ref, commit: tree.commit, files, counts };
}
