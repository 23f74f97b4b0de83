/**
 * Typed errors. Every failure in aicert is one of these three (plus TypeError for wrong argument types).
 * - MalformedInputError: the bytes or document could not be parsed; carries a byte offset or field path.
 * - VerificationError: the evidence is not genuine or not consistent; carries a stable `code`.
 * - PolicyError: the evidence is genuine but not allowed by the caller's policy.
 */

/** Stable verification failure codes. New codes may be added; existing ones never change meaning. */
export type VerificationCode =
  | 'MAGIC_INVALID'
  | 'ATTEST_TYPE_INVALID'
  | 'NONCE_MISMATCH'
  | 'PCR_SELECTION_MISMATCH'
  | 'PCR_DIGEST_MISMATCH'
  | 'PCR_VALUES_MISSING'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_SCHEME_MISMATCH'
  | 'HASH_NOT_ALLOWED'
  | 'KEY_UNSUPPORTED'
  | 'KEY_TOO_SMALL'
  | 'AK_NOT_RESTRICTED_SIGNING'
  | 'AK_KEY_MISMATCH'
  | 'CERT_CHAIN_INVALID'
  | 'CERT_UNTRUSTED_ROOT'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_SIGNATURE_INVALID'
  | 'CERT_EKU_MISSING'
  | 'CERT_CONSTRAINTS_INVALID'
  | 'CERT_UNHANDLED_CRITICAL_EXTENSION'
  | 'PCR_REPLAY_MISMATCH'
  | 'PCR_NOT_QUOTED'
  | 'BANK_MISSING'
  | 'EVENT_DIGEST_MISMATCH'
  | 'BINDING_MISMATCH'
  | 'ARTIFACT_MISMATCH'
  | 'ARTIFACT_MISSING'
  | 'SIMULATION_MODE'
  | (string & {});

abstract class AicertError extends Error {
  abstract readonly code: string;
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
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** True for any of aicert's own typed errors. */
export function isAicertError(e: unknown): e is MalformedInputError | VerificationError | PolicyError {
  return e instanceof MalformedInputError || e instanceof VerificationError || e instanceof PolicyError;
}
