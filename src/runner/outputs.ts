/**
 * Takes the trainer's outputs once every process of the sandbox has ended (spec/runner-protocol.md §Outputs): only
 * regular files, never through a symlink, each copied into a folder the sandbox never saw while its sha256 is taken
 * over exactly the bytes written. The copy is what the runner measures and uploads, so nothing the trainer left
 * behind can change a file between hashing and upload. A symlink, FIFO, device or socket fails the run.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The outputs folder holds something that is not a regular file or directory, or cannot be read safely. */
export class OutputError extends Error {
  override name = 'OutputError';
}

export interface CollectedOutput {
  /** POSIX path relative to the outputs folder. */
  path: string;
  sha256: string;
  size: number;
}

const CHUNK = 4 << 20;
const MAX_FILES = 100_000;
const MAX_DEPTH = 64;

const kindOf = (d: { isSymbolicLink(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string =>
  d.isSymbolicLink() ? 'a symlink' : d.isFIFO() ? 'a FIFO' : d.isCharacterDevice() || d.isBlockDevice() ? 'a device node' : d.isSocket() ? 'a socket' : 'not a regular file';

/** Copies SRC (a regular file, opened without following links) to DEST, hashing the bytes written. */
async function copyHashed(src: string, dest: string, rel: string): Promise<{ sha256: string; size: number }> {
  // O_NOFOLLOW: a name swapped for a symlink is refused; O_NONBLOCK: a FIFO swapped in cannot block the runner.
  const fh = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
    throw new OutputError(`output ${rel} cannot be opened safely (${e.code ?? e.message})`);
  });
  const out = await open(dest, 'wx', 0o600);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new OutputError(`output ${rel} is ${kindOf(st)}: only regular files are outputs`);
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, size);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      await out.write(chunk, 0, bytesRead, size);
      h.update(chunk);
      size += bytesRead;
    }
    return { sha256: h.digest('hex'), size };
  } finally {
    await fh.close();
    await out.close();
  }
}

/** Collects every regular file below FROM into INTO (created fresh); sorted by path (UTF-16 code units). */
export async function collectOutputs(from: string, into: string): Promise<CollectedOutput[]> {
  await rm(into, { recursive: true, force: true });
  await mkdir(into, { recursive: true, mode: 0o700 });
  const out: CollectedOutput[] = [];
  const walk = async (rel: string[], depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new OutputError(`outputs nest deeper than ${MAX_DEPTH} folders`);
    const dir = join(from, ...rel);
    // readdir reports each entry's own type (lstat semantics): a symlink is never followed.
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = [...rel, e.name].join('/');
      if (e.name.includes('\ufffd') || /[\u0000-\u001f\u007f]/.test(e.name)) throw new OutputError(`output name ${JSON.stringify(path)} is not printable UTF-8`);
      if (e.isDirectory()) {
        await mkdir(join(into, ...rel, e.name), { mode: 0o700 });
        await walk([...rel, e.name], depth + 1);
      } else if (e.isFile()) {
        if (out.length >= MAX_FILES) throw new OutputError(`more than ${MAX_FILES} output files`);
        out.push({ path, ...(await copyHashed(join(dir, e.name), join(into, ...rel, e.name), path)) });
      } else throw new OutputError(`output ${path} is ${kindOf(e)}: only regular files are outputs, the run fails`);
    }
  };
  await walk([], 0);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
