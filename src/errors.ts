/**
 * Typed errors. Every failure in aicert is one of these three (plus TypeError for wrong argument types).
 * - MalformedInputError: the bytes or document could not be parsed; carries a byte offset or field path.
 * - VerificationError: the evidence is not genuine or not consistent; carries a stable `code`.
 * - PolicyError: the evidence is genuine but not allowed by the caller's policy.
 */

/**
 * The closed set of VerificationError codes (spec/verification.md §Error codes). A code is added here, in the block
 * of its area, before it is raised; existing codes never change meaning. test/error-codes.test.ts fails when src
 * raises a code that is not listed, or lists one that nothing raises.
 */
export const VERIFICATION_CODES = [
  // Quote (src/tpm/quote.ts).
  'MAGIC_INVALID',
  'ATTEST_TYPE_INVALID',
  'NONCE_MISMATCH',
  'PCR_SELECTION_MISMATCH',
  'PCR_DIGEST_MISMATCH',
  'PCR_VALUES_MISSING',
  'SIGNATURE_INVALID',
  'SIGNATURE_SCHEME_MISMATCH',
  'HASH_NOT_ALLOWED',
  'QUOTE_TIMING_REGRESSION',
  // AK and EK keys (src/tpm/keys.ts, quote.ts, credential.ts).
  'KEY_UNSUPPORTED',
  'KEY_TOO_SMALL',
  'KEY_EXPONENT_INVALID',
  'AK_NOT_RESTRICTED_SIGNING',
  'AK_KEY_MISMATCH',
  'EK_NOT_STORAGE_KEY',
  // Certificate paths (src/tpm/x509-path.ts, akcert.ts).
  'CERT_CHAIN_INVALID',
  'CERT_UNTRUSTED_ROOT',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_INVALID',
  'CERT_EKU_MISSING',
  'CERT_CONSTRAINTS_INVALID',
  'CERT_UNHANDLED_CRITICAL_EXTENSION',
  // Event-log replay (src/eventlog/verify.ts, src/aibom/steps/logs.ts).
  'PCR_REPLAY_MISMATCH',
  'PCR_NOT_QUOTED',
  'BANK_MISSING',
  // AIBOM binding, claims and artifacts (src/aibom).
  'BINDING_MISMATCH',
  'CLAIMS_MISMATCH',
  'ARTIFACT_MISMATCH',
  'ARTIFACT_MISSING',
  'SIMULATION_MODE',
  // Launcher: attested TLS to the runner and the measured config (src/launcher).
  'ATLS_MALFORMED',
  'TLS_CERT_MISMATCH',
  'TLS_PCR_MISMATCH',
  'LAUNCH_NONCE_MISMATCH',
  'PCR_POLICY_MISMATCH',
  'REPLAYABLE_ATTESTATION',
  'CONFIG_MISMATCH',
  'SESSION_MISMATCH',
  // Hugging Face Hub client (src/hub, src/node/hub-download.ts; spec/hub.md §6). Every Hub answer is untrusted.
  'HUB_UNAVAILABLE', // the Hub could not answer: network error, HTTP error status (401/403 gated, 404 not found)
  'HUB_RESPONSE_INVALID', // an answer outside the documented shape or the size bounds (garbage, oversized, truncated)
  'HUB_COMMIT_MISMATCH', // the Hub answered for another commit than the pinned one
  'HUB_REDIRECT_REFUSED', // a redirect to a host outside the allow-list, a scheme downgrade, or too many redirects
  'HUB_PATH_UNSAFE', // a tree path that is not a safe relative POSIX path (traversal, backslash, control character)
  'HUB_CONTENT_MISMATCH', // downloaded bytes differ from the tree listing's LFS sha256 / git blob id / size
  // Confidential VMs and cloud AK chains (spec/confidential-vms.md): one code per link of the chain.
  'SNP_VCEK_MISSING',
  'SNP_VCEK_INVALID',
  'SNP_VCEK_MISMATCH',
  'SNP_REPORT_SIGNATURE_INVALID',
  'SNP_REPORT_BINDING_MISMATCH',
  'HCL_RUNTIME_DATA_MISMATCH',
  'HCL_AK_MISSING',
  'HCL_REPORT_TYPE_UNSUPPORTED',
  'TDX_QUOTE_MISSING',
  'TDX_QUOTE_SIGNATURE_INVALID',
  'TDX_QE_REPORT_SIGNATURE_INVALID',
  'TDX_QE_BINDING_MISMATCH',
  'TDX_REPORT_MISMATCH',
  'TDX_QE_IDENTITY_MISMATCH', // the QE report is not Intel's TD quoting enclave (MRSIGNER, ISVPRODID, attributes)
] as const;

/** Stable verification failure codes (closed: see VERIFICATION_CODES). */
export type VerificationCode = (typeof VERIFICATION_CODES)[number];

/** The closed set of PolicyError codes (spec/policy.md): genuine evidence the policy does not allow. */
export const POLICY_CODES = [
  'PCR_NOT_QUOTED',
  'PCR_VALUE_NOT_ALLOWED',
  'BOOT_LOG_REQUIRED',
  'BOOT_EVENT_NOT_ALLOWED',
  'CONTAINER_NOT_ALLOWED',
  'BASE_MODEL_NOT_ALLOWED',
  'DATASET_NOT_ALLOWED',
  'REQUIRED_EVENT',
  'REQUIRED_EVENT_ORDER',
  'PLATFORM_NOT_ALLOWED',
  // Training confinement (spec/policy.md allowUnconfinedTraining) and confidential-VM policy (spec/confidential-vms.md).
  'UNCONFINED_TRAINING',
  'SNP_DEBUG_GUEST',
  'TDX_DEBUG_TD',
  'SNP_VMPL_NOT_ALLOWED',
  'CVM_MEASUREMENT_NOT_PINNED',
  'CVM_POLICY_MISMATCH',
] as const;

export type PolicyCode = (typeof POLICY_CODES)[number];

/** Every code an aicert typed error can carry. */
export type AicertErrorCode = VerificationCode | PolicyCode | 'MALFORMED_INPUT';

abstract class AicertError extends Error {
  abstract readonly code: AicertErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that could not be parsed. `offset` is a byte offset, `path` a field path such as `quote.signature`. */
export class MalformedInputError extends AicertError {
  readonly code = 'MALFORMED_INPUT';
  readonly offset: number | undefined;
  readonly path: string | undefined;
  constructor(message: string, where: { offset?: number; path?: string } = {}, options?: { cause?: unknown }) {
    const loc = [where.path, where.offset !== undefined ? `offset ${where.offset}` : undefined].filter(Boolean).join(', ');
    super(loc ? `${message} (at ${loc})` : message, options);
    this.offset = where.offset;
    this.path = where.path;
  }
}

/** Evidence that parsed but is not genuine or not self-consistent. */
export class VerificationError extends AicertError {
  readonly code: VerificationCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: VerificationCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** Evidence that is genuine but not allowed by the policy in force. */
export class PolicyError extends AicertError {
  readonly code: PolicyCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: PolicyCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** True for any of aicert's own typed errors. */
export function isAicertError(e: unknown): e is MalformedInputError | VerificationError | PolicyError {
  return e instanceof MalformedInputError || e instanceof VerificationError || e instanceof PolicyError;
}
