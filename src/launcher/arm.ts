/**
 * A small Azure Resource Manager REST client over fetch: bearer tokens, bounded retries of 429/5xx honouring
 * Retry-After, and long-running operations (Azure-AsyncOperation, else Location).
 * https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations
 */
import { optionalImport } from './optional.js';
import { request as httpsRequest } from 'node:https';
import { isJsonWhitespace, readJson } from '../util/json.js';
import { ToolError } from '../wire/tool-error.js';

export const ARM_ENDPOINT = 'https://management.azure.com';
export const ARM_SCOPE = 'https://management.azure.com/.default';

/** The @azure/core-auth TokenCredential shape. */
export interface TokenCredential {
  getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal }): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** The subset of fetch the client uses; the global fetch fits. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<Response>;

export interface ArmClientOptions {
  /** Base URL; default AZURE_ARM_ENDPOINT or https://management.azure.com. */
  endpoint?: string;
  /** Default: DefaultAzureCredential from @azure/identity, loaded on first use. */
  credential?: TokenCredential;
  /** Token scope; default AZURE_ARM_SCOPE, else the endpoint's origin + '/.default'. */
  scope?: string;
  /** Default: global fetch, or an https fetch trusting `ca` when given. */
  fetch?: FetchLike;
  /** PEM CA certificate(s) to trust for the endpoint (a private ARM fake); ignored when `fetch` is given. */
  ca?: string | Buffer;
  /** Retries of 429/5xx/network errors per request (default 6); delays double from baseDelayMs (default 1000). */
  maxRetries?: number;
  baseDelayMs?: number;
  /** Upper bound for any single wait, Retry-After included (default 60 s). */
  maxDelayMs?: number;
  /** Poll interval when the service gives no Retry-After (default 5 s). */
  pollIntervalMs?: number;
  /** Floor for any poll interval, Retry-After: 0 included, so polling never spins (default 1 s). */
  minPollIntervalMs?: number;
  /** Give up on one long-running operation after this long (default 40 min). */
  operationTimeoutMs?: number;
  /** Injected for tests; must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  log?: (line: string) => void;
}

/** Any failure talking to ARM. The CLI maps these to exit 3. */
export class CloudError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An HTTP error response (after retries, for retryable statuses). */
export class ArmHttpError extends CloudError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(code, `ARM ${status} ${code}: ${message}`);
  }
}

/** A long-running operation (or a resource's provisioningState) ended Failed or Canceled. */
export class ArmOperationError extends CloudError {
  constructor(
    readonly status: 'Failed' | 'Canceled',
    code: string,
    message: string,
    readonly resourceId?: string,
  ) {
    super(code, `operation ${status}${resourceId ? ` for ${resourceId}` : ''}: ${code}: ${message}`);
  }
}

/** A long-running operation did not finish within operationTimeoutMs. */
export class ArmTimeoutError extends CloudError {
  constructor(message: string) {
    super('OperationTimeout', message);
  }
}

