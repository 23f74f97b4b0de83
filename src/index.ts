/** aicert: verify AI model provenance — TPM 2.0 quotes, TCG event logs and AIBOM certificates. */
export * from './errors.js';
export * from './tpm/index.js';
export * from './eventlog/index.js';
export * from './aibom/index.js';
