/**
 * aicert: verify AI model provenance — TPM 2.0 quotes, TCG event logs and AIBOM certificates.
 * The root exports the public API on purpose, one line each in spec/api.md (test/api.test.ts keeps them equal);
 * parsers and building blocks stay in the subpath modules aicert/tpm, aicert/eventlog and aicert/aibom.
 */
// Typed errors and their closed code sets (spec/verification.md §Error codes, spec/policy.md).
export { MalformedInputError, VerificationError, PolicyError, isAicertError, VERIFICATION_CODES, POLICY_CODES } from './errors.js';
export type { VerificationCode, PolicyCode, AicertErrorCode } from './errors.js';
// AIBOM documents and policies (spec/aibom-v1.md, spec/policy.md).
export { verifyAibom } from './aibom/verify.js';
export { parseAibom } from './aibom/parse.js';
export { parsePolicy, policyFromLog, policyFromMeasurements, policyToJson, mergePolicies } from './aibom/policy.js';
export type { Policy, BootEventRule } from './aibom/policy.js';
export { exportInToto, exportCycloneDx } from './aibom/export.js';
export type { InTotoExport, CycloneDxOptions } from './aibom/export.js';
export type {
  Claims,
  Evidence,
  PinnedRepo,
  ArtifactSource,
  ArtifactReport,
  ArtifactVerifier,
  VerifyAibomOptions,
  VerifyAibomResult,
  VerifyAibomValid,
  VerifyAibomInvalid,
  VerifyAibomFailure,
} from './aibom/types.js';
// TPM quotes, AK certificates and trust stores (spec/verification.md, spec/confidential-vms.md).
export { verifyQuote } from './tpm/quote.js';
export type { VerifyQuoteInput, VerifyQuoteOptions, QuoteVerification, Check } from './tpm/quote.js';
export type { PcrValues } from './tpm/pcr-values.js';
export { verifyAkChain } from './tpm/akcert.js';
export type { CertInput, AkChainOptions, AkChainResult, CertSummary } from './tpm/akcert.js';
export { verifyAkQuote } from './tpm/ak-quote.js';
export type { VerifyAkQuoteInput, AkQuoteVerification } from './tpm/ak-quote.js';
export { verifyConfidentialVmQuote } from './tpm/cvm.js';
export type { ConfidentialVmInput, ConfidentialVmOptions, ConfidentialVmVerification } from './tpm/cvm.js';
export { makeCredential } from './tpm/credential.js';
export type { MakeCredentialInput, MadeCredential } from './tpm/credential.js';
export { trustStore, TRUST_STORE_NAMES } from './tpm/trust-stores.js';
export type { TrustAnchorRule, TrustStoreName, EkuRule } from './tpm/trust-stores.js';
// Event logs (spec/eventlog-formats.md): parse any supported format, then replay against quoted PCRs.
export { parseEventLog } from './eventlog/detect.js';
export type { ParseEventLogOptions } from './eventlog/detect.js';
export { verifyLog } from './eventlog/verify.js';
export type { VerifyLogOptions, LogVerification, PcrVerdict, PolicyFinding } from './eventlog/verify.js';
export { compareLog } from './eventlog/compare.js';
export type { LogComparison, PcrComparison, ComparisonStatus } from './eventlog/compare.js';
export type { EventLog, LogEvent, LogFormat, PcrBanks, EventDigest } from './eventlog/types.js';
