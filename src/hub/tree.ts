/**
 * The file tree of exactly one commit, through @huggingface/hub (`listFiles` recursive, `modelInfo` /
 * `datasetInfo` at the revision for the commit id). Each entry is checked field by field: a safe relative path, a
 * 40-hex git blob id, a size, and for LFS files a 64-hex sha256 oid of the same size. Spec: spec/hub.md §2–3.
 */
import { datasetInfo, listFiles, modelInfo } from '@huggingface/hub';
import { MalformedInputError, VerificationError } from '../errors.js';
import { HubHttp, type HubHttpOptions } from './http.js';
import type { HubRef } from './ref.js';

/** One file of a commit, as the Hub lists it. */
export interface HubFile {
  /** Relative POSIX path in the repository. */
  path: string;
  /** Size in bytes of the content (for LFS files the real file, not the pointer). */
  size: number;
  /** Git blob id (40 hex): sha1 of "blob <len>\0" + bytes (for LFS files: of the pointer file). */
  oid: string;
  /** LFS: the sha256 of the content (64 hex), and the pointer file's size. */
  lfs?: { sha256: string; pointerSize: number };
  /** Xet content hash, when the Hub gives one (informational). */
  xetHash?: string;
}

export interface HubTree {
  ref: HubRef;
  /** The commit the Hub confirmed (equal to ref.revision, else HUB_COMMIT_MISMATCH was raised). */
  commit: string;
  /** Files in ascending code-point order of path. */
  files: HubFile[];
  directories: string[];
}

export interface HubTreeOptions extends HubHttpOptions {
  /** Most entries accepted in one listing (files and directories). Default 100,000. */
  maxEntries?: number;
  /** Most listing pages requested. Default 1,000. */
  maxPages?: number;
}

export const DEFAULT_MAX_TREE_ENTRIES = 100_000;
/** Longest path accepted (UTF-16 units). */
export const MAX_PATH_LENGTH = 1024;

const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const invalid = (message: string, details?: Record<string, unknown>): never => {
  throw new VerificationError('HUB_RESPONSE_INVALID', message, details);
};

/** Ascending Unicode code-point order (UTF-8 byte order), not UTF-16 order. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

/**
 * Checks a path the Hub names: relative POSIX, no empty, `.`, `..` or `.git` segment, no backslash, no control
 * character (C0, DEL, C1), no lone surrogate, bounded. HUB_PATH_UNSAFE otherwise.
 */
export function checkHubPath(p: unknown): string {
  const show = typeof p === 'string' ? JSON.stringify(p.slice(0, 120)) : typeof p;
  const unsafe = (why: string): never => {
    throw new VerificationError('HUB_PATH_UNSAFE', `the Hub lists an unsafe path ${show}: ${why}`, { path: typeof p === 'string' ? p.slice(0, 300) : undefined });
  };
  if (typeof p !== 'string') return invalid(`a tree entry's path is ${show}, not a string`);
  if (p.length === 0 || p.length > MAX_PATH_LENGTH) unsafe(`length must be 1-${MAX_PATH_LENGTH}`);
  if (p.startsWith('/')) unsafe('absolute');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f\\]/.test(p)) unsafe('control character or backslash');
  if (LONE_SURROGATE.test(p)) unsafe('not valid Unicode');
  for (const s of p.split('/')) {
    if (s === '' || s === '.' || s === '..') unsafe('empty, "." or ".." segment');
    if (s.toLowerCase() === '.git') unsafe('a ".git" segment');
  }
  return p;
}

const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks one raw tree entry; returns a file, a directory path, or throws. */
export function checkTreeEntry(e: unknown, i: number): HubFile | { directory: string } {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return invalid(`tree entry ${i} is not an object`);
  const r = e as Record<string, unknown>;
  const path = checkHubPath(r.path);
  const at = (field: string, why: string): never => invalid(`tree entry ${JSON.stringify(path.slice(0, 120))}: ${field} ${why}`, { path, field });
  if (r.type === 'directory') {
    if (r.oid !== undefined && (typeof r.oid !== 'string' || !HEX40.test(r.oid))) at('oid', 'is not a 40-hex tree id');
    return { directory: path };
  }
  if (r.type !== 'file') return at('type', `is ${JSON.stringify(String(r.type).slice(0, 40))}, not "file" or "directory"`);
  if (!isSize(r.size)) at('size', 'is not a non-negative integer');
  if (typeof r.oid !== 'string' || !HEX40.test(r.oid)) at('oid', 'is not a 40-hex git blob id');
  const file: HubFile = { path, size: r.size as number, oid: r.oid as string };
  if (r.lfs !== undefined && r.lfs !== null) {
    const l = r.lfs as Record<string, unknown>;
    if (typeof l !== 'object' || Array.isArray(l)) at('lfs', 'is not an object');
    if (typeof l.oid !== 'string' || !HEX64.test(l.oid)) at('lfs.oid', 'is not a 64-hex sha256');
    if (l.size !== r.size) at('lfs.size', 'differs from the entry size');
    if (!isSize(l.pointerSize) || (l.pointerSize as number) > 1024) at('lfs.pointerSize', 'is not an integer 0-1024');
    file.lfs = { sha256: l.oid as string, pointerSize: l.pointerSize as number };
  }
  if (r.xetHash !== undefined) {
    if (typeof r.xetHash !== 'string' || !HEX64.test(r.xetHash)) at('xetHash', 'is not 64 hex');
    file.xetHash = r.xetHash as string;
  }
  return file;
}

