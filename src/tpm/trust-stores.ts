/**
 * Named AK trust stores whose anchors carry their own leaf rules (spec/confidential-vms.md §Trust stores):
 * - `azure`: the Azure Virtual TPM Root CA 2023; its AK leaves must carry the TCG AIK (or EK) EKU.
 * - `gce`: Google's "EK/AK CA Root"; its 2024+ AK leaves carry no EKU, so a leaf without one is accepted, and a
 *   leaf with an EKU must still name a TCG purpose (fluorite's rule; go-tpm-tools accepts any EKU).
 * A path is judged by the rule of the anchor it actually ends at, so mixing stores never relaxes Azure's rule.
 */
import { VerificationError } from '../errors.js';
import type { CertInput } from './x509-der.js';
import { parseCertificates } from './x509-der.js';
import { parseCert } from './x509-cert.js';
import { AZURE_VTPM_ROOTS } from './trust-azure.js';
import { GCE_EK_AK_ROOT } from './trust-google.js';

/** How an anchor judges its AK leaves' EKU: required, only checked when present, or not checked. */
export type EkuRule = 'required' | 'if-present' | 'none';

export interface TrustAnchorRule {
  anchor: CertInput;
  eku: EkuRule;
}

export type TrustStoreName = 'azure' | 'gce';
export const TRUST_STORE_NAMES: readonly TrustStoreName[] = ['azure', 'gce'];

/** The anchors and rules of a named store. */
export function trustStore(name: TrustStoreName): TrustAnchorRule[] {
  if (name === 'azure') return AZURE_VTPM_ROOTS.map((anchor) => ({ anchor, eku: 'required' as const }));
  if (name === 'gce') return [{ anchor: GCE_EK_AK_ROOT, eku: 'if-present' }];
  throw new TypeError(`unknown trust store ${String(name)} (known: ${TRUST_STORE_NAMES.join(', ')})`);
}

const TCG_EKUS = ['2.23.133.8.3', '2.23.133.8.1'];

/**
 * Applies the EKU rule of the anchor a validated path ended at (`anchorSha256`: hex SHA-256 of its DER).
 * Anchors without a rule use `fallback` (the caller's requireAikEku). Returns a warning to report, if any.
 */
export function applyAnchorEkuRule(leafEku: string[] | undefined, anchorSha256: string, rules: TrustAnchorRule[], fallback: boolean): string | undefined {
  const rule = rules.find((r) => parseCertificates(r.anchor, 'anchorRules').some((d) => parseCert(d, 'anchorRules').sha256 === anchorSha256))?.eku ?? (fallback ? 'required' : 'none');
  const has = (leafEku ?? []).some((e) => TCG_EKUS.includes(e));
  if (rule === 'none') return 'EKU requirement relaxed (requireAikEku: false)';
  if (rule === 'if-present' && leafEku === undefined) return 'AK certificate has no EKU extension (accepted by its trust anchor\'s rule)';
  if (!has) {
    throw new VerificationError('CERT_EKU_MISSING', `AK certificate EKU [${(leafEku ?? []).join(', ')}] has neither ${TCG_EKUS.join(' nor ')}`, { eku: leafEku ?? [] });
  }
  return undefined;
}
