/**
 * aicert/aibom: AIBOM documents (the original aicert attestation.json and AIBOM v1, JSON or CBOR), policies, and
 * verifyAibom. Runs in Node and browsers. Formats: spec/aibom-v1.md, spec/policy.md.
 */
export { verifyAibom } from './verify.js';
export { parseAibom, decodeDocument } from './parse.js';
export { parseLegacy, isLegacyDocument } from './legacy.js';
export { parseV1, parseStatement, isAibomDocument, aibomToCbor, aibomToJson, AIBOM_V1_TYPE, INTOTO_STATEMENT_V1, SLSA_PROVENANCE_V1 } from './v1.js';
export { decodeCbor, encodeCbor, scanCbor, looksLikeCbor } from './cbor.js';
export { parseStrictJson, canonicalBase64 } from './json.js';
export { decodeEvents, readFacts, normaliseHash } from './events.js';
export type { AppEvent, AppFacts } from './events.js';
export { claimsFromFacts, checkStatement } from './claims.js';
export {
  parsePolicy,
  parseContainers,
  policyFromMeasurements,
  policyFromLog,
  policyToJson,
  mergePolicies,
  normaliseRepoRef,
  POLICY_V1_TYPE,
} from './policy.js';
export type { Policy, BootEventRule } from './policy.js';
export { sha256Of, checkArtifacts } from './artifacts.js';
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
} from './types.js';
export { exportInToto, exportCycloneDx } from './export.js';
export type { InTotoExport, CycloneDxOptions } from './export.js';
