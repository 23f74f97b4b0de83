/**
 * Turns the paths a user gives (files, directories, `-`) into the list of files to hash.
 * Directories yield every regular file below them as POSIX relative names sorted by Unicode code point
 * (the order OMS model-signing and spec/sharded-digest.md use). Symlinks inside a directory are refused by
 * default, as OMS does, with one exception: a Hugging Face cache snapshot (`…/snapshots/REV` next to `…/blobs`),
 * whose file symlinks into that cache's own `blobs/` are followed (anything else there is still refused). With
 * `symlinks: 'follow-in-tree'` a symlink to a regular file inside the same root is also followed. Rules: spec/cli.md
 * §Model folders.
 */
import { lstatSync, promises as fsp, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { MalformedInputError } from '../errors.js';
import { tryUtf8Slice } from '../util/utf8.js';

/** One file to hash. */
export interface FileEntry {
  /** What a person passed, joined with the relative name for directory members (for sha256sum-style output). */
  display: string;
  /** The name the file is bound under: the POSIX path relative to the directory given, or the basename of a file. */
  name: string;
  /** The filesystem path to open: a real path (no symlink) for regular files; '-' means stdin. */
  fsPath: string;
  /** Size from lstat/stat at walk time (0 for streams). */
  size: number;
  /** 'file' for regular files (may be sharded, opened with O_NOFOLLOW); 'stream' for stdin, pipes and devices. */
  kind: 'file' | 'stream';
  /** `dev:ino` of what was found (the link itself for a followed symlink): one physical entry is taken once. */
  identity?: string;
  /** Whether the entry was found below a directory argument (rather than named itself). */
  fromDirectory: boolean;
}

export interface WalkOptions {
  /** 'refuse' (default, as OMS): any symlink below a directory is an error. 'follow-in-tree': file symlinks that stay inside the root are followed. */
  symlinks?: 'refuse' | 'follow-in-tree';
  /** Names (POSIX, relative to a directory root) to skip, e.g. `(n) => n === '.git' || n.startsWith('.git/')`. */
  ignore?: (name: string) => boolean;
  /** Refuse a FIFO, socket or device named on the command line instead of reading it as a stream (--model). */
  regularOnly?: boolean;
}

const MAX_DEPTH = 256;

/** Code-point order of two strings (UTF-8 byte order equals code-point order; JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Checks an artifact name as bound in a manifest: relative POSIX path, no empty, `.` or `..` segments,
 * no backslash or NUL. Throws MalformedInputError naming `where`.
 */
export function validateArtifactName(name: unknown, where: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new MalformedInputError('artifact name must be a non-empty string', { path: where });
  if (name.startsWith('/')) throw new MalformedInputError(`absolute artifact name refused: ${JSON.stringify(name)}`, { path: where });
  if (/[\\\0]/.test(name)) throw new MalformedInputError(`backslash or NUL in artifact name: ${JSON.stringify(name)}`, { path: where });
  for (const seg of name.split('/')) {
    if (seg === '..') throw new MalformedInputError(`'..' segment in artifact name refused: ${JSON.stringify(name)}`, { path: where });
    if (seg === '' || seg === '.') throw new MalformedInputError(`empty or '.' segment in artifact name: ${JSON.stringify(name)}`, { path: where });
  }
  return name;
}

/** Wraps an fs error as MalformedInputError (the CLI maps it to exit 2). */
function ioError(e: unknown, path: string): MalformedInputError {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new MalformedInputError(`cannot read ${path}: ${code}`, { path }, { cause: e });
}

/** Joins a display root and a POSIX relative name without doubling the separator. */
function joinDisplay(root: string, name: string): string {
  return root.endsWith('/') ? root + name : `${root}/${name}`;
}

/** Expands the given paths into file entries, directory members sorted, argument order otherwise kept. */
export async function walkPaths(paths: readonly string[], opts: WalkOptions = {}): Promise<FileEntry[]> {
  if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string')) throw new TypeError('paths must be an array of strings');
  const out: FileEntry[] = [];
  for (const p of paths) {
    // stdin is a stream entry, never sharded
    if (p === '-') {
      out.push({ display: '-', name: '-', fsPath: '-', size: 0, kind: 'stream', fromDirectory: false });
      continue;
    }
    // a path named on the command line is followed even if it is a symlink (the user chose it)
    let st: Stats;
    let real: string;
    try {
      st = await fsp.stat(p);
      real = await fsp.realpath(p);
    } catch (e) {
      throw ioError(e, p);
    }
    const identity = `${st.dev}:${st.ino}`;
    if (st.isDirectory()) {
      const found = await walkDirectory(p, real, opts);
      // an empty folder is a mistake (a wrong path), not a model with nothing to check
      if (found.length === 0) throw new MalformedInputError('directory holds no regular file', { path: p });
      out.push(...found);
    } else if (st.isFile()) {
      out.push({ display: p, name: basename(real), fsPath: real, size: st.size, kind: 'file', fromDirectory: false, identity });
    } else if (opts.regularOnly) {
      throw new MalformedInputError('not a regular file or directory (FIFO, socket or device refused)', { path: p });
    } else {
      out.push({ display: p, name: basename(p), fsPath: p, size: 0, kind: 'stream', fromDirectory: false, identity });
    }
  }
  return out;
}

/**
 * The names in a directory, refusing one that is not UTF-8 rather than silently mangling it. Names come as strings
 * (no per-name decoding); only when one holds U+FFFD, what Node puts for bytes that are not UTF-8, are the raw bytes
 * read and decoded strictly.
 */
async function readNames(dir: string, where: string): Promise<string[]> {
  const names = await fsp.readdir(dir);
  if (!names.some((n) => n.includes('\uFFFD'))) return names;
  const seen = new Set<string>();
  return (await fsp.readdir(dir, { encoding: 'buffer' })).map((b) => {
    // The shared strict decoder keeps a leading U+FEFF: dropping it would give "\uFEFFx" the name (and the file) of "x".
    const name = tryUtf8Slice(b, 0, b.length);
    if (name === undefined) throw new MalformedInputError(`file name is not valid UTF-8 (hex ${b.toString('hex')})`, { path: where });
    // One name, one file: two entries that decode alike would hash one file twice and hide the other.
    if (seen.has(name)) throw new MalformedInputError(`two entries have the name ${JSON.stringify(name.slice(0, 80))}`, { path: where });
    seen.add(name);
    return name;
  });
}

/** Every regular file below one directory, sorted by relative name. */
async function walkDirectory(display: string, rootReal: string, opts: WalkOptions): Promise<FileEntry[]> {
  const found: FileEntry[] = [];
  const blobs = await hfCacheBlobs(rootReal);
  const stack: Array<{ dir: string; rel: string; depth: number }> = [{ dir: rootReal, rel: '', depth: 0 }];
  while (stack.length > 0) {
    const { dir, rel, depth } = stack.pop()!;
    if (depth > MAX_DEPTH) throw new MalformedInputError(`directory nesting deeper than ${MAX_DEPTH}`, { path: joinDisplay(display, rel) });
    let segs: string[];
    try {
      segs = await readNames(dir, joinDisplay(display, rel));
    } catch (e) {
      throw e instanceof MalformedInputError ? e : ioError(e, joinDisplay(display, rel));
    }
    for (const seg of segs) {
      // names are not judged here: `aicert hash` prints any name; artifact checks validate what they compare
      const name = rel ? `${rel}/${seg}` : seg;
      if (opts.ignore?.(name)) continue;
      // plain concatenation: dir is a real path and seg one name (path.join's normalising costs per file)
      const full = dir.endsWith(sep) ? dir + seg : dir + sep + seg;
      // a synchronous lstat costs about 2 µs; an awaited one about 40 µs of thread hand-offs per file
      let st: Stats;
      try {
        st = lstatSync(full);
      } catch (e) {
        throw ioError(e, joinDisplay(display, name));
      }
      if (st.isDirectory()) {
        stack.push({ dir: full, rel: name, depth: depth + 1 });
      } else if (st.isFile()) {
        found.push({ display: joinDisplay(display, name), name, fsPath: full, size: st.size, kind: 'file', fromDirectory: true, identity: `${st.dev}:${st.ino}` });
      } else if (st.isSymbolicLink()) {
        const e = await followLink(display, rootReal, blobs, name, full, opts);
        found.push({ ...e, identity: `${st.dev}:${st.ino}` });
      } else {
        throw new MalformedInputError('not a regular file (device, FIFO or socket) inside a model directory', { path: joinDisplay(display, name) });
      }
    }
  }
  return sortByName(found);
}

/** Sorts by name in code-point order; plain `<` gives that order when no name holds a surrogate pair. */
function sortByName(found: FileEntry[]): FileEntry[] {
  if (found.some((f) => /[\uD800-\uDFFF]/.test(f.name))) return found.sort((a, b) => compareCodePoints(a.name, b.name));
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The real path of the cache's `blobs/` folder when `rootReal` is a Hugging Face cache snapshot, the layout
 * huggingface_hub writes: `<cache>/models--ORG--NAME/{blobs,refs,snapshots/<rev>}`; else undefined.
 */
async function hfCacheBlobs(rootReal: string): Promise<string | undefined> {
  const snapshots = dirname(rootReal);
  if (basename(snapshots) !== 'snapshots') return undefined;
  const repo = dirname(snapshots);
  if (!/^(models|datasets|spaces)--[^/]+$/.test(basename(repo))) return undefined;
  try {
    const b = join(repo, 'blobs');
    const st = await fsp.lstat(b);
    return st.isDirectory() ? await fsp.realpath(b) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `target` is a file directly inside folder `dir` (both real paths). */
const directlyIn = (target: string, dir: string): boolean => dirname(target) === dir;

/** Applies the symlink policy to one link found inside a directory. */
async function followLink(display: string, rootReal: string, blobs: string | undefined, name: string, full: string, opts: WalkOptions): Promise<FileEntry> {
  const where = joinDisplay(display, name);
  let target: string;
  try {
    target = await fsp.realpath(full);
  } catch (e) {
    throw ioError(e, where);
  }
  // a Hugging Face cache snapshot links into its own blobs/, and only there
  const inBlobs = blobs !== undefined && directlyIn(target, blobs);
  // escaping the root is an error under every policy
  const inside = target.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
  if (!inside && !inBlobs) {
    const why = blobs ? "outside this cache's blobs/" : 'escapes the directory';
    throw new MalformedInputError(`symlink ${why} (-> ${relative(rootReal, target) || target})`, { path: where });
  }
  if (!inBlobs && opts.symlinks !== 'follow-in-tree') {
    throw new MalformedInputError('symlink refused: only a Hugging Face cache snapshot may link its files (into its own blobs/)', { path: where });
  }
  const st = await fsp.stat(target).catch((e: unknown) => {
    throw ioError(e, where);
  });
  if (!st.isFile()) throw new MalformedInputError('symlink to something other than a regular file refused', { path: where });
  return { display: where, name, fsPath: resolve(target), size: st.size, kind: 'file', fromDirectory: true };
}
