/**
 * Outputs that survive (spec/runner-protocol.md §Upload): the launcher signs one SAS per output, starts the runner's
 * upload job, follows its progress (bytes done per file) on the progress bar, renews the SAS before it expires,
 * starts a failed job again (it resumes), then confirms every output in storage: Get Blob Properties (size, sha256
 * metadata), then a download whose size and sha256 must be the ones the runner measured. Only then may the VM go.
 */
import { formatBytes } from '../node/progress.js';
import type { UploadedBlob } from '../wire/protocol.js';
import type { UploadFileStatus, UploadJobStatus } from '../wire/upload.js';
import { abortableSleep } from './arm.js';
import { blobFacts, downloadOutputs, makeBlobSas, sasLifetimeMs, StorageError, type ContainerRef, type Progress, type StorageAuth } from './blob.js';
import { RunnerError, type RunnerClient } from './runner-client.js';

/** What the VM still holds that storage does not: decides whether teardown may delete it. */
export class OutputGuard {
  /** Outputs the runner holds (known once training is done); undefined before. */
  files: { path: string; size: number }[] | undefined;
  /** True once every output is confirmed in storage. */
  confirmed = false;

  /** True while the VM holds the only copy of some output. */
  atRisk(): boolean {
    return this.files !== undefined && this.files.length > 0 && !this.confirmed;
  }

  /** "3 outputs, 2.15 GB: a, b, c" (names shortened). */
  describe(): string {
    const f = this.files ?? [];
    const names = f.slice(0, 5).map((x) => x.path).join(', ') + (f.length > 5 ? `, … (${f.length - 5} more)` : '');
    return `${f.length} output${f.length === 1 ? '' : 's'}, ${formatBytes(f.reduce((a, x) => a + x.size, 0))}: ${names}`;
  }
}

