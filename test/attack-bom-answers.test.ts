// Answers read over the network (Hub, ARM, IMDS/THIM) and AK JWK files reach the strict JSON reader with every byte
// they had (spec/strict-encodings.md §JSON): a decoder that drops a leading byte order mark, or replaces bad UTF-8,
// let two byte order marks or invalid UTF-8 through where every other JSON text refuses them.
import { describe, expect, test } from 'vitest';
import { HubHttp } from '../src/hub/http.js';
import { ArmClient } from '../src/launcher/arm.js';
import { imdsText } from '../src/runner/imds.js';
import { readJson } from '../src/util/json.js';
import { loadAkPublic } from '../src/tpm/keys.js';

const BOM = [0xef, 0xbb, 0xbf];
const body = (prefix: number[], json: string): Uint8Array<ArrayBuffer> => new Uint8Array([...prefix, ...new TextEncoder().encode(json)]);
const answer = (b: Uint8Array<ArrayBuffer>) => async () => new Response(b, { status: 200, headers: { 'content-type': 'application/json' } });

describe('byte order marks and bad UTF-8 in answers', () => {
  test('Hub: one leading byte order mark is skipped, two are refused (HUB_RESPONSE_INVALID)', async () => {
    const hub = (b: Uint8Array<ArrayBuffer>) => new HubHttp({ endpoint: 'http://127.0.0.1:9', fetch: answer(b) as unknown as typeof fetch });
    expect((await hub(body(BOM, '{"a":1}')).json('http://127.0.0.1:9/api/x')).value).toEqual({ a: 1 });
    await expect(hub(body([...BOM, ...BOM], '{"a":1}')).json('http://127.0.0.1:9/api/x')).rejects.toMatchObject({ code: 'HUB_RESPONSE_INVALID', message: expect.stringMatching(/second byte order mark/) });
  });

  test('ARM: two byte order marks or invalid UTF-8 are a malformed answer, as the strict reader says for the bytes', async () => {
    const arm = (b: Uint8Array<ArrayBuffer>) =>
      new ArmClient({ endpoint: 'https://arm.invalid', credential: { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) }, fetch: answer(b), maxRetries: 0, sleep: async () => {} });
    expect(await arm(body(BOM, '{"id":"x"}')).get('/subscriptions/s', '1')).toEqual({ id: 'x' });
    for (const bad of [body([...BOM, ...BOM], '{"id":"x"}'), Uint8Array.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])]) {
      expect(() => readJson(bad, 'oracle')).toThrow();
      await expect(arm(bad).get('/subscriptions/s', '1')).rejects.toMatchObject({ code: 'MalformedResponse' });
    }
  });

  test('IMDS: the text handed on keeps a leading byte order mark, so the reader refuses two', async () => {
    const text = await imdsText({ url: 'http://127.0.0.1:9/x', fetch: answer(body([...BOM, ...BOM], '{"a":"b"}')) as unknown as typeof fetch, budgetMs: 1 });
    expect(text.startsWith('\ufeff\ufeff')).toBe(true);
    expect(() => readJson(text, 'THIM answer')).toThrow(/second byte order mark/);
  });

  test('AK JWK bytes with two byte order marks are refused like any JSON text', () => {
    const jwk = '{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}';
    expect(loadAkPublic(body(BOM, jwk)).source).toBe('jwk');
    expect(() => loadAkPublic(body([...BOM, ...BOM], jwk))).toThrow(/second byte order mark/);
  });
});

describe('aTLS answer bytes', () => {
  test('a runner answer with invalid UTF-8 is not JSON (no replacement characters slip through)', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createServer } = await import('node:https');
    const { attestRunner } = await import('../src/launcher/atls.js');
    const dir = mkdtempSync(join(tmpdir(), 'aicert-atls-bytes-'));
    // A self-signed runner certificate made by openssl (the client checks it only through the attestation).
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=runner', '-days', '1'], { stdio: 'ignore' });
    const server = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([...new TextEncoder().encode('{"note":"'), 0xff, ...new TextEncoder().encode('"}')]));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      await expect(attestRunner(`https://127.0.0.1:${port}`)).rejects.toMatchObject({ code: 'ATLS_MALFORMED', message: expect.stringMatching(/not JSON/) });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('IMDS answer that is not UTF-8', () => {
  test('is refused at once (IMDS_UNAVAILABLE), not retried as a network error until the budget ends', async () => {
    let t = 0;
    const sleeps: number[] = [];
    const bad = Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]);
    const p = imdsText({ url: 'http://127.0.0.1:9/x', fetch: answer(bad) as unknown as typeof fetch, now: () => t, sleep: async (ms) => void (sleeps.push(ms), (t += ms)) });
    await expect(p).rejects.toMatchObject({ code: 'IMDS_UNAVAILABLE', message: expect.stringMatching(/not UTF-8/) });
    expect(sleeps).toEqual([]);
  });
});
