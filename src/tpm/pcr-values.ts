/**
 * PCR value sets: the tpm2-tools serialized PCR file (`tpm2_quote --pcr`, a raw x86-64 dump of
 * TPML_PCR_SELECTION [132 B] + u32 count + count × TPML_DIGEST [532 B], little-endian; see tpm2-tools
 * lib/pcr.c pcr_fwrite_serialized), plain concatenations, and JSON maps.
 */
import { Reader } from './reader.js';
import type { PcrBankSelection } from './pcr-selection.js';
import { MalformedInputError } from '../errors.js';
import { digestSize, hashAlgByName, hashName } from '../util/hash.js';
import { fromHex, toHex, tryFromHex } from '../util/bytes.js';

/** PCR values by bank alg id, then PCR index. */
export type PcrValues = Map<number, Map<number, Uint8Array>>;

const SEL_SIZE = 132;
const DIGEST_LIST_SIZE = 532;

/** True when the bytes have the exact shape of a tpm2-tools serialized PCR file. */
export function isTpm2ToolsPcrFile(b: Uint8Array): boolean {
  if (b.length < SEL_SIZE + 4) return false;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const banks = dv.getUint32(0, true);
  const lists = dv.getUint32(SEL_SIZE, true);
  return banks <= 16 && lists <= 16 && b.length === SEL_SIZE + 4 + lists * DIGEST_LIST_SIZE;
}

/** Parses the tpm2-tools serialized PCR file into its selection and values. */
export function parseTpm2ToolsPcrFile(bytes: Uint8Array): { selection: PcrBankSelection[]; values: PcrValues } {
  const r = new Reader(bytes, 'tpm2-tools PCR file');
  // TPML_PCR_SELECTION: u32 count, then 16 slots of {u16 hash, u8 sizeofSelect, u8[4] pcrSelect, u8 pad}.
  const sel = r.sub(SEL_SIZE, 'TPML_PCR_SELECTION');
  const count = sel.u32le('count');
  if (count > 16) sel.fail(`count ${count} exceeds 16`, 0);
  const selection: PcrBankSelection[] = [];
  for (let i = 0; i < 16; i++) {
    const hAt = sel.offset;
    const hashAlg = sel.u16le('hash');
    const size = sel.u8('sizeofSelect');
    const bitmap = sel.bytesN(4, 'pcrSelect');
    sel.u8('pad');
    if (i >= count) continue;
    if (digestSize(hashAlg) === undefined) sel.fail(`unknown hash ${hashName(hashAlg)}`, hAt);
    if (size > 4) sel.fail(`sizeofSelect ${size} exceeds 4`, hAt + 2);
    const pcrs: number[] = [];
    for (let j = 0; j < size; j++) for (let k = 0; k < 8; k++) if (bitmap[j]! & (1 << k)) pcrs.push(8 * j + k);
    selection.push({ hashAlg, pcrs });
  }
  // Then u32 count of TPML_DIGEST, each {u32 count, 8 × {u16 size, u8[64]}}.
  const lists = r.u32le('digest list count');
  const digests: Uint8Array[] = [];
  for (let l = 0; l < lists; l++) {
    const dl = r.sub(DIGEST_LIST_SIZE, `TPML_DIGEST[${l}]`);
    const n = dl.u32le('count');
    if (n > 8) dl.fail(`count ${n} exceeds 8`, 0);
    for (let i = 0; i < 8; i++) {
      const at = dl.offset;
      const size = dl.u16le('size');
      const buf = dl.bytesN(64, 'buffer');
      if (i >= n) continue;
      if (size > 64) dl.fail(`digest size ${size} exceeds 64`, at);
      digests.push(buf.slice(0, size));
    }
  }
  r.end();
  // Values follow the selection order: bank by bank, PCRs ascending.
  const values: PcrValues = new Map();
  let k = 0;
  for (const s of selection) {
    const bank = new Map<number, Uint8Array>();
    for (const pcr of s.pcrs) {
      const d = digests[k++];
      if (!d) throw new MalformedInputError(`tpm2-tools PCR file: fewer values than selected PCRs`, { offset: SEL_SIZE });
      if (d.length !== digestSize(s.hashAlg)) {
        throw new MalformedInputError(`tpm2-tools PCR file: ${hashName(s.hashAlg)} PCR ${pcr} has ${d.length} bytes`, { offset: SEL_SIZE });
      }
      bank.set(pcr, d);
    }
    values.set(s.hashAlg, bank);
  }
  if (k !== digests.length) throw new MalformedInputError(`tpm2-tools PCR file: ${digests.length - k} values beyond the selection`, { offset: SEL_SIZE });
  return { selection, values };
}

/** Splits a plain concatenation of PCR values following a selection (the quote's). */
export function splitConcatenatedPcrs(bytes: Uint8Array, selection: PcrBankSelection[]): PcrValues {
  const r = new Reader(bytes, 'PCR values');
  const values: PcrValues = new Map();
  for (const s of selection) {
    const bank = new Map<number, Uint8Array>();
    for (const pcr of s.pcrs) bank.set(pcr, r.bytesN(digestSize(s.hashAlg)!, `${hashName(s.hashAlg)} PCR ${pcr}`).slice());
    values.set(s.hashAlg, bank);
  }
  r.end();
  return values;
}

/** JSON form `{"sha256": {"0": "<hex>", ...}}` (also accepts `{"pcrs": {...}}` wrappers). */
export function pcrValuesFromJson(obj: unknown, path = 'pcrs'): PcrValues {
  if (obj && typeof obj === 'object' && 'pcrs' in obj && typeof (obj as { pcrs: unknown }).pcrs === 'object') {
    return pcrValuesFromJson((obj as { pcrs: unknown }).pcrs, `${path}.pcrs`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new MalformedInputError('expected an object of banks', { path });
  const values: PcrValues = new Map();
  for (const [bankName, bank] of Object.entries(obj)) {
    const alg = hashAlgByName(bankName);
    if (alg === undefined) throw new MalformedInputError(`unknown bank ${bankName}`, { path: `${path}.${bankName}` });
    if (!bank || typeof bank !== 'object') throw new MalformedInputError('expected an object of PCRs', { path: `${path}.${bankName}` });
    const m = new Map<number, Uint8Array>();
    for (const [k, v] of Object.entries(bank as Record<string, unknown>)) {
      const p = `${path}.${bankName}.${k}`;
      const pcr = Number(k);
      if (!/^\d+$/.test(k) || pcr > 31) throw new MalformedInputError(`bad PCR index ${k}`, { path: p });
      const d = typeof v === 'string' ? tryFromHex(v) : undefined;
      if (!d || d.length !== digestSize(alg)) throw new MalformedInputError(`expected ${digestSize(alg)}-byte hex digest`, { path: p });
      m.set(pcr, d);
    }
    values.set(alg, m);
  }
  return values;
}

/** JSON-friendly form of PCR values: `{"sha256": {"0": "<hex>"}}`. */
export function pcrValuesToJson(values: PcrValues): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [alg, bank] of values) {
    const b: Record<string, string> = {};
    for (const pcr of [...bank.keys()].sort((a, c) => a - c)) b[String(pcr)] = toHex(bank.get(pcr)!);
    out[hashName(alg)] = b;
  }
  return out;
}

/** Builds PcrValues from hex strings (test and CLI convenience). */
export function pcrValuesFromHex(alg: number, hex: Record<number, string>): PcrValues {
  const m = new Map<number, Uint8Array>();
  for (const [k, v] of Object.entries(hex)) m.set(Number(k), fromHex(v));
  return new Map([[alg, m]]);
}
