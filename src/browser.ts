/** Browser bundle entry (dist/browser/aicert.js): the same API as `aicert`, with its dependencies inlined. */
export * from './index.js';
