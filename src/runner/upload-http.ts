/**
 * One Blob service request with retries, over node:http(s) with a keep-alive agent: network errors, 408, 429 and 5xx
 * are retried with exponential back-off and jitter, honouring Retry-After (and x-ms-retry-after-ms). Bodies stream
 * from a file range, so a 4,000 MiB block never sits in memory.
 * https://learn.microsoft.com/azure/storage/blobs/storage-retry-policy
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ToolError } from '../wire/tool-error.js';

export const X_MS_VERSION = '2021-08-06';

/** An upload failed after retries, or the service refused it for good. */
export class UploadError extends Error {
  override name = 'UploadError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** Attempts per request, the first included (default 10). */
  maxAttempts?: number;
  /** Back-off base (default 500 ms, doubled per attempt) and cap for any wait, Retry-After included (default 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A request that sends or receives nothing for this long is cut and retried (default 120 s). */
  idleTimeoutMs?: number;
  /** Injected for tests; must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each retry (status 0 = network error). */
  onRetry?: (what: string, attempt: number, status: number, detail: string, waitMs: number) => void;
}

/** What one request sends: a file range, bytes, or nothing. */
export type Body = { file: string; start: number; length: number } | Uint8Array | undefined;

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const RETRYABLE = (s: number) => s === 408 || s === 429 || s >= 500;
const MAX_REPLY = 16 << 20;

/** Retry-After (seconds or HTTP date), retry-after-ms or x-ms-retry-after-ms, in milliseconds. */
export function retryAfter(h: IncomingMessage['headers'], now = Date.now()): number | undefined {
  const ms = h['retry-after-ms'] ?? h['x-ms-retry-after-ms'];
  if (typeof ms === 'string' && /^\d+$/.test(ms.trim())) return Number(ms);
  const ra = typeof h['retry-after'] === 'string' ? h['retry-after'].trim() : '';
  if (!ra) return undefined;
  if (/^\d+$/.test(ra)) return Number(ra) * 1000;
  const t = Date.parse(ra);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** setTimeout as a promise that rejects with the signal's reason. */
export function sleepAbortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(t), reject(signal!.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A keep-alive transport for one container: at most `sockets` connections. */
export class BlobTransport {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;
  constructor(
    origin: URL,
    sockets: number,
    private readonly policy: RetryPolicy = {},
  ) {
    this.secure = origin.protocol === 'https:';
    const o = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
    this.agent = this.secure ? new HttpsAgent(o) : new HttpAgent(o);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sends until a non-retryable answer; resolves with any status in `ok`, else UploadError. `url()` is re-read per attempt (SAS renewal). */
  async send(what: string, method: string, url: () => string, headers: Record<string, string>, body: Body, ok: number[], signal?: AbortSignal): Promise<Reply> {
    const max = this.policy.maxAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      let status = 0;
      let detail = '';
      let wait: number | undefined;
      try {
        const r = await this.once(method, url(), headers, body, signal);
        if (ok.includes(r.status)) return r;
        status = r.status;
        detail = errorDetail(r);
        if (!RETRYABLE(status)) throw new UploadError(`${what}: blob service answered ${status}: ${detail}`, status);
        wait = retryAfter(r.headers);
      } catch (e) {
        if (e instanceof UploadError || signal?.aborted) throw signal?.aborted ? signal.reason : e;
        detail = (e as Error).message;
      }
      if (attempt >= max) throw new UploadError(`${what}: failed after ${attempt} attempts: ${status || 'network error'} ${detail}`.trim(), status || undefined);
      const base = (this.policy.baseDelayMs ?? 500) * 2 ** (attempt - 1);
      const delay = Math.min(wait ?? base / 2 + Math.random() * (base / 2), this.policy.maxDelayMs ?? 60_000);
      this.policy.onRetry?.(what, attempt, status, detail, delay);
      await (this.policy.sleep ?? sleepAbortable)(delay, signal);
    }
  }

  /** One request; the answer body is capped at 16 MiB. */
  private once(method: string, url: string, headers: Record<string, string>, body: Body, signal?: AbortSignal): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const length = body === undefined ? 0 : body instanceof Uint8Array ? body.length : body.length;
      const h = { 'x-ms-version': X_MS_VERSION, 'content-length': String(length), ...headers };
      const req = (this.secure ? httpsRequest : httpRequest)(url, { method, headers: h, agent: this.agent, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => ((n += c.length) > MAX_REPLY ? res.destroy(new ToolError('ANSWER_TOO_LARGE', 'answer too large')) : chunks.push(c)));
        res.on('error', reject);
        res.on('aborted', () => reject(new ToolError('ANSWER_CUT', 'answer cut')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.setTimeout(this.policy.idleTimeoutMs ?? 120_000, () => req.destroy(new ToolError('TIMEOUT', 'timed out (no progress)')));
      req.on('error', reject);
      if (body === undefined || body instanceof Uint8Array) return void req.end(body);
      // Ranges up to 64 MiB are read whole and sent in one write (fastest); larger ones stream.
      if (body.length <= 64 << 20) {
        return void readRange(body.file, body.start, body.length).then((b) => req.end(b), (e: unknown) => req.destroy(e as Error));
      }
      const rs = createReadStream(body.file, { start: body.start, end: body.start + body.length - 1, highWaterMark: 1 << 20 });
      rs.on('error', (e) => req.destroy(e));
      req.on('close', () => rs.destroy());
      rs.pipe(req);
    });
  }
}

/** Reads `length` bytes at `start` of a file. */
async function readRange(file: string, start: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    for (let got = 0; got < length; ) {
      const { bytesRead } = await fh.read(buf, got, length - got, start + got);
      if (bytesRead === 0) throw new ToolError('FILE_CHANGED', `${file} is shorter than expected`);
      got += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** The Blob service error code and message, shortened, without control characters. */
function errorDetail(r: Reply): string {
  const code = r.headers['x-ms-error-code'];
  const text = r.body.toString('utf8', 0, Math.min(r.body.length, 600));
  const msg = /<Message>([^<]{0,300})/.exec(text)?.[1] ?? text.slice(0, 300);
  return `${typeof code === 'string' ? `${code}: ` : ''}${msg}`.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}