export interface SaveOutputsOptions {
  client: Pick<RunnerClient, 'uploadStart' | 'uploadStatus'>;
  storage: ContainerRef;
  auth: StorageAuth;
  prefix: string;
  outDir: string;
  guard: OutputGuard;
  signal?: AbortSignal;
  log: (line: string) => void;
  onProgress?: Progress;
  /** Blocks in flight on the runner (default 4). */
  parallel?: number;
  /** Retries per request on the runner (attempts, back-off base and cap in ms); the runner's defaults otherwise. */
  retry?: { attempts?: number; base_delay_ms?: number; max_delay_ms?: number };
  /** Upload jobs started before giving up (default 3); each resumes from what storage holds. */
  jobAttempts?: number;
  /** Poll interval (default 1 s). */
  pollMs?: number;
  /** Give up when the job reports no progress for this long (default 15 min): the only idle limit. */
  stallMs?: number;
  /** Give up when the runner cannot be reached for this long (default 5 min). */
  unreachableMs?: number;
  /** SAS lifetime (default sasLifetimeMs of the outputs' total size); renewed when a quarter is left. */
  sasTtlMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Uploads through the runner, downloads into outDir and confirms every output; returns the files written. */
export async function saveOutputs(o: SaveOutputsOptions): Promise<string[]> {
  const first = await o.client.uploadStatus(o.signal);
  const files = first.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
  o.guard.files = files.map(({ path, size }) => ({ path, size }));
  let force = false;
  for (let round = 1; ; round++) {
    const uploaded = await followUpload(o, first, force);
    await confirmInStorage(o, uploaded);
    try {
      const written = await downloadOutputs(o.storage, o.auth, o.prefix, uploaded, o.outDir, { ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
      o.guard.confirmed = true;
      o.log(`all ${files.length} outputs confirmed in storage (size and sha256) and downloaded`);
      return written;
    } catch (e) {
      // A copy that is not what the runner measured is uploaded again, once, in full.
      if (!(e instanceof StorageError) || e.mismatched === undefined || round >= 2) throw e;
      o.log(`${e.message}; uploading again`);
      force = true;
    }
  }
}

/** Storage must report each blob with the runner's size and sha256 metadata. */
async function confirmInStorage(o: SaveOutputsOptions, uploaded: readonly UploadedBlob[]): Promise<void> {
  const facts = await blobFacts(o.storage, o.auth, o.prefix, uploaded.map((u) => u.path), o.signal);
  for (const u of uploaded) {
    const f = facts.get(u.path);
    if (!f) throw new StorageError(`${o.prefix + u.path} is not in storage although the runner reported it uploaded`);
    if (f.size !== u.size || f.sha256 !== u.sha256) throw new StorageError(`${o.prefix + u.path} in storage: ${f.size} bytes, sha256 ${f.sha256 ?? 'none'}; expected ${u.size}, ${u.sha256}`, u.path);
  }
}

/** Starts the job (again, up to jobAttempts) and follows it until done; returns what it uploaded. */
async function followUpload(o: SaveOutputsOptions, first: UploadJobStatus, force: boolean): Promise<UploadedBlob[]> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? abortableSleep;
  const total = first.bytes_total;
  const ttl = o.sasTtlMs ?? sasLifetimeMs(total);
  const sign = async () => {
    const s = await makeBlobSas(o.storage, o.auth, o.prefix, first.files.map((f) => f.path), ttl);
    return { issued: now(), expires: s.expiresOn, body: { sas_url: s.containerUrl, prefix: o.prefix, blob_sas: s.blobSas, sas_expires_on: s.expiresOn.toISOString(), parallel: o.parallel ?? 4, ...(o.retry ? { retry: o.retry } : {}) } };
  };
  let sas = await sign();
  o.log(`runner uploads ${first.files.length} outputs (${formatBytes(total)}) to ${o.storage.url}/${o.prefix}; SAS per blob (read, create, write) until ${sas.expires.toISOString()}`);
  const attempts = o.jobAttempts ?? 3;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      o.log(`upload job failed (${lastError}); starting it again (${attempt}/${attempts}), resuming from what storage holds`);
      await sleep(Math.min(5000 * 2 ** (attempt - 2), 60_000), o.signal);
    }
    let st = await o.client.uploadStart({ ...sas.body, ...(force ? { force: true } : {}) }, o.signal);
    let mark = progressMark(st);
    let lastProgress = now();
    let unreachableSince: number | undefined;
    while (st.state === 'running') {
      await sleep(o.pollMs ?? 1000, o.signal);
      try {
        st = await o.client.uploadStatus(o.signal);
        unreachableSince = undefined;
      } catch (e) {
        if (!(e instanceof RunnerError) || e.code !== 'RUNNER_UNREACHABLE') throw e;
        unreachableSince ??= now();
        if (now() - unreachableSince > (o.unreachableMs ?? 300_000)) throw new RunnerError('RUNNER_UNREACHABLE', `upload: the runner has not answered for ${Math.round((now() - unreachableSince) / 1000)} s: ${e.message}`);
        continue;
      }
      o.onProgress?.(st.bytes_done, st.bytes_total, currentFile(st.files));
      // Progress is any change: bytes, or a retry the runner is waiting out.
      const m = progressMark(st);
      if (m !== mark) (mark = m), (lastProgress = now());
      else if (now() - lastProgress > (o.stallMs ?? 900_000)) throw new RunnerError('RUNNER_FAILED', `upload: no progress for ${Math.round((now() - lastProgress) / 1000)} s`);
      // Renew the SAS when a quarter of its life is left.
      if (sas.expires.getTime() - now() < (sas.expires.getTime() - sas.issued) / 4) {
        sas = await sign();
        st = await o.client.uploadStart(sas.body, o.signal);
        o.log(`SAS renewed until ${sas.expires.toISOString()}`);
      }
    }
    if (st.state === 'done') return checkUploaded(st, first.files);
    lastError = st.error ?? `job ${st.state}`;
  }
  throw new RunnerError('RUNNER_FAILED', `storage-upload: upload failed after ${attempts} jobs: ${lastError}`);
}

const progressMark = (s: UploadJobStatus) => `${s.bytes_done}/${s.bytes_sent}/${s.retries}/${s.attempt}`;
const currentFile = (files: UploadFileStatus[]) => (files.find((f) => f.state === 'uploading') ?? files.find((f) => f.state === 'pending') ?? files[files.length - 1])?.path ?? '';

/** The job's report must list exactly the outputs it was asked for, with their sizes and digests. */
function checkUploaded(st: UploadJobStatus, files: readonly UploadFileStatus[]): UploadedBlob[] {
  const up = st.uploaded ?? [];
  const ok = up.length === files.length && files.every((f, i) => up[i]?.path === f.path && up[i]?.size === f.size && up[i]?.sha256 === f.sha256);
  if (!ok) throw new RunnerError('RUNNER_FAILED', 'storage-upload: the runner reported other files than its outputs');
  return up;
}
