/**
 * Proof of the bound regions of an AIBOM v1 document (spec/aibom-v1.md §6). The document is REAL (testvectors/aibom,
 * made on swtpm). Every byte is classified by an independent scanner in this file:
 *   bound     — inside the signed attest/signature, the statement (bound by qualifyingData), PCR values (PCR digest),
 *               app events and TLS certificate (PCR replay), nonce (qualifyingData), AK certificate DER (chain
 *               signatures), `_type`, keys and JSON structure;
 *   ws        — whitespace between JSON tokens;
 *   unknown   — the name and contents of a field this verifier does not know (ignored, the in-toto rule);
 *   advisory  — akPublic (only its key, attributes and scheme are checked: other bytes such as authPolicy are not
 *               bound by anything), PEM line breaks and text outside the BEGIN/END block in akCertificates (not part
 *               of the DER), and the key
 *               names of optional fields (renaming one drops the field; its check turns to "not checked").
 * Property: a single-byte mutation that leaves the verdict valid lies outside `bound`, and never changes or adds a
 * claim (dropping an optional field may only remove what it proved, e.g. the TLS binding).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeCbor, encodeCbor, verifyAibom } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';
import { AIBOM_DIR } from './helpers/aibom-fixtures.js';

type Cls = 'bound' | 'ws' | 'unknown' | 'advisory';
const have = existsSync(resolve(AIBOM_DIR, 'manifest.json'));

/** Classifies each byte of an ASCII JSON text by the path of the value it belongs to. */
function classify(text: string): Cls[] {
  const cls: Cls[] = new Array<Cls>(text.length).fill('bound');
  let i = 0;
  const path: string[] = [];
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) cls[i++] = 'ws';
  };
  const str = (): { start: number; end: number; value: string } => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return { start, end: i, value: JSON.parse(text.slice(start, i)) as string };
  };
  const mark = (a: number, b: number, c: Cls) => {
    for (let k = a; k < b; k++) cls[k] = c;
  };
  const value = (): void => {
    ws();
    const p = path.join('.');
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      let n = 0;
      for (;;) {
        ws();
        if (text[i] === '}' || text[i] === ']') return void i++;
        let key = String(n++);
        if (c === '{') {
          const k = str();
          key = k.value;
          if (['akPublic', 'tlsCertificate', 'bootEventLog'].includes(key)) mark(k.start + 1, k.end - 1, 'advisory');
          if (key === 'x-note') mark(k.start + 1, k.end - 1, 'unknown');
          ws();
          i++;
        }
        path.push(key);
        value();
        path.pop();
        ws();
        if (text[i] === ',') i++;
      }
    }
    if (c === '"') {
      const s = str();
      if (p === 'x-note') mark(s.start + 1, s.end - 1, 'unknown');
      if (p === 'evidence.tpm.akPublic') mark(s.start, s.end, 'advisory');
      if (p.startsWith('evidence.tpm.akCertificates.') && s.value.includes('-----BEGIN')) {
        for (let k = s.start; k < s.end - 1; k++) if (text[k] === '\\' && text[k + 1] === 'n') cls[k + 1] = 'advisory';
        // Text outside the BEGIN/END block is PEM "explanatory text": not part of the certificate.
        const begin = text.indexOf('-----BEGIN', s.start);
        const endMark = '-----END CERTIFICATE-----';
        const end = text.indexOf(endMark, begin) + endMark.length;
        mark(s.start + 1, begin, 'advisory');
        mark(end, s.end - 1, 'advisory');
      }
      return;
    }
    while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++;
  };
  value();
  ws();
  return cls;
}

