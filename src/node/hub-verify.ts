/**
 * Hub mode for Node callers: verify an AIBOM together with a pinned Hub commit in one call (`verifyAibomWithHub`),
 * with safetensors headers checked by range, and the small glue `aicert-verify --hf` uses (flags and environment
 * to options, the per-file lines of the report). Spec: spec/hub.md §4.
 */
import { verifyAibom } from '../aibom/verify.js';
import type { ArtifactVerifier, VerifyAibomOptions, VerifyAibomResult } from '../aibom/types.js';
import { MalformedInputError } from '../errors.js';
import type { HubCompareReport, HubFileStatus } from '../hub/compare.js';
import { hubArtifactVerifier, type VerifyOnHubOptions } from '../hub/index.js';
import { parseHubRef, type HubRef } from '../hub/ref.js';
import { parseSafetensorsHeader } from './safetensors.js';
import { safe } from '../util/escape.js';

export interface VerifyAibomWithHubOptions extends Omit<VerifyAibomOptions, 'artifacts'> {
  /** Endpoint, token, allowHosts, ignore, limits (spec/hub.md §2). Safetensors headers are checked unless `false`. */
  hub?: VerifyOnHubOptions & { checkSafetensors?: boolean };
}

export type VerifyAibomWithHubResult = VerifyAibomResult & {
  /** The per-file comparison, when the pipeline reached the artifacts step. */
  hub?: HubCompareReport;
};

/** An artifacts callback on the Hub with the Node safetensors header check; `onReport` receives the full report. */
export function nodeHubVerifier(ref: string | HubRef, hub: VerifyAibomWithHubOptions['hub'] = {}, onReport?: (r: HubCompareReport) => void): ArtifactVerifier {
  const { checkSafetensors, ...rest } = hub;
  return hubArtifactVerifier(ref, {
    ...(checkSafetensors === false ? {} : { safetensorsHeader: parseSafetensorsHeader }),
    ...rest,
    onReport,
  });
}

/**
 * Verifies `doc` (as verifyAibom) and compares its bound outputs with the Hub commit `ref` (`ORG/NAME@<commit>` or
 * `datasets/…`). A lying Hub makes the result invalid with a HUB_* code; a malformed reference throws.
 */
export async function verifyAibomWithHub(doc: Uint8Array | string | object, ref: string | HubRef, options: VerifyAibomWithHubOptions = {}): Promise<VerifyAibomWithHubResult> {
  const r = typeof ref === 'string' ? parseHubRef(ref) : ref;
  let report: HubCompareReport | undefined;
  const { hub, ...rest } = options;
  const res = await verifyAibom(doc, { ...rest, artifacts: nodeHubVerifier(r, hub, (x) => (report = x)) });
  return report ? { ...res, hub: report } : res;
}

/** `--hf` / `--hf-endpoint` with HF_ENDPOINT and HF_TOKEN (and `--ignore` as a predicate): the callback and its report. */
export function hubFromCli(
  hf: string | undefined,
  endpoint: string | undefined,
  env: NodeJS.ProcessEnv,
  ignore?: (path: string) => boolean,
): { artifacts: ArtifactVerifier; report: () => HubCompareReport | undefined } {
  if (hf === undefined) throw new MalformedInputError('--hf-endpoint needs --hf ORG/NAME@<40-hex commit>', { path: 'hf-endpoint' });
  const ref = parseHubRef(hf, 'hf');
  let report: HubCompareReport | undefined;
  const token = env.HF_TOKEN || undefined;
  const artifacts = nodeHubVerifier(ref, { endpoint: endpoint ?? (env.HF_ENDPOINT || undefined), token, ignore }, (r) => (report = r));
  return { artifacts, report: () => report };
}

const MARK: Record<HubFileStatus, string> = { match: '✓', mismatch: '✗', missing: '✗', extra: '✗', unverifiable: '✗', conventional: '–' };

/** Human lines, every untrusted part escaped once (src/util/escape.ts): one per file (bounded list, then a count), e.g. `✗ pytorch_model.bin  extra: in the commit, not bound`. */
export function hubReportLines(r: HubCompareReport, maxFiles = 50): string[] {
  const c = r.counts;
  const out = [`Hub ${safe(r.ref, 300)}: ${c.match} match, ${c.mismatch} mismatch, ${c.missing} missing, ${c.extra} not bound, ${c.unverifiable} not checkable, ${c.conventional} conventional`];
  const shown = [...r.files.filter((f) => f.status !== 'match' && f.status !== 'conventional'), ...r.files.filter((f) => f.status === 'match' || f.status === 'conventional')];
  for (const f of shown.slice(0, maxFiles)) {
    const how = f.status === 'match' ? `${f.algorithm} ${f.via === 'lfs-oid' ? '= LFS oid' : 'of the bytes'}` : f.status;
    out.push(`  ${MARK[f.status]} ${safe(f.name, 300)}  ${how}${f.reason ? `: ${safe(f.reason, 200)}` : ''}`);
  }
  if (shown.length > maxFiles) out.push(`  … and ${shown.length - maxFiles} more files`);
  return out;
}
