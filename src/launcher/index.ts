/** aicert/launcher (Node only): config checks, Azure provisioning over ARM REST, run state and teardown. */
export {
  ConfigError,
  DEFAULT_VM_SIZE,
  checkAzureValue,
  loadConfig,
  parseConfig,
  resolveAzureSettings,
  type AzureSettings,
  type LauncherConfig,
  type PinnedDataset,
  type PinnedRepo,
} from './config.js';
export {
  ARM_ENDPOINT,
  ARM_SCOPE,
  ArmClient,
  ArmHttpError,
  ArmOperationError,
  ArmTimeoutError,
  CloudError,
  abortableSleep,
  httpsFetch,
  retryAfterMs,
  type ArmClientOptions,
  type FetchLike,
  type TokenCredential,
} from './arm.js';
export {
  API_VERSIONS,
  InterruptedError,
  createRun,
  downRun,
  launchUserData,
  parseLaunchUserData,
  provision,
  teardown,
  withCleanup,
  type ProvisionOptions,
  type ProvisionedVm,
  type TeardownReport,
} from './provision.js';
export {
  RunFile,
  RunNotFoundError,
  aicertHome,
  isRunId,
  listRuns,
  newRunId,
  type ResourceKind,
  type ResourceRecord,
  type ResourceStatus,
  type RunState,
  type RunStatus,
} from './state.js';
// The fine-tune flow: attested TLS with a nonce, the runner protocol, blob storage, end-to-end verification.
export { runFinetune, type FinetuneOptions, type FinetuneResult } from './finetune.js';
export { attestRunner, REPLAYABLE_WARNING, type AtlsOptions, type AtlsSession } from './atls.js';
export { RunnerClient, RunnerError } from './runner-client.js';
export { parseContainerUrl, makeUploadSas, makeBlobSas, sasLifetimeMs, downloadOutputs, storageAuthFromEnv, StorageError, type ContainerRef, type StorageAuth } from './blob.js';
export { saveOutputs, OutputGuard, type SaveOutputsOptions } from './upload-follow.js';
