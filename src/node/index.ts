/** aicert/node: Node-only weight hashing at disk speed, artifact verification and hub-mode checks. */
export {
  hashFile,
  hashPaths,
  hashEntries,
  shardedDigestFile,
  shardedAlgorithm,
  parseShardedAlgorithm,
  shardRanges,
  shardedRoot,
  walkPaths,
  validateArtifactName,
  compareCodePoints,
  DEFAULT_READ_SIZE,
  DEFAULT_SHARD_SIZE,
} from './hashing.js';
export type { HashFileOptions, HashPathsOptions, FileDigest, FileEntry, WalkOptions } from './hashing.js';
export { verifyArtifacts, compareLfs, normalizeLfsDigest } from './artifacts.js';
export type { ExpectedArtifact, ArtifactPath, VerifyArtifactsOptions, ArtifactReport, LocalArtifactReport } from './artifacts.js';
export { validateSafetensorsHeader, parseSafetensorsHeader, MAX_HEADER_SIZE } from './safetensors.js';
export type { SafetensorsHeader, SafetensorsTensor } from './safetensors.js';
export { verifyModel } from './verify-model.js';
export type { VerifyModelOptions, VerifyModelResult } from './verify-model.js';
export { modelVerifier } from './model-verifier.js';
export type { ModelVerifierOptions } from './model-verifier.js';
export { globToRegExp, globMatcher } from './glob.js';
export { webRoot } from './web-root.js';
