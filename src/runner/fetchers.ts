/**
 * Pluggable model and dataset fetchers of the reference runner. A fetcher turns a pinned Hugging Face repository
 * (`ORG/NAME@<40 hex commit>`) into a local directory and reports the commit it actually holds; the runner measures
 * that commit (`resolved.hash = "sha1:<hex>"`), never the requested one. Nothing is downloaded here: the local-folder
 * fetcher serves a mirror laid out as ROOT/[datasets/]ORG/NAME/<commit>/ (tests; offline VMs with a baked-in cache).
 */
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

/** What the runner asks for. */
export interface FetchRequest {
  kind: 'model' | 'dataset';
  /** `ORG/NAME`. */
  repo: string;
  /** 40 lowercase hex digits. */
  revision: string;
  /** Dataset file inside the repository (datasets only). */
  file?: string;
}

/** What a fetcher returns. */
export interface Fetched {
  /** Local directory holding the repository at that commit. */
  dir: string;
  /** The commit the directory holds (40 hex); must equal the request, else the runner refuses to train. */
  commit: string;
}

export type Fetcher = (req: FetchRequest, signal?: AbortSignal) => Promise<Fetched>;

/** Raised when a resource cannot be provided. */
export class FetchError extends Error {
  override name = 'FetchError';
}

const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SHA1 = /^[0-9a-f]{40}$/;

/** Checks a request's fields (they come from a config sent over the network). */
export function checkRequest(req: FetchRequest): void {
  if (!REPO.test(req.repo) || req.repo.includes('..')) throw new FetchError(`bad repository name ${JSON.stringify(req.repo)}`);
  if (!SHA1.test(req.revision)) throw new FetchError(`bad revision ${JSON.stringify(req.revision)}`);
  if (req.file !== undefined && (req.file.split('/').some((s) => s === '' || s === '.' || s === '..') || req.file.startsWith('/')))
    throw new FetchError(`bad dataset file ${JSON.stringify(req.file)}`);
}

/** Local mirror: ROOT/ORG/NAME/<commit>/ for models, ROOT/datasets/ORG/NAME/<commit>/ for datasets. */
export function localFolderFetcher(root: string): Fetcher {
  const base = resolve(root);
  return async (req) => {
    checkRequest(req);
    // The pinned commit names the directory: a mirror can only hold what it was built from.
    const dir = join(base, ...(req.kind === 'dataset' ? ['datasets'] : []), ...req.repo.split('/'), req.revision);
    if (!dir.startsWith(base + sep)) throw new FetchError('repository path leaves the mirror');
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new FetchError(`${req.kind} ${req.repo}@${req.revision} is not in the local mirror ${base}`);
    if (req.file !== undefined) {
      const f = await stat(join(dir, req.file)).catch(() => undefined);
      if (!f?.isFile()) throw new FetchError(`dataset file ${req.file} is not in ${req.repo}@${req.revision}`);
    }
    return { dir, commit: req.revision };
  };
}