/** Runs a call of @huggingface/hub; an error that is not ours (its own parsing of a bad answer) is HUB_RESPONSE_INVALID. */
async function viaClient<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof VerificationError || e instanceof MalformedInputError) throw e;
    if (e instanceof Error && e.name === 'AbortError') throw e;
    throw new VerificationError('HUB_RESPONSE_INVALID', `${what}: the Hub's answer could not be read (${e instanceof Error ? e.message : String(e)})`, undefined, { cause: e });
  }
}

/** Asks the Hub which commit `ref.revision` is; anything but that very commit is HUB_COMMIT_MISMATCH. */
export async function confirmCommit(http: HubHttp, ref: HubRef): Promise<string> {
  const kind = ref.kind === 'dataset' ? 'datasets' : 'models';
  const prefix = `${http.endpoint.pathname.replace(/\/+$/, '')}/api/${kind}/${ref.repo}/revision/${ref.revision}`;
  const fetch = http.clientFetch([prefix], ref.revision, 1, 'object');
  const common = { name: ref.repo, revision: ref.revision, hubUrl: http.base, fetch, additionalFields: ['sha' as const] };
  const info = await viaClient(`revision of ${ref.repo}`, () => (ref.kind === 'dataset' ? datasetInfo(common) : modelInfo(common)));
  const sha: unknown = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string') return invalid(`the Hub's revision answer for ${ref.repo} has no commit id (sha)`);
  if (sha !== ref.revision)
    throw new VerificationError('HUB_COMMIT_MISMATCH', `the Hub answered for commit ${JSON.stringify(sha.slice(0, 80))} when asked for the pinned ${ref.revision}`, { expected: ref.revision, actual: sha.slice(0, 80) });
  return sha;
}

/** Lists every file of exactly `ref.revision`, recursively, after the Hub confirmed that commit. */
export async function listHubTree(ref: HubRef, opts: HubTreeOptions = {}, http: HubHttp = new HubHttp(opts)): Promise<HubTree> {
  const commit = await confirmCommit(http, ref);
  const kind = ref.kind === 'dataset' ? 'datasets' : 'models';
  const prefix = `${http.endpoint.pathname.replace(/\/+$/, '')}/api/${kind}/${ref.repo}/tree/${ref.revision}`;
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_TREE_ENTRIES;
  const fetch = http.clientFetch([prefix], ref.revision, opts.maxPages ?? 1000, 'array');
  const files = new Map<string, HubFile>();
  const dirs = new Set<string>();
  let i = 0;
  const repo = { type: ref.kind, name: ref.repo } as const;
  await viaClient(`tree of ${ref.repo}`, async () => {
    for await (const raw of listFiles({ repo, revision: ref.revision, recursive: true, hubUrl: http.base, fetch })) {
      if (++i > maxEntries) invalid(`the tree of ${ref.repo}@${ref.revision} has more than ${maxEntries} entries`);
      const e = checkTreeEntry(raw, i - 1);
      const p = 'directory' in e ? e.directory : e.path;
      if (files.has(p) || dirs.has(p)) throw new VerificationError('HUB_RESPONSE_INVALID', `the Hub lists ${JSON.stringify(p.slice(0, 120))} twice`, { path: p });
      if ('directory' in e) dirs.add(p);
      else files.set(p, e);
    }
  });
  // a path cannot be both a file and a folder holding other files
  for (const p of files.keys()) {
    const segs = p.split('/');
    for (let k = 1; k < segs.length; k++) {
      const parent = segs.slice(0, k).join('/');
      if (files.has(parent)) throw new VerificationError('HUB_RESPONSE_INVALID', `the Hub lists ${JSON.stringify(parent.slice(0, 120))} as a file and as a folder`, { path: parent });
    }
  }
  const sorted = [...files.values()].sort((a, b) => compareCodePoints(a.path, b.path));
  return { ref, commit, files: sorted, directories: [...dirs].sort(compareCodePoints) };
}
