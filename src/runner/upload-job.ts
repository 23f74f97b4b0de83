/**
 * The runner's upload job (spec/runner-protocol.md §Upload): one at a time, in the background, with progress per
 * file. A POST while it runs only replaces the SAS (renewal); a POST after it failed or finished starts it again, and
 * it resumes from what storage already holds.
 */
import { readJson } from '../util/json.js';
import { parseSasUrl, uploadOutputs, type OutputFile } from './upload.js';
import type { UploadFileStatus, UploadJobStatus, UploadStartRequest } from '../wire/upload.js';

const SAS_QUERY = /^[A-Za-z0-9%&=._~:+,/-]{1,4096}$/;

/** Checks a POST /storage-upload body; returns a reason when it is not one. */
export function checkUploadRequest(b: unknown, files: readonly OutputFile[]): string | undefined {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return 'body must be a JSON object';
  const r = b as Record<string, unknown>;
  if (typeof r.sas_url !== 'string') return 'sas_url must be a string';
  try {
    parseSasUrl(r.sas_url, r.blob_sas === undefined);
  } catch (e) {
    return (e as Error).message;
  }
  if (r.prefix !== undefined && typeof r.prefix !== 'string') return 'prefix must be a string';
  if (r.parallel !== undefined && !(Number.isInteger(r.parallel) && (r.parallel as number) >= 1 && (r.parallel as number) <= 32)) return 'parallel must be an integer 1..32';
  if (r.retry !== undefined) {
    const t = r.retry as Record<string, unknown> | null;
    const int = (v: unknown, lo: number, hi: number) => v === undefined || (Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi);
    if (!t || typeof t !== 'object' || !int(t.attempts, 1, 20) || !int(t.base_delay_ms, 1, 60_000) || !int(t.max_delay_ms, 1, 600_000))
      return 'retry must be {attempts: 1..20, base_delay_ms: 1..60000, max_delay_ms: 1..600000}';
  }
  if (r.force !== undefined && typeof r.force !== 'boolean') return 'force must be a boolean';
  if (r.sas_expires_on !== undefined && (typeof r.sas_expires_on !== 'string' || Number.isNaN(Date.parse(r.sas_expires_on)))) return 'sas_expires_on must be a date';
  if (r.blob_sas !== undefined) {
    const m = r.blob_sas;
    if (!m || typeof m !== 'object' || Array.isArray(m)) return 'blob_sas must map output paths to SAS queries';
    for (const f of files) {
      const q = Object.hasOwn(m, f.path) ? (m as Record<string, unknown>)[f.path] : undefined;
      if (typeof q !== 'string' || !SAS_QUERY.test(q) || !new URLSearchParams(q).has('sig')) return `blob_sas has no SAS for ${f.path}`;
    }
  }
  return undefined;
}

export class UploadJob {
  private s: UploadJobStatus;
  private req: UploadStartRequest | undefined;

  constructor(
    private readonly dir: string,
    private readonly outputs: readonly OutputFile[],
    private readonly signal: AbortSignal,
    private readonly log: (line: string) => void,
  ) {
    const files: UploadFileStatus[] = outputs.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, done: 0, state: 'pending' }));
    this.s = { state: 'idle', attempt: 0, files, bytes_done: 0, bytes_total: outputs.reduce((a, f) => a + f.size, 0), bytes_sent: 0, retries: 0 };
  }

  status(): UploadJobStatus {
    this.s.bytes_done = this.s.files.reduce((a, f) => a + f.done, 0);
    return structuredClone(this.s);
  }

  /** Starts the job, or renews the SAS of the running one (a checked request: checkUploadRequest). */
  start(req: UploadStartRequest): UploadJobStatus {
    this.req = req;
    if (req.sas_expires_on) this.s.sas_expires_on = req.sas_expires_on;
    if (this.s.state === 'running') {
      this.log('upload: SAS renewed');
      return this.status();
    }
    this.s.state = 'running';
    this.s.attempt++;
    delete this.s.error;
    delete this.s.uploaded;
    for (const f of this.s.files) (f.state = 'pending'), (f.done = 0);
    const byPath = new Map(this.s.files.map((f) => [f.path, f]));
    const prefix = req.prefix ?? '';
    // The SAS is looked up per request, so a renewal applies to the next one.
    const sasFor = (name: string) => {
      const q = this.req?.blob_sas?.[name.slice(prefix.length)];
      return q !== undefined ? `?${q}` : new URL(this.req!.sas_url).search;
    };
    const force = req.force === true;
    uploadOutputs(req.sas_url, prefix, this.dir, this.outputs, {
      signal: this.signal,
      parallel: req.parallel ?? 4,
      ...(req.retry?.attempts ? { maxAttempts: req.retry.attempts } : {}),
      ...(req.retry?.base_delay_ms ? { baseDelayMs: req.retry.base_delay_ms } : {}),
      ...(req.retry?.max_delay_ms ? { maxDelayMs: req.retry.max_delay_ms } : {}),
      sasFor,
      ...(force ? { force } : {}),
      log: (l) => this.log(`upload: ${l}`),
      onProgress: (path, done) => {
        const f = byPath.get(path)!;
        f.done = done;
        f.state = done >= f.size ? 'done' : 'uploading';
      },
      onSent: (n) => (this.s.bytes_sent += n),
      onRetry: (what, attempt, status, detail, wait) => {
        this.s.retries++;
        this.log(`upload: ${what}: ${status || 'network error'} ${detail}; retry ${attempt} in ${Math.round(wait)} ms`);
      },
    }).then(
      (uploaded) => {
        this.s.state = 'done';
        this.s.uploaded = uploaded;
        for (const f of this.s.files) (f.state = 'done'), (f.done = f.size);
      },
      (e: unknown) => {
        this.s.state = 'failed';
        this.s.error = (e as Error).message;
        this.log(`upload: failed: ${this.s.error}`);
      },
    );
    return this.status();
  }
}

/** POST /storage-upload on a job: [status code, answer] for the raw request body. */
export function postUpload(job: UploadJob, raw: Buffer, outputs: readonly OutputFile[]): [number, unknown] {
  let body: unknown;
  try {
    body = readJson(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), 'upload request');
  } catch {
    return [400, { error: 'body must be JSON {"sas_url": string, "prefix"?: string, "blob_sas"?: {...}}' }];
  }
  const bad = checkUploadRequest(body, outputs);
  return bad ? [400, { error: bad }] : [202, job.start(body as UploadStartRequest)];
}
