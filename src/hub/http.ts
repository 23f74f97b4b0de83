/**
 * The only way aicert talks to a Hugging Face Hub: every request goes through `HubHttp`, which pins the endpoint,
 * follows redirects itself and only to allowed hosts, sends the token to the endpoint's origin only, bounds every
 * body it reads, checks every JSON answer with the strict reader, and refuses any answer naming another commit
 * (`X-Repo-Commit`). Browser-safe (fetch, ReadableStream). Spec: spec/hub.md §2–3, §6.
 */
import { VerificationError, MalformedInputError, type VerificationCode } from '../errors.js';
import { readJson } from '../util/json.js';
import { concat } from '../util/bytes.js';

export interface HubHttpOptions {
  /** Hub base URL (the `HF_ENDPOINT` convention; the caller reads the environment). Default https://huggingface.co. */
  endpoint?: string;
  /** Access token (`HF_TOKEN`) for gated or private repositories; sent to the endpoint's origin only. */
  token?: string;
  /** Extra host names a redirect may lead to (exact names, https unless loopback). */
  allowHosts?: readonly string[];
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Largest JSON answer read (bytes). Default 16 MiB. */
  maxJsonBytes?: number;
}

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024;
export const MAX_REDIRECTS = 5;
/** CDN and storage hosts huggingface.co redirects downloads to (https only): the hf.co and huggingface.co families. */
const HF_FAMILY = /(?:^|\.)(?:hf\.co|huggingface\.co)$/;

const isLoopback = (host: string): boolean => host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

const fail = (code: VerificationCode, message: string, details?: Record<string, unknown>): never => {
  throw new VerificationError(code, message, details);
};

/** Validates an endpoint: http(s), no credentials, query or fragment; plain http only on loopback. */
export function parseEndpoint(endpoint: string): URL {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new MalformedInputError(`Hub endpoint ${JSON.stringify(String(endpoint).slice(0, 200))} is not a URL`, { path: 'hfEndpoint' });
  }
  const bad = (why: string): never => {
    throw new MalformedInputError(`Hub endpoint ${JSON.stringify(endpoint.slice(0, 200))}: ${why}`, { path: 'hfEndpoint' });
  };
  if (u.protocol !== 'https:' && u.protocol !== 'http:') bad('must be http(s)');
  if (u.protocol === 'http:' && !isLoopback(u.hostname)) bad('plain http is allowed on loopback only');
  if (u.username || u.password) bad('must not carry credentials');
  if (u.search || u.hash) bad('must not carry a query or fragment');
  return u;
}

/** A response after the redirects, with the commit the endpoint named for it (if it named one). */
export interface HubResponse {
  res: Response;
  url: URL;
  repoCommit: string | undefined;
}

export class HubHttp {
  readonly endpoint: URL;
  /** The endpoint without a trailing slash, as @huggingface/hub's `hubUrl`. */
  readonly base: string;
  private readonly opts: HubHttpOptions;
  private readonly hosts: Set<string>;

  constructor(opts: HubHttpOptions = {}) {
    this.opts = opts;
    this.endpoint = parseEndpoint(opts.endpoint ?? DEFAULT_HUB_ENDPOINT);
    this.base = this.endpoint.href.replace(/\/+$/, '');
    if (opts.token !== undefined && (typeof opts.token !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(opts.token)))
      throw new MalformedInputError('the Hub token must be 1-1024 printable ASCII characters', { path: 'hfToken' });
    this.hosts = new Set((opts.allowHosts ?? []).map((h) => h.toLowerCase()));
  }

