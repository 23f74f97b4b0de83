/**
 * CEL-TLV: every field is 1 type byte, a 4-byte big-endian length and the value. A record is recnum (0), pcr (1) or
 * nv_index (2), digests (3, inner TLVs typed by TPM_ALG_ID) and one content TLV (4 cel_mgt, 5 pcclient_std,
 * 7 ima_template, 8 ima_tlv; other types, such as go-tpm-tools' 80, are kept raw).
 */
import { MalformedInputError } from '../errors.js';
import { Reader } from '../tpm/reader.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { hash } from '../util/hash.js';
import { CEL_CONTENT, CEL_MGT, buildCelLog, checkDigest, mgtName, pcclientContent, textOf, type CelContent, type CelRecord } from './cel.js';
import { MAX_RECORDS } from './cel-json.js';
import { CEL_CCMR_TYPE, MAX_CCMR } from './cel-ccmr.js';
import type { EventLog } from './types.js';

/** One TLV field. */
interface Tlv {
  type: number;
  value: Uint8Array;
  /** Offset of the type byte in the input. */
  at: number;
  /** The whole field (type, length, value). */
  whole: Uint8Array;
}

function readTlv(r: Reader): Tlv {
  const start = r.offset;
  const type = r.u8('TLV type');
  const len = r.u32('TLV length');
  const value = r.bytesN(len, `TLV type ${type} value`);
  return { type, value, at: r.base + start, whole: r.bytes.subarray(start, r.offset) };
}

// Integers: implementations write minimal, 1-, 4- or 8-byte big-endian values; accept any width up to 8 bytes.
function tlvUint(t: Tlv, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (t.value.length > 8) throw new MalformedInputError(`CEL-TLV: ${field} is ${t.value.length} bytes (at most 8)`, { offset: t.at });
  let v = 0n;
  for (const b of t.value) v = (v << 8n) | BigInt(b);
  if (v > BigInt(max)) throw new MalformedInputError(`CEL-TLV: ${field} ${v} out of range`, { offset: t.at });
  return Number(v);
}

// All TLVs inside a value (nested content); the value must be exactly a TLV sequence.
function children(t: Tlv, what: string): Tlv[] {
  const r = new Reader(t.value, `CEL-TLV ${what}`, t.at + 5);
  const out: Tlv[] = [];
  while (r.remaining > 0) out.push(readTlv(r));
  return out;
}
function child(list: Tlv[], type: number, what: string, at: number): Tlv {
  const c = list.find((x) => x.type === type);
  if (!c) throw new MalformedInputError(`CEL-TLV: ${what} missing`, { offset: at });
  return c;
}

// CEL-TLV: TCG CEL v1.0 §5.1 (TLV encoding) https://trustedcomputinggroup.org/resource/canonical-event-log-format/
/** Parses a CEL-TLV log. */
export function parseCelTlv(bytes: Uint8Array): EventLog {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('CEL-TLV input must be a Uint8Array');
  if (bytes.length === 0) throw new MalformedInputError('CEL-TLV: empty input', { offset: 0 });
  const r = new Reader(bytes, 'CEL-TLV');
  const records: CelRecord[] = [];
  while (r.remaining > 0) {
    if (records.length >= MAX_RECORDS) r.fail(`more than ${MAX_RECORDS} records`);
    records.push(readRecord(r, records.length));
  }
  return buildCelLog('cel-tlv', records);
}

// recnum, then pcr or nv_index, then digests, then one content field.
function readRecord(r: Reader, n: number): CelRecord {
  const offset = r.offset;
  const seq = readTlv(r);
  if (seq.type !== 0) r.fail(`record ${n}: expected recnum (type 0), found type ${seq.type}`, offset);
  const rec: CelRecord = { recnum: tlvUint(seq, 'recnum'), digests: [], content: { kind: 'unknown', contentType: -1 }, offset };
  const idx = readTlv(r);
  if (idx.type === 1) rec.pcr = tlvUint(idx, 'pcr', 0xffffffff);
  else if (idx.type === 2) rec.nvIndex = tlvUint(idx, 'nv_index', 0xffffffff);
  else if (idx.type === CEL_CCMR_TYPE) rec.ccmr = tlvUint(idx, 'ccmr', MAX_CCMR);
  else r.fail(`record ${n}: expected pcr (1), nv_index (2) or ccmr (108), found type ${idx.type}`, idx.at);
  const dig = readTlv(r);
  if (dig.type !== 3) r.fail(`record ${n}: expected digests (type 3), found type ${dig.type}`, dig.at);
  rec.digests = children(dig, 'digests').map((d) => checkDigest(d.type, d.value, { offset: d.at }));
  const c = readTlv(r);
  if (c.type <= 3) r.fail(`record ${n}: expected a content field, found type ${c.type}`, c.at);
  rec.content = content(c);
  // Unknown content (e.g. go-tpm-tools' COS events) is often measured as H(content TLV): record whether it is.
  if (rec.content.kind === 'unknown') rec.content.tlvDigestMatches = rec.digests.every((d) => bytesEqual(hash(d.alg, c.whole), d.digest));
  return rec;
}

// Content by type: nested TLVs for cel_mgt, pcclient_std and ima_template; raw bytes otherwise.
function content(c: Tlv): CelContent {
  switch (c.type) {
    case CEL_CONTENT.cel_mgt: {
      // One TLV whose type is the management type: cel_version {0 major, 1 minor}, firmware_end, timestamp, state_trans.
      const list = children(c, 'cel_mgt');
      if (list.length !== 1) throw new MalformedInputError('CEL-TLV: cel_mgt must hold one field', { offset: c.at });
      const m = list[0]!;
      const out: CelContent = { kind: 'cel_mgt', mgtType: m.type, mgtName: mgtName(m.type) };
      if (m.type === CEL_MGT.cel_version) {
        const v = children(m, 'cel_version');
        out.data = { major: tlvUint(child(v, 0, 'major', m.at), 'major'), minor: tlvUint(child(v, 1, 'minor', m.at), 'minor') };
      } else if (m.type === CEL_MGT.cel_timestamp || m.type === CEL_MGT.state_trans) out.data = tlvUint(m, mgtName(m.type));
      else if (m.value.length) out.data = toHex(m.value);
      return out;
    }
    case CEL_CONTENT.pcclient_std: {
      const list = children(c, 'pcclient_std');
      const t = tlvUint(child(list, 0, 'pcclient_std event_type', c.at), 'event_type', 0xffffffff);
      return pcclientContent(t, child(list, 1, 'pcclient_std event_data', c.at).value, { offset: c.at });
    }
    case CEL_CONTENT.ima_template: {
      const list = children(c, 'ima_template');
      const name = textOf(child(list, 0, 'template_name', c.at).value);
      if (name === undefined) throw new MalformedInputError('CEL-TLV: template_name is not UTF-8', { offset: c.at });
      return { kind: 'ima_template', templateName: name.replace(/\0+$/, ''), templateData: child(list, 1, 'template_data', c.at).value };
    }
    case CEL_CONTENT.ima_tlv:
      return { kind: 'ima_tlv', raw: c.value };
    default:
      return { kind: 'unknown', contentType: c.type, raw: c.value };
  }
}
