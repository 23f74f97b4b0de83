/** aicert/runner (Node only): the measuring core of the reference runner — tpm2-tools wrapper, events, emitters. */
export { Tpm, TpmToolError, sha256Selection } from './tpm.js';
export type { AkAlg, AkHandle, QuoteResult } from './tpm.js';
export { Measurer, PyFloat, pyJsonDumps, sha256Hex, events, PCR_INPUTS, PCR_OUTPUTS, PCR_TLS } from './measure.js';
export type { PyJson, HfResource, PcrDevice } from './measure.js';
export {
  buildLegacyAttestation,
  buildStatement,
  buildAibomV1,
  encodeAibomV1Cbor,
  v1Qualification,
  digestFromResolved,
} from './emit.js';
export type { CertInput, RunMeta, AibomV1Input } from './emit.js';
export { uploadOutputs, chooseBlockSize, UploadError } from './upload.js';
