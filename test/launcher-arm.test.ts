// ARM REST client against the loopback ARM fake: retries, Retry-After, long-running operations, typed errors.
import { afterEach, describe, expect, it } from 'vitest';
import { ArmClient, ArmHttpError, ArmOperationError, CloudError, retryAfterMs, type FetchLike } from '../src/launcher/arm.js';
import { startFakeArm, type FakeArm, type FakeArmOptions } from './helpers/fake-arm.js';

const SUB = '0b7e3a42-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const RG = `/subscriptions/${SUB}/resourceGroups/aicert-test`;
const VNET = `${RG}/providers/Microsoft.Network/virtualNetworks/v1`;
const vnetBody = { location: 'westeurope', properties: { addressSpace: { addressPrefixes: ['10.0.0.0/16'] }, subnets: [] } };

let fake: FakeArm | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** A client on the fake that records every sleep instead of waiting (unless `realSleep`). */
async function setup(o: FakeArmOptions = {}, extra: Partial<ConstructorParameters<typeof ArmClient>[0]> = {}) {
  fake = await startFakeArm(o);
  const sleeps: number[] = [];
  const urls: string[] = [];
  const base = fake.fetch;
  const fetch: FetchLike = (u, i) => (urls.push(u), base(u, i));
  const arm = new ArmClient({ endpoint: fake.url, credential: fake.credential, fetch, sleep: async (ms) => void sleeps.push(ms), ...extra });
  return { fake, arm, sleeps, urls };
}

describe('retries', () => {
  it('honours Retry-After on 429, backs off on 500, then succeeds', async () => {
    const { fake, arm, sleeps } = await setup({}, { baseDelayMs: 100, maxDelayMs: 5000, minPollIntervalMs: 0 });
    fake.inject({ method: 'PUT', status: 429, retryAfter: 3 });
    fake.inject({ method: 'PUT', status: 500 });
    const r = await arm.put(VNET, '2024-05-01', vnetBody);
    expect((r.properties as { provisioningState: string }).provisioningState).toBe('Succeeded');
    // 3 s from Retry-After, then a jittered 50–100 ms backoff (attempt 1 → base 200 ms / 2 .. 200 ms).
    expect(sleeps[0]).toBe(3000);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
    expect(fake.requests.filter((q) => q.method === 'PUT').map((q) => q.status)).toEqual([429, 500, 201]);
  });

  it('caps Retry-After at maxDelayMs and gives up after maxRetries with a typed error', async () => {
    const { fake, arm, sleeps } = await setup({}, { maxRetries: 3, maxDelayMs: 250 });
    fake.inject({ method: 'GET', status: 503, retryAfter: 120, times: 10 });
    const e = await arm.get(VNET, '2024-05-01').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ArmHttpError);
    expect((e as ArmHttpError).status).toBe(503);
    expect(sleeps).toEqual([250, 250, 250]);
    expect(fake.requests).toHaveLength(4);
  });

  it('does not retry 4xx and reports ARM error codes', async () => {
    const { fake, arm } = await setup();
    const bad = new ArmClient({ endpoint: fake.url, fetch: fake.fetch, credential: { getToken: async () => ({ token: 'wrong', expiresOnTimestamp: Date.now() + 3600_000 }) } });
    await expect(bad.get(VNET, '2024-05-01')).rejects.toMatchObject({ status: 401, code: 'AuthenticationFailed' });
    await expect(arm.put(VNET, '2023-01-01', vnetBody)).rejects.toMatchObject({ status: 400, code: 'NoRegisteredProviderFound' });
    await expect(arm.put(VNET.replace('aicert-test', 'nope'), '2024-05-01', vnetBody)).rejects.toMatchObject({ status: 404, code: 'ResourceGroupNotFound' });
    expect(fake.requests).toHaveLength(3);
  });

  it('reads Retry-After as seconds, HTTP date or milliseconds', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }), now)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(1500);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });
});

