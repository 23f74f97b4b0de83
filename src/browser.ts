/** Browser bundle entry (dist/browser/aicert.js): the same API as `aicert`, with its dependencies inlined. */
export * from './errors.js';
export * from './tpm/index.js';
export * from './eventlog/index.js';
export * from './aibom/index.js';