  /** Whether a request may go to `u` (the endpoint's origin, its CDN family for huggingface.co, or allowHosts). */
  allowed(u: URL, from: URL | undefined): boolean {
    if (from && from.protocol === 'https:' && u.protocol !== 'https:') return false;
    if (u.username || u.password) return false;
    if (u.origin === this.endpoint.origin) return true;
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) return false;
    if (this.hosts.has(u.hostname.toLowerCase())) return true;
    return this.endpoint.protocol === 'https:' && HF_FAMILY.test(this.endpoint.hostname) && HF_FAMILY.test(u.hostname);
  }

  /**
   * GET/HEAD `url` with the redirects checked one by one. A non-2xx final answer is HUB_UNAVAILABLE. `expectCommit`:
   * any hop that names a commit (`X-Repo-Commit`) must name this one.
   */
  async request(url: string, init: { headers?: Record<string, string>; method?: string } = {}, expectCommit?: string): Promise<HubResponse> {
    const f = this.opts.fetch ?? globalThis.fetch;
    let u = new URL(url);
    let from: URL | undefined;
    let repoCommit: string | undefined;
    for (let hop = 0; ; hop++) {
      if (!this.allowed(u, from))
        fail('HUB_REDIRECT_REFUSED', `refused to ${from ? 'follow a redirect' : 'connect'} to ${u.origin} (allowed: ${this.endpoint.origin}${this.hosts.size ? ', ' + [...this.hosts].join(', ') : ''})`, { url: u.origin });
      const headers: Record<string, string> = { ...init.headers };
      // the token goes to the endpoint only, never to a CDN or another host
      if (this.opts.token && u.origin === this.endpoint.origin) headers.authorization = `Bearer ${this.opts.token}`;
      let res: Response;
      try {
        res = await f(u.href, { method: init.method ?? 'GET', headers, redirect: 'manual', signal: this.opts.signal });
      } catch (e) {
        if (this.opts.signal?.aborted) throw e;
        return fail('HUB_UNAVAILABLE', `cannot reach ${u.origin}: ${(e as Error).message}`, { url: u.origin });
      }
      const named = res.headers.get('x-repo-commit');
      if (named !== null && u.origin === this.endpoint.origin) {
        if (expectCommit !== undefined && named.trim() !== expectCommit) {
          await res.body?.cancel().catch(() => {});
          fail('HUB_COMMIT_MISMATCH', `the Hub answered for commit ${JSON.stringify(named.slice(0, 80))}, not the pinned ${expectCommit}`, { expected: expectCommit, actual: named.slice(0, 80) });
        }
        repoCommit ??= named.trim();
      }
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await res.body?.cancel().catch(() => {});
        const loc = res.headers.get('location');
        if (!loc) fail('HUB_RESPONSE_INVALID', `redirect ${res.status} without a Location from ${u.origin}`);
        if (hop >= MAX_REDIRECTS) fail('HUB_REDIRECT_REFUSED', `more than ${MAX_REDIRECTS} redirects`);
        from = u;
        try {
          u = new URL(loc!, u);
        } catch {
          fail('HUB_RESPONSE_INVALID', `redirect to an invalid URL from ${u.origin}`);
        }
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        const hint = res.status === 401 || res.status === 403 ? ' (gated or private repository: give a token, HF_TOKEN)' : res.status === 404 ? ' (not found at that commit)' : '';
        fail('HUB_UNAVAILABLE', `the Hub answered HTTP ${res.status} for ${u.pathname.slice(0, 300)}${hint}`, { status: res.status });
      }
      return { res, url: u, repoCommit };
    }
  }

  /** GET a JSON answer: bounded, strictly parsed (no duplicate keys, bounded depth). */
  async json(url: string, expectCommit?: string): Promise<{ value: unknown; res: Response; text: string }> {
    const { res } = await this.request(url, { headers: { accept: 'application/json' } }, expectCommit);
    const max = this.opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
    const bytes = await readBounded(res, max, url);
    let text: string;
    try {
      // A byte order mark stays in the text: the JSON reader skips one and refuses a second (spec/strict-encodings.md §JSON).
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      return fail('HUB_RESPONSE_INVALID', `the Hub's answer for ${new URL(url).pathname.slice(0, 200)} is not UTF-8`);
    }
    // The project's strict reader (spec/strict-encodings.md §JSON): one pass, duplicates and deep nesting refused.
    let value: unknown;
    try {
      value = readJson(text, 'Hub answer', { maxDepth: 64, maxBytes: Number.MAX_SAFE_INTEGER });
    } catch (e) {
      return fail('HUB_RESPONSE_INVALID', `the Hub's answer for ${new URL(url).pathname.slice(0, 200)} is not valid JSON: ${(e as Error).message}`);
    }
    return { value, res, text };
  }

  /**
   * A fetch for @huggingface/hub: every URL it asks for must be one of `prefixes` (full pathnames) or below one, goes through `json()`, and is handed back as a fresh Response holding the checked bytes.
   */
  clientFetch(prefixes: readonly string[], expectCommit: string, maxRequests: number, shape: 'array' | 'object'): typeof fetch {
    let n = 0;
    return (async (input: string | URL | Request) => {
      const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const u = new URL(href);
      if (++n > maxRequests) fail('HUB_RESPONSE_INVALID', `more than ${maxRequests} pages in one Hub listing`);
      if (u.origin !== this.endpoint.origin || !prefixes.some((p) => u.pathname === p || u.pathname.startsWith(p + '/')))
        fail('HUB_RESPONSE_INVALID', `the Hub pointed the listing at ${u.origin}${u.pathname.slice(0, 200)}, outside the pinned repository and commit`);
      const { text, res, value } = await this.json(href, expectCommit);
      if (shape === 'array' ? !Array.isArray(value) : typeof value !== 'object' || value === null || Array.isArray(value))
        fail('HUB_RESPONSE_INVALID', `the Hub's answer for ${u.pathname.slice(0, 200)} is not a JSON ${shape}`);
      return new Response(text, { status: 200, headers: res.headers });
    }) as typeof fetch;
  }
}

/** Reads at most `max` bytes of a body; more is HUB_RESPONSE_INVALID, a broken stream too. */
export async function readBounded(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = res.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > max) {
    await res.body?.cancel().catch(() => {});
    fail('HUB_RESPONSE_INVALID', `the Hub's answer for ${what.slice(0, 200)} is ${declared} bytes, more than ${max}`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        fail('HUB_RESPONSE_INVALID', `the Hub's answer for ${what.slice(0, 200)} exceeds ${max} bytes`);
      }
      parts.push(value);
    }
  } catch (e) {
    if (e instanceof VerificationError) throw e;
    fail('HUB_RESPONSE_INVALID', `the Hub's answer for ${what.slice(0, 200)} broke off: ${(e as Error).message}`);
  }
  return concat(...parts);
}
