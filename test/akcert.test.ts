/**
 * AK chain validation against certificates made by openssl (testvectors/certs/gen.sh). Every verdict is the
 * generator's stated expectation, and where openssl can express the check, our validity must equal openssl's
 * own recorded verdict (`openssl verify -attime ... -purpose any`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MalformedInputError, VerificationError } from '../src/errors.js';
import { parseCertificates, verifyAkChain, type AkChainResult, type CertInput } from '../src/tpm/akcert.js';

const DIR = resolve(import.meta.dirname, '../testvectors/certs');
interface Case {
  name: string;
  leaf: string;
  anchors: string[];
  intermediates: string[];
  requireAikEku: boolean;
  expect: string;
  comparable: boolean;
  openssl: string;
}
interface Facts { subject: string; issuer: string; serial: string; notBefore: string; notAfter: string; sha256: string }
const manifest = JSON.parse(readFileSync(`${DIR}/manifest.json`, 'utf8')) as { at: string; cases: Case[]; certs: Record<string, Facts> };
const AT = new Date(manifest.at);
const der = (n: string): Uint8Array => new Uint8Array(readFileSync(`${DIR}/${n}.der`));
const pem = (n: string): string => readFileSync(`${DIR}/${n}.pem`, 'utf8');

/** Deterministic shuffle (LCG) so the order differs per case but is reproducible. */
function shuffle<T>(xs: T[], seed: number): T[] {
  const a = [...xs];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Leaf + intermediates, shuffled, alternating DER bytes / PEM text / PEM bytes. */
function chainInput(c: Case, seed: number): CertInput[] {
  const names = shuffle([c.leaf, ...c.intermediates], seed);
  return names.map((n, i) => (i % 3 === 0 ? der(n) : i % 3 === 1 ? pem(n) : new TextEncoder().encode(pem(n))));
}

async function verdict(p: Promise<AkChainResult>): Promise<string> {
  try {
    await p;
    return 'valid';
  } catch (e) {
    if (e instanceof VerificationError || e instanceof MalformedInputError) return e.code;
    throw e;
  }
}

describe('openssl-generated chains (manifest)', () => {
  test('manifest has the expected coverage', () => {
    expect(manifest.cases.length).toBeGreaterThanOrEqual(30);
    expect(manifest.cases.filter((c) => c.comparable).length).toBeGreaterThanOrEqual(20);
  });
  test.each(manifest.cases.map((c, i) => [c.name, c, i] as const))('%s', async (_n, c, i) => {
    const opts = { trustAnchors: c.anchors.map((a, k) => (k % 2 ? der(a) : pem(a))), at: AT, requireAikEku: c.requireAikEku };
    // Leaf first (documented order) and shuffled (the leaf is then inferred).
    const ordered = [der(c.leaf), ...c.intermediates.map(pem)];
    const got = await verdict(verifyAkChain(ordered, opts));
    const gotShuffled = await verdict(verifyAkChain(chainInput(c, i + 1), opts));
    expect(got).toBe(c.expect);
    expect(gotShuffled).toBe(c.expect);
    // Where openssl can express the rule, its recorded verdict must agree with ours.
    if (c.comparable) expect(got === 'valid').toBe(c.openssl === 'valid');
  });
});

describe('results', () => {
  test('valid RSA chain: path, anchor, leaf details agree with openssl', async () => {
    const r = await verifyAkChain([pem('int-rsa'), der('ak-rsa')], { trustAnchors: [pem('root-rsa')], at: AT });
    const facts = (n: string) => manifest.certs[n]!;
    const expectSummary = (s: AkChainResult['anchor'], n: string) => {
      const f = facts(n);
      expect(s).toMatchObject({ subject: f.subject, issuer: f.issuer, serialHex: f.serial, notBefore: f.notBefore, notAfter: f.notAfter, sha256: f.sha256 });
    };
    expectSummary(r.leaf, 'ak-rsa');
    expectSummary(r.path[1]!, 'int-rsa');
    expectSummary(r.anchor, 'root-rsa');
    expect(r.path).toHaveLength(3);
    expect(r.leaf.eku).toEqual(['2.23.133.8.3']);
    expect(r.leaf.sanDirectoryName).toBe('2.23.133.2.1=id:414D4400, 2.23.133.2.2=SLB9670, 2.23.133.2.3=id:000D0005');
    expect(r.leaf.platform).toBeUndefined();
    // The SPKI is the leaf's own: compare with node's independent parser.
    const { X509Certificate } = await import('node:crypto');
    const spki = new X509Certificate(der('ak-rsa')).publicKey.export({ type: 'spki', format: 'der' });
    expect(Buffer.from(r.leaf.spki).equals(spki)).toBe(true);
  });

  test('EC chain (P-384 root, P-256 intermediate) with empty leaf subject', async () => {
    const r = await verifyAkChain(pem('int-ec') + pem('ak-ec'), { trustAnchors: [der('root-ec')], at: AT });
    expect(r.leaf.subject).toBe('');
    expect(r.leaf.sha256).toBe(manifest.certs['ak-ec']!.sha256);
    expect(r.anchor.subject).toBe(manifest.certs['root-ec']!.subject);
  });

  test('every certificate summary string matches openssl (names with escaping and multi-valued RDNs)', async () => {
    const r = await verifyAkChain([der('ak-names'), der('int-rsa')], { trustAnchors: [der('root-rsa')], at: AT });
    expect(r.leaf.subject).toBe(manifest.certs['ak-names']!.subject);
    expect(r.leaf.subject).toContain(' + UID=u1');
  });

  test('ECDSA: high-S signatures are among the verified ones (no low-S rule)', () => {
    const n256 = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const n384 = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
    const sOf = (d: Uint8Array): bigint => {
      // Test-side DER walk: Certificate -> last element (BIT STRING) -> Ecdsa-Sig-Value -> s.
      const tlv = (b: Uint8Array, o: number) => {
        let len = b[o + 1]!, h = 2;
        if (len & 0x80) { const n = len & 0x7f; len = 0; for (let k = 0; k < n; k++) len = len * 256 + b[o + 2 + k]!; h = 2 + n; }
        return { start: o + h, end: o + h + len };
      };
      const outer = tlv(d, 0);
      const tbs = tlv(d, outer.start);
      const alg = tlv(d, tbs.end);
      const bits = tlv(d, alg.end);
      const seq = tlv(d, bits.start + 1);
      const r = tlv(d, seq.start);
      const s = tlv(d, r.end);
      return BigInt(`0x${Buffer.from(d.subarray(s.start, s.end)).toString('hex')}`);
    };
    const high = ['ak-ec', 'ak-ec-1', 'ak-ec-2', 'ak-ec-3', 'ak-ec-4', 'ak-ec-5', 'ak-ec-6'].filter((n) => sOf(der(n)) > n256 / 2n).length
      + (sOf(der('int-ec')) > n384 / 2n ? 1 : 0);
    // The committed set contains at least one high-S signature; the manifest cases above show they verify.
    expect(high).toBeGreaterThan(0);
  });
});

describe('leaf selection and input forms', () => {
  test('one PEM text with several certificates, leaf last', async () => {
    const r = await verifyAkChain(pem('int-rsa') + '\n' + pem('ak-eku81'), { trustAnchors: [pem('root-rsa')], at: AT });
    expect(r.leaf.subject).toBe('CN=ak-eku81.test');
    expect(r.leaf.eku).toEqual(['2.23.133.8.1']);
  });
  test('root included in the given certificates and trusted by exact DER', async () => {
    const r = await verifyAkChain([der('root-rsa'), der('ak-rsa'), der('int-rsa')], { trustAnchors: [der('root-rsa')], at: AT });
    expect(r.path.map((p) => p.sha256)).toEqual(['ak-rsa', 'int-rsa', 'root-rsa'].map((n) => manifest.certs[n]!.sha256));
    expect(r.warnings).toEqual([]);
  });
  test('two unrelated leaves in an unordered set are ambiguous', async () => {
    const v = await verdict(verifyAkChain([der('int-rsa'), der('ak-rsa'), der('ak-eku81')], { trustAnchors: [der('root-rsa')], at: AT }));
    expect(v).toBe('CERT_CHAIN_INVALID');
  });
  test('leaf first with an extra unrelated certificate: leaf wins, a warning is given', async () => {
    const r = await verifyAkChain([der('ak-rsa'), der('int-rsa'), der('root-ec')], { trustAnchors: [der('root-rsa')], at: AT });
    expect(r.leaf.subject).toBe('O=aicert test, CN=ak-rsa.test');
    expect(r.warnings.some((w) => w.includes('not on the validated path'))).toBe(true);
  });
  test('intermediates option and default (Azure) anchors do not trust the test root', async () => {
    expect(await verdict(verifyAkChain(der('ak-rsa'), { intermediates: [der('int-rsa')], at: AT }))).toBe('CERT_UNTRUSTED_ROOT');
    const r = await verifyAkChain(der('ak-rsa'), { intermediates: [der('int-rsa')], trustAnchors: [pem('root-rsa')], at: AT });
    expect(r.path).toHaveLength(3);
  });
  test('default time is now: the test leaves are valid until 2028 only', async () => {
    const v = await verdict(verifyAkChain([der('ak-rsa'), der('int-rsa')], { trustAnchors: [der('root-rsa')] }));
    expect(v).toBe(Date.now() < Date.parse('2028-01-01T00:00:00Z') ? 'valid' : 'CERT_EXPIRED');
  });
  test('bad argument types are TypeErrors', async () => {
    await expect(verifyAkChain(42 as unknown as CertInput)).rejects.toBeInstanceOf(TypeError);
    await expect(verifyAkChain(der('ak-rsa'), { at: new Date('x') })).rejects.toBeInstanceOf(TypeError);
    await expect(verifyAkChain(der('ak-rsa'), { requireAikEku: 'no' as unknown as boolean })).rejects.toBeInstanceOf(TypeError);
  });
  test('parseCertificates: mixed forms in order; garbage has a path', () => {
    const list = parseCertificates([pem('int-rsa') + pem('root-rsa'), der('ak-rsa')]);
    expect(list.map((d) => Buffer.from(d).equals(der('ak-rsa')))).toEqual([false, false, true]);
    expect(Buffer.from(list[0]!).equals(der('int-rsa'))).toBe(true);
    for (const bad of [new Uint8Array([1, 2, 3]), 'hello', '-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----',
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', new Uint8Array(0), pem('ak-rsa').slice(0, 200)]) {
      expect(() => parseCertificates([der('ak-rsa'), bad])).toThrow(MalformedInputError);
    }
    let thrown: unknown;
    try {
      parseCertificates([der('ak-rsa'), new Uint8Array([0x30, 0x03, 0x02, 0x01])]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MalformedInputError);
    expect((thrown as MalformedInputError).path).toContain('certs[1]');
    // Trailing bytes after the DER certificate.
    expect(() => parseCertificates(new Uint8Array([...der('ak-rsa'), 0]))).toThrow(MalformedInputError);
  });
  test('garbage DER that passes the DER walk but is no certificate -> MalformedInputError', async () => {
    await expect(verifyAkChain(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]))).rejects.toBeInstanceOf(MalformedInputError);
  });
});
