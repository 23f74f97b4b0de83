/**
 * Wire types of the upload job (spec/runner-protocol.md §Upload): `POST /storage-upload` starts the job (or renews
 * its SAS while it runs) and returns at once; `GET /storage-upload` reports its progress, bytes done per file.
 * Types only: the runner (src/runner/upload-job.ts) and the launcher (src/launcher/upload-follow.ts) import them; spec/launcher.md.
 */
import type { StorageUploadRequest, UploadedBlob } from './protocol.js';

/** POST /storage-upload body. */
export interface UploadStartRequest extends StorageUploadRequest {
  /** Per-blob SAS queries (no leading '?'), keyed by output path; when given they replace sas_url's own query. */
  blob_sas?: Record<string, string>;
  /** When the SAS expires (ISO 8601), for the status report. */
  sas_expires_on?: string;
  /** Blocks in flight at once, 1..32 (default 4). */
  parallel?: number;
  /** Retries per request: attempts 1..20 (default 10), back-off base and cap in ms (default 500 and 60,000). */
  retry?: { attempts?: number; base_delay_ms?: number; max_delay_ms?: number };
  /** Re-send files even when storage already holds them with the right size and sha256 metadata. */
  force?: boolean;
}

export type UploadJobState = 'idle' | 'running' | 'done' | 'failed';

export interface UploadFileStatus {
  path: string;
  size: number;
  sha256: string;
  /** Bytes of this file in storage (staged or committed). */
  done: number;
  state: 'pending' | 'uploading' | 'done';
}

/** GET /storage-upload answer (also the POST answer). */
export interface UploadJobStatus {
  state: UploadJobState;
  /** Jobs started so far (a failed job may be started again; it resumes). */
  attempt: number;
  files: UploadFileStatus[];
  bytes_done: number;
  bytes_total: number;
  /** Bytes actually sent by the jobs (less than bytes_total when a job resumed). */
  bytes_sent: number;
  /** Retries of single requests so far (dropped connections, 429, 5xx). */
  retries: number;
  sas_expires_on?: string;
  error?: string;
  /** When state is done: what is in storage. */
  uploaded?: UploadedBlob[];
}
