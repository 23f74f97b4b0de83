/**
 * AIBOM v1 documents (JSON and CBOR) around REAL swtpm quotes: every quote-vector case goes through steps 1–4 and
 * must fail with the error the vector manifest names (the manifest's expectations come from the generator and
 * tpm2_checkquote/openssl, not from this code). The quotes were not bound to these statements, so even genuine
 * quotes must stop at binding.quote.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { aibomToCbor, aibomToJson, decodeCbor, parseStrictJson, verifyAibom } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';
import { qfile, quoteManifest, statementJson, v1FromVector } from './helpers/aibom-fixtures.js';

const m = quoteManifest();
const d = m ? describe : describe.skip;

d('AIBOM v1 on real quotes', () => {
  const M = m!;
  const opts = () => ({ trustAnchors: [qfile('ca/root.pem')], at: new Date(M.generated_at), allowUncheckedPlatform: true });
  // v1 binds the nonce through sha256(D ‖ nonce): a quote over a different nonce is a binding failure there.
  const v1Code = (c: string | null): string | null => (c === 'NONCE_MISMATCH' || c === null ? 'BINDING_MISMATCH' : c);

  test.each(m ? m.cases.map((c) => [c.name, c] as const) : [])('%s: stops with the manifest error', async (_n, c) => {
    const certDir = c.kind === 'positive' && !c.dir.includes('sel') ? c.dir : c.dir.includes('ecc') ? (c.dir.includes('cert') ? c.dir : 'ak-ecc') : c.dir.includes('cert') ? c.dir : 'ak-rsa';
    const r = await verifyAibom(v1FromVector(c.dir, certDir), opts());
    expect(r.valid).toBe(false);
    expect(r.error?.code).toBe(v1Code(c.expected.error));
    expect(r.checks.at(-1)?.ok).toBe(false);
    if (c.kind === 'positive') {
      expect(r.checks.find((x) => x.id === 'quote.signature')?.ok).toBe(true);
      expect(r.checks.find((x) => x.id === 'quote.ak.attributes')?.ok).toBe(true);
      expect(r.checks.at(-1)?.id).toBe('binding.quote');
    }
  });

  test('JSON and CBOR encodings give the same report; CBOR byte strings round-trip', async () => {
    const doc = v1FromVector('ak-ecc');
    const cbor = aibomToCbor(doc);
    expect(cbor[0]! >> 5).toBe(5);
    const a = await verifyAibom(JSON.stringify(doc), opts());
    const b = await verifyAibom(cbor, opts());
    expect(b.checks).toEqual(a.checks);
    expect(aibomToJson(decodeCbor(cbor) as Record<string, unknown>)).toEqual(doc);
  });

  test('unknown fields are ignored; unknown major versions and bad encodings are refused', async () => {
    const doc = v1FromVector('ak-rsa');
    const base = await verifyAibom(doc, opts());
    const extra = await verifyAibom({ ...doc, 'x-note': { any: [1, 2] }, evidence: { ...(doc.evidence as object), future: true } }, opts());
    expect(extra.checks).toEqual(base.checks);
    await expect(verifyAibom({ ...doc, _type: 'https://aicert.dev/aibom/v2' }, opts())).rejects.toThrow(/major version 2/);
    await expect(verifyAibom({ ...doc, _type: 'https://aicert.dev/aibom/v1.3' }, opts())).resolves.toBeTruthy();
    const ev = doc.evidence as { tpm: Record<string, unknown>; nonce: string };
    const sig = ev.tpm.signature as string;
    for (const bad of [
      { ...doc, statement: Buffer.from('{"_type": 1}').toString('base64') },
      { ...doc, statement: Buffer.from(statementJson([]).replace('"subject"', '"subject": [], "subject"')).toString('base64') },
      { ...doc, evidence: { ...ev, nonce: ev.nonce.toUpperCase().replace(/0/g, 'A') } },
      { ...doc, evidence: { ...ev, tpm: { ...ev.tpm, signature: sig.replace(/=*$/, '') } } },
      { ...doc, evidence: { ...ev, tpm: { ...ev.tpm, signature: sig.replace(/\+/g, '-').replace(/\//g, '_') + (sig.includes('+') || sig.includes('/') ? '' : '!') } } },
      { ...doc, evidence: { ...ev, appEventLog: { '14': [], '9': [] } } },
      { ...doc, evidence: { ...ev, appEventLog: { '14': ['not json'] } } },
    ]) {
      await expect(verifyAibom(bad, opts())).rejects.toBeInstanceOf(MalformedInputError);
    }
  });

  test('CBOR outside the admitted subset is refused', () => {
    const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
    for (const h of ['a1616101c0', 'a26161016161 02', 'bf616101ff', 'a1616101 00', 'a1c1016101', 'a16161f7', 'a1616119', 'a1 01 01', '9b0000000000000009']) {
      expect(() => decodeCbor(hex(h.replace(/ /g, '')))).toThrow(MalformedInputError);
    }
    expect(decodeCbor(hex('d9d9f7a1616101'))).toEqual({ a: 1 });
  });

  test('fuzz: random and mutated CBOR/JSON documents only ever throw MalformedInputError or fail a check', async () => {
    const cbor = aibomToCbor(v1FromVector('ak-rsa'));
    const json = new TextEncoder().encode(JSON.stringify(v1FromVector('ak-rsa')));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(cbor, json), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), async (base, i, v, truncate) => {
        const b = base.slice(0, truncate ? i % base.length : base.length);
        if (!truncate) b[i % b.length] = v;
        try {
          const r = await verifyAibom(b, opts());
          expect(r.valid).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedInputError);
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      try {
        decodeCbor(Uint8Array.of(0xa1, ...b));
      } catch (e) {
        expect(e).toBeInstanceOf(MalformedInputError);
      }
    }), { numRuns: 2000 });
  });
});

describe('strict JSON reader', () => {
  test('agrees with JSON.parse on every JSON text without duplicate keys, and refuses what JSON.parse refuses', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        expect(parseStrictJson(text, 'x')).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        let native: unknown;
        try {
          native = JSON.parse(s);
        } catch {
          expect(() => parseStrictJson(s, 'x')).toThrow(MalformedInputError);
          return;
        }
        expect(parseStrictJson(s, 'x')).toEqual(native);
      }),
      { numRuns: 2000 },
    );
    expect(() => parseStrictJson('{"a": 1, "a": 1}', 'x')).toThrow(/duplicate key/);
    expect(() => parseStrictJson('['.repeat(40) + ']'.repeat(40), 'x')).toThrow(/nesting/);
  });
});