type Json = Record<string, unknown>;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export class ArmClient {
  readonly endpoint: URL;
  private readonly opts: ArmClientOptions;
  private readonly doFetch: FetchLike;
  private token: { token: string; expiresOnTimestamp: number } | undefined;
  private credential: TokenCredential | undefined;

  constructor(opts: ArmClientOptions = {}) {
    this.opts = opts;
    this.endpoint = new URL(opts.endpoint ?? process.env.AZURE_ARM_ENDPOINT ?? ARM_ENDPOINT);
    if (this.endpoint.protocol !== 'https:') throw new TypeError(`ARM endpoint must be https: ${this.endpoint.href}`);
    this.doFetch = opts.fetch ?? (opts.ca !== undefined ? httpsFetch(opts.ca) : (u, i) => fetch(u, i));
    this.credential = opts.credential;
    this.scope = opts.scope ?? process.env.AZURE_ARM_SCOPE ?? armScopeFor(this.endpoint);
  }

  /** The token scope: follows the endpoint (sovereign clouds), e.g. https://management.usgovcloudapi.net/.default. */
  readonly scope: string;

  /** GET a resource; undefined when it does not exist. */
  async get(path: string, apiVersion: string, signal?: AbortSignal): Promise<Json | undefined> {
    const r = await this.send('GET', this.url(path, apiVersion), undefined, signal, [404]);
    return r.status === 404 ? undefined : await jsonBody(r);
  }

  /** GET with extra query parameters (e.g. `$filter=…`, already encoded); undefined on 404. */
  async getWithQuery(path: string, apiVersion: string, query: string, signal?: AbortSignal): Promise<Json | undefined> {
    const r = await this.send('GET', `${this.url(path, apiVersion)}&${query}`, undefined, signal, [404]);
    return r.status === 404 ? undefined : await jsonBody(r);
  }

  /** PUT a resource, wait for its long-running operation, return the final resource (provisioningState Succeeded). */
  async put(path: string, apiVersion: string, body: unknown, signal?: AbortSignal): Promise<Json> {
    const url = this.url(path, apiVersion);
    const r = await this.send('PUT', url, JSON.stringify(body), signal);
    const first = await jsonBody(r);
    await this.waitOperation(r, url, signal, first);
    const final = (await this.get(path, apiVersion, signal)) ?? first;
    const state = String((final.properties as Json | undefined)?.provisioningState ?? 'Succeeded');
    if (/^(failed|canceled)$/i.test(state))
      throw new ArmOperationError(/^f/i.test(state) ? 'Failed' : 'Canceled', 'ProvisioningFailed', `provisioningState ${state}`, path);
    return final;
  }

  /** DELETE a resource and wait; 'absent' when it was already gone (404 or 204). */
  async delete(path: string, apiVersion: string, signal?: AbortSignal): Promise<'deleted' | 'absent'> {
    const url = this.url(path, apiVersion);
    const r = await this.send('DELETE', url, undefined, signal, [404]);
    if (r.status === 404 || r.status === 204) return 'absent';
    await this.waitOperation(r, url, signal);
    return 'deleted';
  }

  /** Full URL for a resource path under the endpoint, with api-version. */
  url(path: string, apiVersion: string): string {
    if (!path.startsWith('/subscriptions/')) throw new TypeError(`not an ARM resource path: ${path}`);
    const u = new URL(path, this.endpoint);
    u.searchParams.set('api-version', apiVersion);
    return u.href;
  }

  /** Follows Azure-AsyncOperation (preferred) or Location until a terminal status. */
  private async waitOperation(first: Response, resourceUrl: string, signal?: AbortSignal, body?: Json): Promise<void> {
    const asyncOp = first.headers.get('azure-asyncoperation');
    const location = first.headers.get('location');
    const resourceId = new URL(resourceUrl).pathname;
    const deadline = Date.now() + (this.opts.operationTimeoutMs ?? 40 * 60_000);
    let delay = retryAfterMs(first.headers);
    if (!asyncOp && !location) {
      // Synchronous, or only provisioningState to watch: poll the resource itself.
      const state = String((body?.properties as Json | undefined)?.provisioningState ?? 'Succeeded').toLowerCase();
      if (first.status !== 202 && TERMINAL.has(state)) return;
      if (first.status === 202) throw new CloudError('NoOperationUrl', `202 without Azure-AsyncOperation or Location for ${resourceId}`);
      return this.pollResourceState(resourceUrl, signal, deadline);
    }
    const pollUrl = this.sameOrigin(asyncOp ?? location!);
    for (;;) {
      if (Date.now() > deadline) throw new ArmTimeoutError(`operation on ${resourceId} did not finish in time`);
      const wait = Math.min(delay ?? this.opts.pollIntervalMs ?? 5000, this.opts.maxDelayMs ?? 60_000);
      await this.sleep(Math.max(wait, this.opts.minPollIntervalMs ?? 1000), signal);
      const r = await this.send('GET', pollUrl, undefined, signal, [404]);
      delay = retryAfterMs(r.headers);
      if (asyncOp) {
        if (r.status === 404) throw new CloudError('OperationNotFound', `operation status for ${resourceId} vanished (404)`);
        const st = await jsonBody(r);
        const status = String(st.status ?? '');
        if (!TERMINAL.has(status.toLowerCase())) continue;
        if (/^succeeded$/i.test(status)) return;
        const e = (st.error ?? {}) as Json;
        throw new ArmOperationError(/^failed$/i.test(status) ? 'Failed' : 'Canceled', String(e.code ?? 'OperationFailed'), String(e.message ?? ''), resourceId);
      }
      // Location polling: 202 means still running; any 2xx otherwise means done; 404 after a delete means gone.
      if (r.status === 202) continue;
      await r.body?.cancel();
      return;
    }
  }

  /** Polls GET on the resource until provisioningState is terminal (services that send no operation header). */
  private async pollResourceState(resourceUrl: string, signal: AbortSignal | undefined, deadline: number): Promise<void> {
    for (;;) {
      if (Date.now() > deadline) throw new ArmTimeoutError(`provisioning of ${redact(resourceUrl)} did not finish in time`);
      await this.sleep(Math.max(this.opts.pollIntervalMs ?? 5000, this.opts.minPollIntervalMs ?? 1000), signal);
      const r = await this.send('GET', resourceUrl, undefined, signal, [404]);
      if (r.status === 404) return;
      const st = String(((await jsonBody(r)).properties as Json | undefined)?.provisioningState ?? 'Succeeded');
      if (TERMINAL.has(st.toLowerCase())) return;
    }
  }

  /** One request with retries of 429/5xx and network errors; other non-2xx statuses become ArmHttpError. */
  private async send(method: string, url: string, body: string | undefined, signal?: AbortSignal, allow: number[] = []): Promise<Response> {
    const max = this.opts.maxRetries ?? 6;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const headers: Record<string, string> = { authorization: `Bearer ${await this.bearer(signal)}`, accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let r: Response;
      try {
        r = await this.doFetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) });
      } catch (e) {
        if (signal?.aborted || attempt >= max) throw signal?.aborted ? signal.reason : new CloudError('NetworkError', `${method} ${redact(url)}: ${(e as Error).message}`, { cause: e });
        await this.sleep(this.backoff(attempt), signal);
        continue;
      }
      if ((r.status >= 200 && r.status < 300) || allow.includes(r.status)) return r;
      const retryable = r.status === 429 || r.status === 408 || r.status >= 500;
      if (retryable && attempt < max) {
        await r.body?.cancel();
        const ra = retryAfterMs(r.headers);
        this.opts.log?.(`ARM ${r.status} on ${method} ${redact(url)}; retry ${attempt + 1}/${max}`);
        await this.sleep(ra !== undefined ? Math.min(ra, this.opts.maxDelayMs ?? 60_000) : this.backoff(attempt), signal);
        continue;
      }
      const e = ((await jsonBody(r).catch((): Json => ({}))).error ?? {}) as Json;
      throw new ArmHttpError(r.status, String(e.code ?? 'HttpError'), String(e.message ?? r.statusText), r.headers.get('x-ms-request-id') ?? undefined);
    }
  }

  /** Exponential backoff with jitter, bounded by maxDelayMs. */
  private backoff(attempt: number): number {
    const base = (this.opts.baseDelayMs ?? 1000) * 2 ** attempt;
    return Math.min(base / 2 + Math.random() * (base / 2), this.opts.maxDelayMs ?? 60_000);
  }

  /** Poll URLs must stay on the ARM endpoint's origin: the bearer token goes nowhere else. */
  private sameOrigin(u: string): string {
    const url = new URL(u, this.endpoint);
    if (url.origin !== this.endpoint.origin) throw new CloudError('ForeignOperationUrl', `operation URL leaves ${this.endpoint.origin}: ${url.origin}`);
    return url.href;
  }

  /** A cached token for the ARM scope, refreshed two minutes before expiry. */
  private async bearer(signal?: AbortSignal): Promise<string> {
    if (this.token && this.token.expiresOnTimestamp - Date.now() > 120_000) return this.token.token;
    if (!this.credential) {
      const { DefaultAzureCredential } = await optionalImport('@azure/identity', () => import('@azure/identity'));
      this.credential = new DefaultAzureCredential();
    }
    let t: Awaited<ReturnType<TokenCredential['getToken']>>;
    try {
      t = await this.credential.getToken(this.scope, signal ? { abortSignal: signal } : {});
    } catch (e) {
      throw new CloudError('CredentialUnavailable', `no Azure credential: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
    if (!t) throw new CloudError('CredentialUnavailable', 'the credential returned no token');
    this.token = t;
    return t.token;
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return (this.opts.sleep ?? abortableSleep)(Math.max(0, ms), signal);
  }
}

/** `<endpoint origin>/.default`: management.azure.com, management.usgovcloudapi.net, management.chinacloudapi.cn… */
export function armScopeFor(endpoint: URL | string): string {
  return `${new URL(endpoint).origin}/.default`;
}

/** Retry-After (seconds or HTTP date), retry-after-ms or x-ms-retry-after-ms, in milliseconds. */
export function retryAfterMs(h: Headers, now = Date.now()): number | undefined {
  const ms = h.get('retry-after-ms') ?? h.get('x-ms-retry-after-ms');
  if (ms && /^\d+$/.test(ms.trim())) return Number(ms);
  const ra = h.get('retry-after')?.trim();
  if (!ra) return undefined;
  if (/^\d+$/.test(ra)) return Number(ra) * 1000;
  const t = Date.parse(ra);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** setTimeout as a promise that rejects with the signal's reason. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Parses a JSON body (empty body: {}); a malformed body is a CloudError. */
async function jsonBody(r: Response): Promise<Json> {
  // The bytes go to the strict reader as they came: Response.text() would replace bad UTF-8 and drop a byte order mark.
  const bytes = new Uint8Array(await r.arrayBuffer());
  if (isJsonWhitespace(bytes)) return {};
  try {
    const v = readJson(bytes, 'ARM answer', { maxDepth: 64 });
    return v && typeof v === 'object' ? (v as Json) : {};
  } catch {
    throw new CloudError('MalformedResponse', `ARM returned non-JSON (status ${r.status})`);
  }
}

/** URL without its query (operation URLs can carry signatures). */
function redact(u: string): string {
  return u.split('?')[0]!;
}

/** A fetch over node:https that trusts the given CA (for an ARM fake or a private endpoint). Bodies capped at 32 MiB. */
export function httpsFetch(ca: string | Buffer): FetchLike {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const req = httpsRequest(url, { method: init.method, headers: init.headers, ca, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 32 << 20) res.destroy(new ToolError('ANSWER_TOO_LARGE', 'response too large'));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 500;
          const noBody = status === 204 || status === 304;
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers }));
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
}
