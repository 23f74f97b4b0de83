/**
 * Wire types of the runner protocol shared by the reference runner (src/runner/server.ts) and the launcher
 * (src/launcher/runner-client.ts). The protocol is the original aicert runner's HTTP API plus nonces:
 * spec/runner-protocol.md. Types only and constants: no Node APIs.
 */

/** Capability marker the runner adds to /aTLS answers; an original runner does not send it. */
export const RUNNER_PROTOCOL = 'https://aicert.dev/runner/v1';

/**
 * PCR the runner measures the launch nonce (from the VM's userData) into, as the first app event, before it serves.
 * PCR 14 is not resettable from any locality (PCRs 16 and 23 are, at locality 0), and replay proves the position.
 */
export const PCR_LAUNCH = 14;

/** The exact first PCR 14 event string (Python json.dumps layout, as every app event): binds the run to the launch. */
export function launchEvent(nonceSha256Hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(nonceSha256Hex)) throw new TypeError('launch nonce digest must be 64 lowercase hex');
  return `{"event_type": "launch", "content": {"nonce_sha256": "${nonceSha256Hex}"}}`;
}

/** TLS exporter label of the aTLS channel binding (RFC 8446 §7.5, RFC 5705): spec/runner-protocol.md §aTLS. */
export const ATLS_EXPORTER_LABEL = 'EXPORTER-aicert-atls-v2';
/** Exporter output length in bytes. */
export const ATLS_EXPORTER_BYTES = 32;
/** The binding the runner reports in `aicert.binding` when the quote covers the exporter value. */
export const ATLS_BINDING = 'tls-exporter';

/** Nonces are 32 random bytes, sent as 64 lowercase hex digits. */
export const NONCE_BYTES = 32;
export const NONCE_HEX = /^[0-9a-f]{64}$/;

/** Bytes in the original's JSON encoding (FastAPI custom_encoder). */
export interface B64 {
  base64: string;
}

/** The original attestation.json layout (provenance-formats.md §4); /aTLS answers with the same shape. */
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
  /** qualifyingData = sha256(sha256(DER SPKI of the TLS leaf) ‖ nonce ‖ exporter), hex (spec/runner-protocol.md §aTLS). */
  qualification: string;
  /** `tls-exporter` when the exporter value of this very connection is in the qualification. */
  binding?: typeof ATLS_BINDING;
  /** TPM2B_PUBLIC of the AK, base64. */
  ak_public: string;
  /** Launch binding: PCR index (14, first app event) and whether a launch nonce was measured. */
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
