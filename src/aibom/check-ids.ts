/**
 * The closed set of check ids verifyAibom reports (spec/aibom-v1.md §Verification): its own steps, the quote's
 * checks under `quote.` and the TD quote's under `cvm.`. `VerifyAibomResult.checks[].id` has this type.
 */
import type { QuoteCheckId, TdxCheckId } from '../tpm/check-ids.js';

export const AIBOM_CHECK_IDS = [
  'document',
  'simulation',
  'ak.certificate',
  'ak.binding',
  'cvm',
  'cvm.ak',
  'cvm.runtime-data',
  'cvm.snp.policy.debug',
  'cvm.snp.report.signature',
  'cvm.snp.vcek.chain',
  'cvm.snp.vcek.tcb',
  'cvm.snp.vmpl',
  'cvm.tdx.debug',
  'cvm.tdx',
  'quote',
  'nonce',
  'binding.quote',
  'binding.statement',
  'bootlog',
  'applog',
  'applog.pcr14',
  'applog.pcr8',
  'applog.pcr15',
  'policy.platform',
  'policy.pcrs',
  'policy.bootEvents',
  'policy.containers',
  'policy.baseModel',
  'policy.datasets',
  'policy.events',
  'policy.platformSubject',
  'policy.sandbox',
  'policy.confidentialVm',
  'policy.confidentialVm.measurement',
  'claims',
  'artifacts',
  'verify',
] as const;

/** One id of a verifyAibom check. */
export type AibomCheckId = (typeof AIBOM_CHECK_IDS)[number] | `quote.${QuoteCheckId | 'verify'}` | `cvm.${TdxCheckId}`;
