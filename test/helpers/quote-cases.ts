/**
 * Runs every case of a testvectors/quote manifest through aicert's verifier and the `aicert quote` CLI.
 * Expected verdicts come from the generator's manifest, where each was confirmed by tpm2_checkquote, openssl
 * signature checks and `openssl verify` — never from aicert itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { VerificationError } from '../../src/errors.js';
import { verifyAkQuote, verifyQuote } from '../../src/tpm/index.js';
import { fromHex } from '../../src/util/bytes.js';
import { run as quoteCli } from '../../src/cli/cmd-quote.js';

export interface QuoteCase {
  name: string;
  dir: string;
  kind: 'positive' | 'negative';
  nonce: string;
  expected: { verdict: 'valid' | 'invalid'; error: string | null; also: string[]; quote_verdict: 'valid' | 'invalid' };
  checkquote: { verdict: 'valid' | 'invalid' };
  cert: null | Record<string, unknown>;
}
export interface QuoteManifest {
  generated_at: string;
  cases: QuoteCase[];
  trust_anchors: string[];
}

/** Cases where tpm2_checkquote 5.4 is wrong (see testvectors/README.md): PSS salt, restricted, scheme. */
export const CHECKQUOTE_WEAKNESSES = ['ak-rsapss', 'ecc-non-restricted', 'rsa-non-restricted', 'rsa-scheme-rsassa-as-pss'];

/** Captures what a CLI run writes to stdout. */
export async function captureStdout(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const orig = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { code: await fn(), out };
  } finally {
    process.stdout.write = orig;
    process.stderr.write = origErr;
  }
}

/** Declares one vitest test per case (library) and one CLI agreement test per case. */
export function quoteCaseTests(root: () => string): void {
  const manifest = (): QuoteManifest => JSON.parse(readFileSync(join(root(), 'manifest.json'), 'utf8'));
  const committed = JSON.parse(readFileSync(join(import.meta.dirname, '../../testvectors/quote/manifest.json'), 'utf8')) as QuoteManifest;
  for (const c0 of committed.cases) {
    test(`${c0.name}: ${c0.expected.verdict}${c0.expected.error ? ` (${c0.expected.error})` : ''}`, async () => {
      const m = manifest();
      const c = m.cases.find((x) => x.name === c0.name)!;
      expect(c).toBeDefined();
      const dir = join(root(), c.dir);
      const rd = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
      const base = { attest: rd('quote.msg'), signature: rd('quote.sig'), akPublic: rd('ak.pub'), pcrs: rd('quote.pcrs'), nonce: fromHex(c.nonce) };
      const withCert = existsSync(join(dir, 'ak.crt.der'));
      const p = withCert
        ? verifyAkQuote(
            { ...base, akCertificates: [rd('ak.crt.der'), readFileSync(join(dir, 'chain.pem'), 'utf8')] },
            { trustAnchors: m.trust_anchors.map((f) => readFileSync(join(root(), f), 'utf8')), at: new Date(m.generated_at) },
          )
        : verifyQuote(base);
      if (c.expected.verdict === 'valid') {
        const r = await p;
        // Without a certificate the AK public area's attributes are only the document's word: not a passed check.
        const unproven = r.checks.filter((ch) => ch.ok !== true);
        expect(unproven.map((ch) => [ch.id, ch.source])).toEqual(withCert ? [] : [['ak.attributes', 'document']]);
        expect(r.complete).toBe(withCert);
      } else {
        const err = await p.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(VerificationError);
        // The first failing check is the expected one, or one of the codes the manifest says also fire.
        expect([c.expected.error, ...c.expected.also]).toContain((err as VerificationError).code);
      }
    });
  }

  test('aicert quote agrees with tpm2_checkquote except where tpm2-tools 5.4 is known to be wrong', async () => {
    const m = manifest();
    const disagree: string[] = [];
    for (const c of m.cases) {
      const dir = join(root(), c.dir);
      const f = (n: string) => join(dir, n);
      // Same inputs as the recorded command: tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig -f quote.pcrs -q NONCE
      const { code, out } = await captureStdout(() =>
        quoteCli(['--ak', f('ak.pub'), '--message', f('quote.msg'), '--signature', f('quote.sig'), '--pcrs', f('quote.pcrs'), '--nonce', c.nonce, '--json']),
      );
      const json = JSON.parse(out) as { valid: boolean; checks: unknown[] };
      expect(code).toBe(json.valid ? 0 : 1);
      // Our quote-only verdict must be the manifest's quote verdict, always.
      expect(json.valid ? 'valid' : 'invalid').toBe(c.expected.quote_verdict);
      if ((code === 0 ? 'valid' : 'invalid') !== c.checkquote.verdict) disagree.push(c.name);
    }
    expect(disagree.sort()).toEqual([...CHECKQUOTE_WEAKNESSES].sort());
  });
}