(have ? describe : describe.skip)('single-byte mutations of a real AIBOM v1', () => {
  const man = have ? (JSON.parse(readFileSync(resolve(AIBOM_DIR, 'manifest.json'), 'utf8')) as { generated_at: string }) : { generated_at: '' };
  const rd = (p: string) => readFileSync(resolve(AIBOM_DIR, p));
  const opts = () => ({ trustAnchors: [rd('ca/root.pem')], measurements: rd('measurements.json'), containers: rd('containers.json'), at: new Date(man.generated_at) });
  const original = have ? rd('aibom.json').toString('utf8') : '{}';
  // Pretty-printed (whitespace between tokens) with one unknown field, statement bytes untouched.
  const text = have ? JSON.stringify({ 'x-note': 'this field is unknown to v1 verifiers', ...JSON.parse(original) }, null, 1) : '{}';
  const bytes = new TextEncoder().encode(text);
  const cls = classify(text);
  const outcome = async (b: Uint8Array) => {
    try {
      const r = await verifyAibom(b, opts());
      return { valid: r.valid, claims: r.claims, okChecks: r.checks.filter((c) => c.ok === true).length };
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedInputError);
      return { valid: false as const };
    }
  };

  test('the unmutated documents (pretty JSON with an unknown field, and CBOR) are valid', async () => {
    expect(text.length).toBe(bytes.length); // ASCII: byte offsets are character offsets
    const r = await outcome(bytes);
    expect(r.valid).toBe(true);
    const counts = cls.reduce<Record<string, number>>((a, c) => ((a[c] = (a[c] ?? 0) + 1), a), {});
    expect(counts.bound).toBeGreaterThan(0.8 * bytes.length);
    expect((await outcome(rd('aibom.cbor'))).valid).toBe(true);
  });

  test('any mutation that stays valid is outside every bound region and leaves the claims unchanged', async () => {
    const base = await outcome(bytes);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }), async (i, v) => {
        fc.pre(bytes[i] !== v);
        const b = bytes.slice();
        b[i] = v;
        const r = await outcome(b);
        if (r.valid) {
          expect(cls[i], `offset ${i} (${JSON.stringify(text.slice(i - 20, i + 20))})`).not.toBe('bound');
          // Dropping an optional field may remove what it proved (e.g. the TLS binding), never change or add a claim.
          if (cls[i] === 'advisory') expect(base.claims).toMatchObject(r.claims!);
          else expect(r.claims).toEqual(base.claims);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('mutations inside bound regions are never valid (every bound byte, then random deltas)', { timeout: 180_000 }, async () => {
    const bound = cls.flatMap((c, i) => (c === 'bound' ? [i] : []));
    // Exhaustive over bound offsets: replace each byte by a different printable one.
    for (const i of bound) {
      const b = bytes.slice();
      b[i] = b[i] === 0x41 ? 0x42 : 0x41;
      expect((await outcome(b)).valid, `offset ${i} (${JSON.stringify(text.slice(i - 20, i + 20))})`).toBe(false);
    }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...bound), fc.integer({ min: 1, max: 255 }), async (i, d) => {
        const b = bytes.slice();
        b[i] = (b[i]! + d) & 0xff;
        expect((await outcome(b)).valid, `offset ${i} (${JSON.stringify(text.slice(i - 20, i + 20))})`).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  test('whitespace and unknown-field contents are not bound: changing them keeps the same verdict and claims', async () => {
    const base = await outcome(bytes);
    const wsIdx = cls.flatMap((c, i) => (c === 'ws' ? [i] : []));
    const unk = cls.flatMap((c, i) => (c === 'unknown' ? [i] : []));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...wsIdx), fc.constantFrom(0x20, 0x09, 0x0a, 0x0d), fc.constantFrom(...unk), fc.integer({ min: 0x61, max: 0x7a }), async (i, w, j, l) => {
        const b = bytes.slice();
        b[i] = w;
        b[j] = l;
        const r = await outcome(b);
        expect(r).toEqual(base);
      }),
      { numRuns: 60 },
    );
  });

  test('CBOR: a mutation that stays valid lies in the unknown field or akPublic, and leaves the claims unchanged', { timeout: 180_000 }, async () => {
    const doc = decodeCbor(rd('aibom.cbor')) as Record<string, unknown>;
    const cbor = encodeCbor({ 'x-note': new TextEncoder().encode('unknown-field-bytes'), ...doc });
    const base = await outcome(cbor);
    expect(base.valid).toBe(true);
    // A value's range includes its CBOR head (the byte before the content; these contents are short).
    const find = (needle: Uint8Array): [number, number] => {
      const at = Buffer.from(cbor).indexOf(Buffer.from(needle));
      expect(at).toBeGreaterThanOrEqual(0);
      return [at - (needle.length < 24 ? 1 : 3), at + needle.length];
    };
    const allowed = [
      find(new TextEncoder().encode('unknown-field-bytes')),
      find(new TextEncoder().encode('x-note')),
      find((doc.evidence as { tpm: { akPublic: Uint8Array } }).tpm.akPublic),
      ...['akPublic', 'tlsCertificate'].map((k) => find(new TextEncoder().encode(k))),
    ];
    // Exhaustive: every byte offset, flipped in its low bit; plus random deltas anywhere.
    const check = async (i: number, d: number) => {
      const b = cbor.slice();
      b[i] = (b[i]! + d) & 0xff;
      const r = await outcome(b);
      if (r.valid) {
        expect(allowed.some(([a, z]) => i >= a && i < z), `offset ${i}`).toBe(true);
        expect(base.claims).toMatchObject(r.claims!);
      }
    };
    for (let i = 0; i < cbor.length; i++) await check(i, (cbor[i]! & 1) === 0 ? 1 : 255);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: cbor.length - 1 }), fc.integer({ min: 1, max: 255 }), check),
      { numRuns: 400 },
    );
  });
});
