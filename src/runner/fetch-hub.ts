/**
 * The runner's Hugging Face Hub fetcher: downloads exactly the pinned commit (all files of a model; the one named
 * file of a dataset) with every file checked against the commit's tree, and reports the commit it holds. Layout
 * as the local mirror: ROOT/[datasets/]ORG/NAME/<commit>/. A folder left from an earlier run is removed and
 * fetched again, so what the trainer sees is always what was just proven. Spec: spec/hub.md §5.
 */
import { rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { isAicertError } from '../errors.js';
import { downloadHubCommit, type HubDownloadedFile } from '../node/hub-download.js';
import { checkRequest, FetchError, type Fetched, type Fetcher } from './fetchers.js';

export interface HubFetcherOptions {
  /** Folder the downloads go to. */
  root: string;
  /** Hub endpoint (`HF_ENDPOINT` / `--hf-endpoint`); default https://huggingface.co. */
  endpoint?: string;
  /** `HF_TOKEN`, for gated repositories. */
  token?: string;
  /** Extra hosts a redirect may lead to (spec/hub.md §2). */
  allowHosts?: readonly string[];
  /** Refuse a repository (or dataset file) larger than this many bytes. */
  maxTotalBytes?: number;
  onProgress?: (done: number, total: number) => void;
}

/** What the Hub fetcher returns: the Fetched fields plus every file with its digests. */
export interface HubFetched extends Fetched {
  files: HubDownloadedFile[];
}

/** A Fetcher on the Hub. Errors are FetchError whose message starts with the typed error's code; `cause` holds it. */
export function hubFetcher(opts: HubFetcherOptions): Fetcher {
  const base = resolve(opts.root);
  return async (req, signal): Promise<HubFetched> => {
    checkRequest(req);
    const dir = join(base, ...(req.kind === 'dataset' ? ['datasets'] : []), ...req.repo.split('/'), req.revision);
    if (!dir.startsWith(base + sep)) throw new FetchError('repository path leaves the download folder');
    await rm(dir, { recursive: true, force: true });
    try {
      const got = await downloadHubCommit({ kind: req.kind, repo: req.repo, revision: req.revision }, dir, {
        endpoint: opts.endpoint,
        token: opts.token,
        allowHosts: opts.allowHosts,
        maxTotalBytes: opts.maxTotalBytes,
        onProgress: opts.onProgress,
        signal,
        ...(req.file !== undefined ? { only: [req.file] } : {}),
      });
      return { dir: got.dir, commit: got.commit, files: got.files };
    } catch (e) {
      if (!isAicertError(e)) throw e;
      throw new FetchError(`${e.code}: ${req.kind} ${req.repo}@${req.revision}: ${e.message}`, { cause: e });
    }
  };
}
