/**
 * One call for integrators (spec/cli.md §Model folders): verify an AIBOM or attestation.json together with the model
 * files and folders it certifies, hashed at disk speed. What `aicert-verify DOC --model PATH…` does, as a library.
 */
import { verifyAibom } from '../aibom/verify.js';
import type { VerifyAibomOptions, VerifyAibomResult } from '../aibom/types.js';
import type { ArtifactPath } from './artifacts.js';
import { globMatcher } from './glob.js';
import { modelVerifier, type LocalArtifactReport } from './model-verifier.js';

export interface VerifyModelOptions extends Omit<VerifyAibomOptions, 'artifacts'> {
  /** Files and folders of the model (a Hugging Face cache snapshot or a downloaded repository folder works as is). */
  model?: readonly ArtifactPath[];
  /** More non-output files: globs as `--ignore` takes them, or a predicate over relative POSIX names. */
  ignore?: readonly string[] | ((name: string) => boolean);
  /** Bytes hashed so far and the total. */
  onProgress?: (done: number, total: number | undefined) => void;
  workers?: number;
}

/** The pipeline's result plus the per-file report of the model files (when `model` was given). */
export type VerifyModelResult = VerifyAibomResult & { artifacts?: LocalArtifactReport };

/** Verifies `document` (bytes or text) and, with `model`, that the files on disk are exactly the certified outputs. */
export async function verifyModel(document: Uint8Array | string, opts: VerifyModelOptions = {}): Promise<VerifyModelResult> {
  const { model, ignore, onProgress, workers, ...rest } = opts;
  let local: LocalArtifactReport | undefined;
  const options: VerifyAibomOptions = { ...rest };
  if (model?.length) {
    const ig = typeof ignore === 'function' ? ignore : ignore?.length ? globMatcher(ignore) : undefined;
    options.artifacts = modelVerifier(model, { ignore: ig, onProgress, workers, onReport: (r) => (local = r) });
  }
  const doc = typeof document === 'string' ? new TextEncoder().encode(document) : document;
  const r = await verifyAibom(doc, options);
  return local ? { ...r, artifacts: local } : r;
}
