/**
 * Files and folders on disk as the `artifacts` callback of verifyAibom (spec/cli.md §Model folders): the bound
 * outputs are hashed at disk speed (node:crypto, worker threads) and compared; the full per-file report is handed
 * to `onReport`. A single file named on its own whose name is not bound may still match a bound output by content
 * (in-toto matches subjects by digest), once per bound output.
 */
import { statSync } from 'node:fs';
import type { ArtifactReport, ArtifactVerifier } from '../aibom/types.js';
import { verifyArtifacts, type ArtifactPath, type LocalArtifactReport, type VerifyArtifactsOptions } from './artifacts.js';
import { hashFile } from './hashing.js';
import { compareCodePoints } from './walk.js';

export type { LocalArtifactReport };

export interface ModelVerifierOptions extends Pick<VerifyArtifactsOptions, 'ignore' | 'conventional' | 'workers' | 'onProgress' | 'symlinks'> {
  /** Receives the per-file report (matched, missing, mismatched, extra, conventional). */
  onReport?: (r: LocalArtifactReport) => void;
}

/** Folds the per-file report into the pipeline's report (names only). */
export function toPipelineReport(r: LocalArtifactReport): ArtifactReport {
  return { ok: r.ok, matched: r.matched.map((m) => m.name), missing: r.missing, extra: r.extra.map((x) => x.name), mismatched: r.mismatched.map((m) => m.name) };
}

/** An ArtifactVerifier over files and directories on disk. */
export function modelVerifier(paths: readonly ArtifactPath[], opts: ModelVerifierOptions = {}): ArtifactVerifier {
  const { onReport, ...vopts } = opts;
  return async (expected) => {
    const bound = expected.map((e) => ({ name: e.name, digest: { sha256: e.sha256 } }));
    const r = await verifyArtifacts(bound, paths, vopts);
    const byDigest = new Map(expected.map((e) => [e.sha256.toLowerCase(), e.name]));
    const matchedNames = new Set(r.matched.map((m) => m.name));
    const extra: LocalArtifactReport['extra'] = [];
    for (const x of r.extra) {
      const single = paths.some((p) => (typeof p === 'string' ? p : p.path) === x.path) && statSync(x.path).isFile();
      const d = single ? (await hashFile(x.path)).sha256 : undefined;
      const name = d ? byDigest.get(d) : undefined;
      if (name && !matchedNames.has(name)) {
        matchedNames.add(name);
        r.matched.push({ name, path: x.path, algorithm: 'sha256', digest: d! });
        r.missing = r.missing.filter((n) => n !== name);
      } else extra.push(x);
    }
    r.extra = extra;
    r.matched.sort((a, b) => compareCodePoints(a.name, b.name));
    // a directory stands for the whole model: a bound file missing from it fails (requireAll)
    r.ok = r.matched.length > 0 && r.mismatched.length === 0 && r.extra.length === 0 && (!r.requireAll || r.missing.length === 0);
    onReport?.(r);
    return toPipelineReport(r);
  };
}
