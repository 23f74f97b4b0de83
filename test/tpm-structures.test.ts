// TPM structure decoding cross-checked against tpm2_print (tpm2-tools) and tpm2_createak's Name output.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { parseAttest, parseSignature, parseTpm2bPublic, parseTpmtPublic, parseTpm2ToolsPcrFile, formatSelection } from '../src/tpm/index.js';
import { toHex } from '../src/util/bytes.js';

const VEC = join(import.meta.dirname, '..', 'testvectors', 'quote');
const rd = (p: string): Uint8Array => new Uint8Array(readFileSync(join(VEC, p)));
const hasPrint = spawnSync('sh', ['-c', 'command -v tpm2_print'], { stdio: 'ignore' }).status === 0;
if (!hasPrint) console.warn('NOTICE: tpm2_print not installed; tpm2-tools cross-checks skipped.');

/** Minimal reader for tpm2_print's flat YAML: `key: value` lines, nested by indentation, joined with dots. */
function tpm2Print(type: string, file: string): Record<string, string> {
  const r = spawnSync('tpm2_print', ['-t', type, file], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  if (r.status !== 0) return { error: r.stderr };
  const stack: { indent: number; key: string }[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(\s*)([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    while (stack.length && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const key = [...stack.map((s) => s.key), m[2]!.trim()].join('.');
    if (m[3] === '') stack.push({ indent, key: m[2]!.trim() });
    else out[key] = m[3]!;
  }
  return out;
}

const caseDirs = ['ak-rsa', 'ak-ecc', 'ak-rsapss', 'ak-ecc384', 'ak-rsa-sel0-13', ...readdirSync(join(VEC, 'negative')).map((n) => `negative/${n}`)];

describe.skipIf(!hasPrint)('TPMS_ATTEST vs tpm2_print', () => {
  for (const dir of caseDirs) {
    test(dir, () => {
      const y = tpm2Print('TPMS_ATTEST', join(VEC, dir, 'quote.msg'));
      const a = parseAttest(rd(`${dir}/quote.msg`));
      // tpm2_print refuses a bad magic and non-quote types; its error then names the value it saw.
      if (y['error']) {
        const m = /got: 0x([0-9a-f]+)|unsupported type 0x([0-9a-f]+)/.exec(y['error']);
        expect(m).not.toBeNull();
        if (m![1]) expect(a.magic.toString(16)).toBe(m![1]);
        else expect(a.type.toString(16)).toBe(m![2]);
        return;
      }
      expect(a.magic.toString(16)).toBe(y['magic']);
      expect(a.type.toString(16)).toBe(y['type']);
      expect(toHex(a.qualifiedSigner)).toBe(y['qualifiedSigner']);
      expect(toHex(a.extraData)).toBe(y['extraData']);
      expect(a.clockInfo.clock.toString()).toBe(y['clockInfo.clock']);
      expect(String(a.clockInfo.resetCount)).toBe(y['clockInfo.resetCount']);
      expect(String(a.clockInfo.restartCount)).toBe(y['clockInfo.restartCount']);
      expect(a.clockInfo.safe ? '1' : '0').toBe(y['clockInfo.safe']);
      // tpm2_print shows firmwareVersion byte-reversed (a tpm2-tools quirk): reverse it back.
      const fw = y['firmwareVersion']!.match(/../g)!.reverse().join('');
      expect(a.firmwareVersion.toString(16).padStart(16, '0')).toBe(fw);
      if (a.attested.kind === 'quote') {
        expect(toHex(a.attested.quote.pcrDigest)).toBe(y['attested.quote.pcrDigest']);
        expect(String(a.attested.quote.pcrSelect.length)).toBe(y['attested.quote.pcrSelect.count']);
        expect(String(a.attested.quote.pcrSelect[0]!.hashAlg)).toBe(y['attested.quote.pcrSelect.pcrSelections.0.hash']!.split(' ')[0]);
      } else if (a.attested.kind === 'certify') {
        expect(toHex(a.attested.certify.name)).toBe(y['attested.certify.name']);
      }
    });
  }
});

describe.skipIf(!hasPrint)('TPM2B_PUBLIC vs tpm2_print and the Name from tpm2_createak', () => {
  for (const dir of ['ak-rsa', 'ak-ecc', 'ak-rsapss', 'ak-ecc384', 'negative/rsa-non-restricted', 'negative/ecc-non-restricted']) {
    test(dir, () => {
      const y = tpm2Print('TPM2B_PUBLIC', join(VEC, dir, 'ak.pub'));
      const p = parseTpm2bPublic(rd(`${dir}/ak.pub`));
      expect(`0x${p.attributes.raw.toString(16)}`).toBe(y['attributes.raw']);
      expect(`0x${p.type.toString(16)}`).toBe(y['type.raw']);
      expect(`0x${p.nameAlg.toString(16)}`).toBe(y['name-alg.raw']);
      const flags = y['attributes.value']!.split('|');
      expect(p.attributes.restricted).toBe(flags.includes('restricted'));
      expect(p.attributes.fixedTPM).toBe(flags.includes('fixedtpm'));
      expect(p.attributes.sign).toBe(flags.includes('sign'));
      if (p.params.type === 'ecc') {
        expect(toHex(p.params.x)).toBe(y['x']);
        expect(toHex(p.params.y)).toBe(y['y']);
        expect(`0x${p.params.curveId.toString(16)}`).toBe(y['curve-id.raw']);
        expect(`0x${p.params.scheme.alg.toString(16)}`).toBe(y['scheme.raw']);
      } else if (p.params.type === 'rsa') {
        expect(toHex(p.params.modulus)).toBe(y['rsa']);
        expect(`0x${p.params.scheme.alg.toString(16)}`).toBe(y['scheme.raw']);
      }
      // The Name written by tpm2_createak / tpm2_readpublic.
      expect(toHex(p.name)).toBe(toHex(rd(`${dir}/ak.name`)));
      // TPMT_PUBLIC is TPM2B_PUBLIC without its size: same structure, same Name.
      expect(toHex(parseTpmtPublic(rd(`${dir}/ak.tpmt`)).name)).toBe(toHex(p.name));
    });
  }
});

test('tpm2-tools PCR file equals the values file and the selection', () => {
  const { selection, values } = parseTpm2ToolsPcrFile(rd('ak-rsa/quote.pcrs'));
  expect(formatSelection(selection)).toBe('sha256:0-23');
  const concat = [...values.get(0x0b)!.values()].map(toHex).join('');
  expect(concat).toBe(toHex(rd('ak-rsa/pcrs.values.bin')));
  const sel13 = parseTpm2ToolsPcrFile(rd('ak-rsa-sel0-13/quote.pcrs'));
  expect(formatSelection(sel13.selection)).toBe('sha256:0-13');
});

test('signatures decode with the scheme and hash tpm2_quote used', () => {
  expect(parseSignature(rd('ak-rsa/quote.sig'))).toMatchObject({ scheme: 'rsassa', hashAlg: 0x0b });
  expect(parseSignature(rd('ak-rsapss/quote.sig'))).toMatchObject({ scheme: 'rsapss', hashAlg: 0x0b });
  expect(parseSignature(rd('ak-ecc/quote.sig'))).toMatchObject({ scheme: 'ecdsa', hashAlg: 0x0b });
  expect(parseSignature(rd('ak-ecc384/quote.sig'))).toMatchObject({ scheme: 'ecdsa', hashAlg: 0x0c });
});

test('trailing bytes and truncation are MalformedInputError with an offset', () => {
  const msg = rd('ak-rsa/quote.msg');
  const longer = new Uint8Array(msg.length + 1);
  longer.set(msg);
  const e1 = (() => { try { parseAttest(longer); } catch (e) { return e as MalformedInputError; } })();
  expect(e1).toBeInstanceOf(MalformedInputError);
  expect(e1!.offset).toBe(msg.length);
  expect(() => parseAttest(msg.subarray(0, msg.length - 1))).toThrow(MalformedInputError);
  expect(existsSync(join(VEC, 'ak-rsa/ak.tpmt'))).toBe(true);
});
