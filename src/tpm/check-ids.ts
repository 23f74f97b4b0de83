/** The closed sets of check ids the TPM verifiers report (README §What it checks, spec/verification.md §Quote). */

/** verifyQuote's checks, in the order they run. */
export const QUOTE_CHECK_IDS = [
  'attest.magic',
  'attest.type',
  'ak.attributes',
  'ak.keySize',
  'signature.scheme',
  'signature.hash',
  'signature',
  'nonce',
  'pcrs',
  'pcrs.selection',
  'pcrs.digest',
  'clock',
] as const;
export type QuoteCheckId = (typeof QUOTE_CHECK_IDS)[number];

/** verifyTdxEvidence's checks (spec/confidential-vms.md §TDX). */
export const TDX_CHECK_IDS = ['tdx.pck.chain', 'tdx.qe-report.signature', 'tdx.qe-identity', 'tdx.qe-report.binding', 'tdx.quote.signature', 'tdx.report.match', 'tdx.tcb-status'] as const;
export type TdxCheckId = (typeof TDX_CHECK_IDS)[number];
