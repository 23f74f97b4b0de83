// The runner's IMDS userData read: 410 and 5xx are retried (Microsoft's IMDS guidance) for up to 70 s, on an injected
// clock; 4xx other than 410/429 fail at once; the Metadata header is always sent.
import { describe, expect, it } from 'vitest';
import { imdsText } from '../src/runner/imds.js';

function script(answers: (number | 'net')[]) {
  let t = 0;
  const seen: Record<string, string>[] = [];
  const fetch = (async (_u: string, init: { headers: Record<string, string> }) => {
    seen.push(init.headers);
    const a = answers.shift() ?? 200;
    if (a === 'net') throw new Error('connect ECONNREFUSED 169.254.169.254:80');
    return new Response(a === 200 ? 'eyJ9' : 'busy', { status: a });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, seen, now: () => t, sleep: async (ms: number) => void (t += ms), elapsed: () => t };
}

describe('imdsText', () => {
  it('retries 410, 500, 503 and a network error, then returns the text', async () => {
    const s = script([410, 500, 'net', 503]);
    expect(await imdsText(s)).toBe('eyJ9');
    expect(s.seen).toHaveLength(5);
    expect(s.seen.every((h) => h.Metadata === 'true')).toBe(true);
    expect(s.elapsed()).toBe(1000 + 2000 + 4000 + 8000);
  });

  it('gives up after 70 s of 410, and at once on 404', async () => {
    const s = script(Array(100).fill(410));
    await expect(imdsText(s)).rejects.toThrow(/no answer within 70 s \(HTTP 410\)/);
    expect(s.elapsed()).toBeLessThanOrEqual(70_000);
    expect(s.elapsed()).toBeGreaterThan(50_000);
    const n = script([404]);
    await expect(imdsText(n)).rejects.toThrow(/IMDS: HTTP 404/);
    expect(n.seen).toHaveLength(1);
  });
});
