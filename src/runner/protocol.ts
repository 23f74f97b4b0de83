/**
 * Wire types of the runner protocol shared by the reference runner (src/runner/server.ts) and the launcher
 * (src/launcher/runner-client.ts). The protocol is the original aicert runner's HTTP API plus nonces:
 * spec/runner-protocol.md. Types only and constants: no Node APIs.
 */

/** Capability marker the runner adds to /aTLS answers; an original runner does not send it. */
export const RUNNER_PROTOCOL = 'https://aicert.dev/runner/v1';

/** PCR the runner extends the launch nonce (from the VM's userData) into, before it serves: sha256(nonce bytes). */
export const PCR_LAUNCH = 23;

/** Nonces are 32 random bytes, sent as 64 lowercase hex digits. */
export const NONCE_BYTES = 32;
export const NONCE_HEX = /^[0-9a-f]{64}$/;

/** Bytes in the original's JSON encoding (FastAPI custom_encoder). */
export interface B64 {
  base64: string;
}

/** The original attestation.json layout (spec/aibom-v1.md §7); /aTLS answers with the same shape. */
export interface LegacyAttestationJson {
  ca_cert: string;
  event_log: string[];
  output_event_log: string[];
  remote_attestation: { quote: { message: B64; signature: B64; pcr: B64 }; cert_chain: B64[] } | { simulation_mode: true };
}

/** Our additions to the /aTLS answer (ignored by original clients). */
export interface AtlsExtension {
  protocol: typeof RUNNER_PROTOCOL;
  /** The nonce the quote was bound with (hex), echoed. */
  nonce: string;
  /** qualifyingData = sha256(sha256(DER SPKI of the TLS certificate) ‖ nonce), hex. */
  qualification: string;
  /** TPM2B_PUBLIC of the AK, base64. */
  ak_public: string;
  /** Launch binding: PCR index and whether a launch nonce was extended. */
  launch: { pcr: number; extended: boolean };
}

/** GET /aTLS?nonce=HEX answer. */
export type AtlsResponse = LegacyAttestationJson & { aicert?: AtlsExtension };

/** POST /storage-upload request body. */
export interface StorageUploadRequest {
  /** Container URL with a SAS query (create + write). */
  sas_url: string;
  /** Blob name prefix (e.g. `<run id>/`), POSIX, may be empty. */
  prefix?: string;
}

/** One uploaded output. */
export interface UploadedBlob {
  path: string;
  blob: string;
  size: number;
  sha256: string;
}

/** POST /storage-upload answer. */
export interface StorageUploadResponse {
  uploaded: UploadedBlob[];
}

/** GET /status answer (our addition, a machine-readable view of /build/status). */
export interface RunnerStatus {
  state: 'idle' | 'configured' | 'running' | 'done' | 'failed';
  error?: string;
}
