/** TPM 2.0 constants (TPM 2.0 Library Part 2: Structures, https://trustedcomputinggroup.org/resource/tpm-library-specification/). */

/** TPM_GENERATED_VALUE (Part 2 §6.2): every TPM-made attestation starts with it. */
export const TPM_GENERATED = 0xff544347;

/** TPM_ST attestation structure tags (Part 2 §6.9). */
export const TPM_ST = {
  ATTEST_NV: 0x8014,
  ATTEST_COMMAND_AUDIT: 0x8015,
  ATTEST_SESSION_AUDIT: 0x8016,
  ATTEST_CERTIFY: 0x8017,
  ATTEST_QUOTE: 0x8018,
  ATTEST_TIME: 0x8019,
  ATTEST_CREATION: 0x801a,
  ATTEST_NV_DIGEST: 0x801c,
} as const;

export const ATTEST_TYPE_NAMES: Record<number, string> = {
  0x8014: 'nv',
  0x8015: 'command-audit',
  0x8016: 'session-audit',
  0x8017: 'certify',
  0x8018: 'quote',
  0x8019: 'time',
  0x801a: 'creation',
  0x801c: 'nv-digest',
};

/** TPMA_OBJECT bits (Part 2 §8.3). */
export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  stClear: 1 << 2,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  adminWithPolicy: 1 << 7,
  noDA: 1 << 10,
  encryptedDuplication: 1 << 11,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
  x509sign: 1 << 19,
} as const;

/** TPM_ECC_CURVE (Part 2 §6.4) with the names WebCrypto and JWK use. */
export const ECC_CURVES: Record<number, { name: string; jwk?: 'P-256' | 'P-384' | 'P-521'; size: number }> = {
  0x0001: { name: 'nist-p192', size: 24 },
  0x0002: { name: 'nist-p224', size: 28 },
  0x0003: { name: 'nist-p256', jwk: 'P-256', size: 32 },
  0x0004: { name: 'nist-p384', jwk: 'P-384', size: 48 },
  0x0005: { name: 'nist-p521', jwk: 'P-521', size: 66 },
  0x0010: { name: 'bn-p256', size: 32 },
  0x0011: { name: 'bn-p638', size: 80 },
  0x0020: { name: 'sm2-p256', size: 32 },
};

/** Size caps from the reference implementation's TPMU unions, used to bound TPM2B reads. */
export const MAX = {
  /** sizeof(TPMU_HA) */
  DIGEST: 64,
  /** sizeof(TPMU_NAME): a TPMT_HA with the largest digest. */
  NAME: 66,
  /** sizeof(TPMT_HA) */
  DATA: 66,
  /** MAX_RSA_KEY_BYTES for 4096-bit keys */
  RSA_KEY_BYTES: 512,
  /** MAX_ECC_KEY_BYTES for P-521 / BN-P638 */
  ECC_KEY_BYTES: 80,
  /** MAX_NV_BUFFER_SIZE (generous) */
  NV_BUFFER: 2048,
  /** HASH_COUNT bound for TPML_PCR_SELECTION */
  PCR_BANKS: 16,
  /** PCR_SELECT_MAX bytes (up to 32 PCRs) */
  PCR_SELECT_BYTES: 4,
} as const;
