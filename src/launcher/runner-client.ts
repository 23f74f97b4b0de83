/**
 * Runner protocol client over the pinned aTLS session (spec/runner-protocol.md). Every request goes through the
 * session's agent, so only the attested certificate is accepted. Failures are RunnerError (the CLI's exit 3).
 */
import { request } from 'node:https';
import type { StorageUploadResponse } from '../wire/protocol.js';
import type { UploadJobStatus, UploadStartRequest } from '../wire/upload.js';
import { abortableSleep } from './arm.js';
import type { AtlsSession } from './atls.js';
import { readJson } from '../util/json.js';
import { ToolError } from '../wire/tool-error.js';

/** The runner could not be reached, answered an error, or reported a failed fine-tune. */
export class RunnerError extends Error {
  override name = 'RunnerError';
  constructor(
    readonly code: 'RUNNER_UNREACHABLE' | 'RUNNER_HTTP' | 'RUNNER_FAILED',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  body: Buffer;
}

export class RunnerClient {
  constructor(
    private readonly session: Pick<AtlsSession, 'url' | 'agent'>,
    private readonly timeoutMs = 60_000,
  ) {}

  /** One request; the body is capped at 64 MiB. */
  private call(method: string, path: string, body?: string | Buffer, type = 'application/json', signal?: AbortSignal): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.session.url),
        { method, agent: this.session.agent, timeout: this.timeoutMs, headers: body !== undefined ? { 'content-type': type } : {}, ...(signal ? { signal } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          let n = 0;
          res.on('data', (c: Buffer) => ((n += c.length) > 64 << 20 ? req.destroy(new ToolError('ANSWER_TOO_LARGE', 'answer too large')) : chunks.push(c)));
          res.on('error', (e) => reject(new RunnerError('RUNNER_UNREACHABLE', `${method} ${path}: ${e.message}`)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('timeout', () => req.destroy(new ToolError('TIMEOUT', 'timed out')));
      req.on('error', (e) => reject(signal?.aborted ? signal.reason : new RunnerError('RUNNER_UNREACHABLE', `${method} ${path}: ${e.message}`)));
      req.end(body);
    });
  }

  /** Throws RunnerError unless the status is one of `ok`. */
  private expect(r: Reply, what: string, ok: number[]): Reply {
    if (ok.includes(r.status)) return r;
    let msg = r.body.toString('utf8').slice(0, 500);
    try {
      msg = String((readJson(msg, 'runner error') as { error?: unknown } | null)?.error ?? msg);
    } catch {
      /* plain text */
    }
    throw new RunnerError(r.status === 500 && what === 'attestation' ? 'RUNNER_FAILED' : 'RUNNER_HTTP', `${what}: runner answered ${r.status}: ${msg}`, r.status);
  }

  /** POST /axolotl/configuration (the axolotl YAML); resolves with the sha256 the runner measured. */
  async sendConfig(yaml: string, signal?: AbortSignal): Promise<string> {
    const r = this.expect(await this.call('POST', '/axolotl/configuration', yaml, 'application/yaml', signal), 'configuration', [200]);
    return String((readJson(bodyBytes(r), 'configuration answer') as { sha256?: unknown } | null)?.sha256 ?? '');
  }

  /** POST /finetune. */
  async start(signal?: AbortSignal): Promise<void> {
    this.expect(await this.call('POST', '/finetune', '', 'application/json', signal), 'finetune', [200, 202]);
  }

  /** GET /attestation[?nonce=]: undefined while running (204), else the exact document bytes. */
  async attestation(nonceHex?: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const r = this.expect(await this.call('GET', `/attestation${nonceHex ? `?nonce=${nonceHex}` : ''}`, undefined, undefined, signal), 'attestation', [200, 204]);
    return r.status === 204 ? undefined : new Uint8Array(r.body);
  }

  /** Starts the upload job with a container SAS and waits for it (no progress, no renewal: see saveOutputs in upload-follow.ts). */
  async storageUpload(sasUrl: string, prefix: string, signal?: AbortSignal): Promise<StorageUploadResponse> {
    let st = await this.uploadStart({ sas_url: sasUrl, prefix }, signal);
    while (st.state === 'running') {
      await abortableSleep(500, signal);
      st = await this.uploadStatus(signal);
    }
    if (st.state !== 'done') throw new RunnerError('RUNNER_FAILED', `storage-upload: ${st.error ?? st.state}`);
    return { uploaded: st.uploaded ?? [] };
  }

  /** POST /storage-upload: starts the runner's upload job, or renews its SAS while it runs; answers at once (202). */
  async uploadStart(body: UploadStartRequest, signal?: AbortSignal): Promise<UploadJobStatus> {
    const r = this.expect(await this.call('POST', '/storage-upload', JSON.stringify(body), 'application/json', signal), 'storage-upload', [202]);
    return readJson(bodyBytes(r), 'upload status') as UploadJobStatus;
  }

  /** GET /storage-upload: the upload job's progress, bytes done per file. */
  async uploadStatus(signal?: AbortSignal): Promise<UploadJobStatus> {
    const r = this.expect(await this.call('GET', '/storage-upload', undefined, undefined, signal), 'storage-upload', [200]);
    return readJson(bodyBytes(r), 'upload status') as UploadJobStatus;
  }

  /**
   * Streams GET /build/status to `onText` until the runner ends it. A dropped stream is resumed from the last byte
   * (`?from=`) up to `retries` times; resolves true when the stream ended normally, false when it was given up.
   */
  async streamLogs(onText: (t: string) => void, o: { signal?: AbortSignal; retries?: number; onDrop?: (e: Error) => void } = {}): Promise<boolean> {
    let pos = 0;
    for (let attempt = 0; attempt <= (o.retries ?? 5); attempt++) {
      if (attempt > 0) await abortableSleep(Math.min(200 * 2 ** attempt, 3000), o.signal);
      try {
        await new Promise<void>((resolve, reject) => {
          const req = request(new URL(`/build/status?from=${pos}`, this.session.url), { agent: this.session.agent, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
            if (res.statusCode !== 200) return reject(new RunnerError('RUNNER_HTTP', `build/status answered ${res.statusCode}`, res.statusCode));
            res.setEncoding('utf8');
            // positions count characters, as the runner's ?from= does
            res.on('data', (t: string) => ((pos += t.length), onText(t)));
            res.on('error', reject);
            res.on('aborted', () => reject(new ToolError('ANSWER_CUT', 'log stream aborted')));
            res.on('end', () => (res.complete ? resolve() : reject(new ToolError('ANSWER_CUT', 'log stream cut'))));
          });
          req.on('error', reject);
          req.end();
        });
        return true;
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason;
        o.onDrop?.(e as Error);
      }
    }
    return false;
  }
}

/** A reply body as bytes for the strict JSON reader. */
function bodyBytes(r: Reply): Uint8Array {
  return new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.length);
}