describe('long-running operations', () => {
  it('polls Azure-AsyncOperation InProgress → Succeeded, then GETs the resource', async () => {
    const { fake, arm, urls } = await setup({ inProgressPolls: 2, retryAfter: 2 }, { minPollIntervalMs: 0 });
    await arm.put(VNET, '2024-05-01', vnetBody);
    const polls = fake.requests.filter((q) => q.path.includes('/operations/'));
    expect(polls).toHaveLength(3);
    expect(urls.at(-1)).toBe(`${fake.url}${VNET}?api-version=2024-05-01`);
    expect(fake.resources().map((r) => [r.id, r.provisioningState])).toEqual([[VNET, 'Succeeded']]);
  });

  it('follows Location with URLs longer than 4 KB, for PUT and DELETE', async () => {
    const { fake, arm, urls, sleeps } = await setup({ lro: 'location', longUrls: true, retryAfter: 1 }, { minPollIntervalMs: 10 });
    await arm.put(VNET, '2024-05-01', vnetBody);
    expect(await arm.delete(VNET, '2024-05-01')).toBe('deleted');
    const long = urls.filter((u) => u.includes('/operationResults/'));
    expect(long.length).toBeGreaterThanOrEqual(4);
    expect(Math.min(...long.map((u) => u.length))).toBeGreaterThan(4096);
    expect(sleeps.every((s) => s === 1000)).toBe(true);
    expect(fake.resources()).toEqual([]);
    expect(await arm.delete(VNET, '2024-05-01')).toBe('absent');
    expect(await arm.get(VNET, '2024-05-01')).toBeUndefined();
  });

  it('turns a Failed operation into ArmOperationError carrying the service code', async () => {
    const { fake, arm } = await setup({}, { minPollIntervalMs: 0 });
    fake.failProvisioning('virtualNetworks', 'SubnetsOverlap');
    const e = await arm.put(VNET, '2024-05-01', vnetBody).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ArmOperationError);
    expect(e).toMatchObject({ status: 'Failed', code: 'SubnetsOverlap', resourceId: VNET });
    // Like ARM, the failed resource still exists and must be deleted.
    expect(fake.resources().map((r) => r.provisioningState)).toEqual(['Failed']);
  });

  it('never sends the token to an operation URL on another origin', async () => {
    const { fake } = await setup();
    const seen: string[] = [];
    const base = fake.fetch;
    const fetch: FetchLike = async (u, i) => {
      seen.push(new URL(u).origin);
      const r = await base(u, i);
      const h = new Headers(r.headers);
      if (h.has('azure-asyncoperation')) h.set('azure-asyncoperation', 'https://attacker.invalid/op');
      return new Response(await r.text(), { status: r.status, headers: h });
    };
    const arm = new ArmClient({ endpoint: fake.url, credential: fake.credential, fetch, sleep: async () => {} });
    await expect(arm.put(VNET, '2024-05-01', vnetBody)).rejects.toMatchObject({ code: 'ForeignOperationUrl' });
    expect(new Set(seen)).toEqual(new Set([fake.url]));
  });

  it('stops waiting when the signal aborts, with the signal reason', async () => {
    const { arm } = await setup({ opDelayMs: 10_000, autoCompleteMs: 10_000 }, { sleep: undefined, minPollIntervalMs: 20 });
    const ac = new AbortController();
    const reason = new Error('user abort');
    setTimeout(() => ac.abort(reason), 100);
    await expect(arm.put(VNET, '2024-05-01', vnetBody, ac.signal)).rejects.toBe(reason);
  });

  it('refuses plain-http endpoints and non-ARM paths', async () => {
    expect(() => new ArmClient({ endpoint: 'http://127.0.0.1:1' })).toThrow(TypeError);
    const { arm } = await setup();
    expect(() => arm.url('/etc/passwd', '1')).toThrow(TypeError);
    const e = await new ArmClient({ endpoint: 'https://127.0.0.1:1', credential: fake!.credential, fetch: fake!.fetch, maxRetries: 1, sleep: async () => {} })
      .get(VNET, '2024-05-01')
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CloudError);
    expect((e as CloudError).code).toBe('NetworkError');
  });
});
