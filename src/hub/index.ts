/**
 * Hugging Face Hub, browser-safe core: pinned references, the tree of one commit, and the comparison of an AIBOM's
 * bound outputs with it (no download of the weights). Node downloads: src/node/hub-download.ts. Spec: spec/hub.md.
 */
import type { ArtifactReport, ArtifactVerifier } from '../aibom/types.js';
import { readSafetensorsHead, readSmallFile } from './content.js';
import { compareOutputsWithTree, type BoundOutput, type HubCompareOptions, type HubCompareReport } from './compare.js';
import { HubHttp } from './http.js';
import { parseHubRef, type HubRef } from './ref.js';
import { listHubTree, type HubTreeOptions } from './tree.js';

export { parseHubRef, formatHubRef, isCommitId, isRepoId } from './ref.js';
export type { HubRef, HubRepoKind } from './ref.js';
export { CONVENTIONAL_FILE_RULES, conventionalFileReason, isConventionalFile } from './conventions.js';
export { HubHttp, parseEndpoint, DEFAULT_HUB_ENDPOINT, MAX_REDIRECTS } from './http.js';
export type { HubHttpOptions } from './http.js';
export { listHubTree, checkHubPath, checkTreeEntry, confirmCommit, compareCodePoints, DEFAULT_MAX_TREE_ENTRIES } from './tree.js';
export type { HubFile, HubTree, HubTreeOptions } from './tree.js';
export { gitBlobId, resolveUrl, openHubFile, readSmallFile, readSafetensorsHead, MAX_SMALL_FILE } from './content.js';
export { compareOutputsWithTree, singleShardRoot, shardSizeOf } from './compare.js';
export type { BoundOutput, HubCompareOptions, HubCompareReport, HubFileResult, HubFileStatus } from './compare.js';

export interface VerifyOnHubOptions extends HubTreeOptions, Pick<HubCompareOptions, 'ignore' | 'maxReadBytes'> {
  /**
   * Validates a safetensors head (8-byte length + JSON header) given the file size; throws when malformed. When set,
   * every matched `*.safetensors` output's header is read by range and checked (in Node: parseSafetensorsHeader).
   */
  safetensorsHeader?: (head: Uint8Array, fileSize: number) => unknown;
}

/** Lists `ref` (a string or parsed reference) and compares `outputs` with it: one call for integrators. */
export async function verifyOutputsOnHub(ref: string | HubRef, outputs: readonly BoundOutput[], opts: VerifyOnHubOptions = {}): Promise<HubCompareReport> {
  const r = typeof ref === 'string' ? parseHubRef(ref) : ref;
  const http = new HubHttp(opts);
  const tree = await listHubTree(r, opts, http);
  const check = opts.safetensorsHeader;
  return compareOutputsWithTree(outputs, tree, {
    ignore: opts.ignore,
    maxReadBytes: opts.maxReadBytes,
    readFile: (f) => readSmallFile(http, r, f, opts.maxReadBytes),
    checkSafetensors: check
      ? async (f) => {
          const head = await readSafetensorsHead(http, r, f);
          check(head, f.size);
          return `safetensors header checked (${head.length - 8} bytes)`;
        }
      : undefined,
  });
}

/** Folds a Hub report into the AIBOM pipeline's ArtifactReport (names; unverifiable files count as mismatched). */
export function toArtifactReport(rep: HubCompareReport): ArtifactReport {
  const pick = (s: string) => rep.files.filter((f) => f.status === s);
  return {
    ok: rep.ok,
    matched: pick('match').map((f) => f.name),
    missing: pick('missing').map((f) => f.name),
    extra: pick('extra').map((f) => f.name),
    mismatched: [...pick('mismatch').map((f) => (f.reason ? `${f.name} (${f.reason})` : f.name)), ...pick('unverifiable').map((f) => `${f.name} (cannot be checked: ${f.reason})`)],
  };
}

/**
 * An `artifacts` callback for verifyAibom: the bound outputs are compared with the Hub commit `ref`. `onReport`
 * receives the full per-file report (conventional files included).
 */
export function hubArtifactVerifier(ref: string | HubRef, opts: VerifyOnHubOptions & { onReport?: (r: HubCompareReport) => void } = {}): ArtifactVerifier {
  const r = typeof ref === 'string' ? parseHubRef(ref) : ref;
  return async (expected) => {
    const rep = await verifyOutputsOnHub(r, expected, opts);
    opts.onReport?.(rep);
    return toArtifactReport(rep);
  };
}
