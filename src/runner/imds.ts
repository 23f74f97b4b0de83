/**
 * Azure IMDS requests for the runner, retried as Microsoft's IMDS documentation asks: 410 (the service is not ready
 * yet after a VM starts) and 5xx (and 429, network errors) are retried with back-off for up to 70 s. IMDS answers
 * directly: a redirect is refused at once, and an answer larger than `maxBytes` (default 1 MiB) is refused.
 * https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#errors-and-debugging
 */
import { ToolError } from '../wire/tool-error.js';
import { tryUtf8Slice } from '../util/utf8.js';
const IMDS_USER_DATA = 'http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text';

export interface ImdsOptions {
  url?: string;
  /** POST with this JSON body (the ACC TD-quote endpoint); default GET. */
  jsonBody?: unknown;
  /** Largest answer accepted (default 1 MiB). */
  maxBytes?: number;
  /** Total time to keep retrying (default 70 s). */
  budgetMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Reads the body up to `max` bytes; more is refused. */
async function boundedText(r: Response, max: number): Promise<string> {
  const len = Number(r.headers.get('content-length') ?? '0');
  if (len > max) throw new ToolError('IMDS_UNAVAILABLE', `IMDS: answer of ${len} bytes exceeds ${max}`);
  const b = new Uint8Array(await r.arrayBuffer());
  if (b.length > max) throw new ToolError('IMDS_UNAVAILABLE', `IMDS: answer of ${b.length} bytes exceeds ${max}`);
  // A byte order mark stays in the text, so the JSON reader sees every byte (spec/strict-encodings.md §JSON).
  const text = tryUtf8Slice(b, 0, b.length);
  // An answer that is not UTF-8 is final (a retry would get the same bytes), not a network error to retry.
  if (text === undefined) throw new ToolError('IMDS_UNAVAILABLE', 'IMDS: the answer is not UTF-8');
  return text;
}

/** One IMDS request with the Metadata header; retries 410, 429, 5xx and network errors. */
export async function imdsText(o: ImdsOptions = {}): Promise<string> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + (o.budgetMs ?? 70_000);
  const post = o.jsonBody !== undefined;
  const init: RequestInit = {
    method: post ? 'POST' : 'GET',
    headers: { Metadata: 'true', ...(post ? { 'Content-Type': 'application/json' } : {}) },
    redirect: 'manual',
    ...(post ? { body: JSON.stringify(o.jsonBody) } : {}),
  };
  let last = '';
  for (let delay = 1000; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      const r = await (o.fetch ?? fetch)(o.url ?? IMDS_USER_DATA, { ...init, signal: AbortSignal.timeout(5000) });
      if (r.status >= 300 && r.status < 400) throw new ToolError('IMDS_UNAVAILABLE', `IMDS: redirect (HTTP ${r.status}) refused: IMDS answers directly`);
      if (r.ok) return await boundedText(r, o.maxBytes ?? 1 << 20);
      last = `HTTP ${r.status}`;
      await r.body?.cancel();
      if (r.status !== 410 && r.status !== 429 && r.status < 500) throw new ToolError('IMDS_UNAVAILABLE', `IMDS: ${last}`);
    } catch (e) {
      if (e instanceof ToolError) throw e;
      last = (e as Error).message;
    }
    if (now() + delay > deadline) throw new ToolError('IMDS_UNAVAILABLE', `IMDS: no answer within ${Math.round((o.budgetMs ?? 70_000) / 1000)} s (${last})`);
    await sleep(delay);
  }
}
