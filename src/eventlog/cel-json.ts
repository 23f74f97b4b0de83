/**
 * CEL-JSON (a JSON array of records) and JSON-seq (RFC 7464: records each preceded by 0x1E, as systemd writes
 * /run/log/systemd/tpm2-measure.log, without recnum), plus the record reader shared with CEL-CBOR. JSON is read by
 * the project's strict reader (src/util/json.ts; spec/strict-encodings.md §JSON, §CEL field names): duplicate keys
 * refused, JSON records use member names only, CBOR records integer keys or names but never both for one field.
 */
import { MalformedInputError } from '../errors.js';
import { tryFromHex } from '../util/bytes.js';
import { isJsonWhitespace, readJson } from '../util/json.js';
import {
  CEL_CONTENT, buildCelLog, celHashAlg, checkDigest, mgtName, pcclientContent, textOf,
  type CelContent, type CelRecord,
} from './cel.js';
import type { EventDigest, EventLog } from './types.js';

/** Deepest JSON nesting a CEL record needs, with room to spare. */
const MAX_DEPTH = 16;
/** Records per log (a generous bound against memory exhaustion). */
export const MAX_RECORDS = 1_000_000;

// CEL-JSON: TCG CEL v1.0 §5 (JSON encoding) https://trustedcomputinggroup.org/resource/canonical-event-log-format/
/** Parses CEL-JSON: an array of records (or one record object, or `{"records": [...]}`). */
export function parseCelJson(bytes: Uint8Array): EventLog {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('CEL-JSON input must be a Uint8Array');
  const v = readJson(bytes, 'CEL-JSON', { maxDepth: MAX_DEPTH, maxBytes: Number.MAX_SAFE_INTEGER });
  let list: unknown[];
  if (Array.isArray(v)) list = v;
  else if (isObj(v) && Array.isArray(v.records)) list = v.records;
  else if (isObj(v) && 'digests' in v) list = [v];
  else throw new MalformedInputError('CEL-JSON: expected an array of records', { path: '$' });
  if (list.length === 0) throw new MalformedInputError('CEL-JSON: no records', { path: '$' });
  if (list.length > MAX_RECORDS) throw new MalformedInputError(`CEL-JSON: more than ${MAX_RECORDS} records`, { path: '$' });
  return buildCelLog('cel-json', list.map((r, i) => celRecordFromValue(r, 'json', `[${i}]`, i)));
}

// JSON text sequences: RFC 7464 https://www.rfc-editor.org/rfc/rfc7464 ; systemd-pcrextend(8) FILES section.
/** Parses a JSON-seq CEL log (0x1E before each record; systemd's tpm2-measure.log). */
export function parseCelJsonSeq(bytes: Uint8Array): EventLog {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('CEL JSON-seq input must be a Uint8Array');
  if (bytes[0] !== 0x1e) throw new MalformedInputError('CEL JSON-seq: does not start with 0x1E', { offset: 0 });
  const records: CelRecord[] = [];
  const warnings: string[] = [];
  // Split at each 0x1E (never inside a UTF-8 sequence); empty chunks between separators are ignored (RFC 7464 §2.1).
  let start = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x1e, start);
    if (end < 0) end = bytes.length;
    const at = start;
    start = end + 1;
    if (isJsonWhitespace(bytes, at, end)) continue;
    // A record not ended by LF may have been cut by a crashed writer (RFC 7464 §2.2): warn, the digest still counts.
    if (bytes[end - 1] !== 0x0a) warnings.push(`CEL JSON-seq record ${records.length} (offset ${at}) is not terminated by LF`);
    if (records.length >= MAX_RECORDS) throw new MalformedInputError(`CEL JSON-seq: more than ${MAX_RECORDS} records`, { offset: at });
    const v = readJson(bytes.subarray(at, end), 'CEL JSON-seq', { maxDepth: MAX_DEPTH, offset: at, noBom: true, maxBytes: Number.MAX_SAFE_INTEGER });
    records.push(celRecordFromValue(v, 'json', `record ${records.length}`, at));
  }
  if (records.length === 0) throw new MalformedInputError('CEL JSON-seq: no records', { offset: 0 });
  return buildCelLog('cel-json-seq', records, warnings);
}

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
// A member: by name in JSON; in CBOR by integer key or by name, never both (spec/strict-encodings.md §CEL field names).
function pick(o: Obj, name: string, key: number, enc: 'json' | 'cbor', path: string, offset: number): unknown {
  const byName = Object.hasOwn(o, name);
  const byKey = Object.hasOwn(o, String(key));
  if (byKey && enc === 'json') fail(`ambiguous field: CEL-JSON names its members ("${name}"), the integer key "${key}" is refused`, path, offset);
  if (byKey && byName) fail(`ambiguous field: both "${name}" and integer key ${key}`, path, offset);
  return byName ? o[name] : o[String(key)];
}
function has(o: Obj, name: string, key: number, enc: 'json' | 'cbor', path: string, offset: number): boolean {
  return pick(o, name, key, enc, path, offset) !== undefined;
}
function fail(msg: string, path: string, offset: number): never {
  throw new MalformedInputError(`CEL: ${msg}`, { path, offset });
}
function uint(v: unknown, path: string, offset: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'bigint' && v <= BigInt(max) && v >= 0n ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max) fail('expected an unsigned integer', path, offset);
  return n;
}
// Byte strings: hex text in JSON, byte strings in CBOR.
function bytesOf(v: unknown, enc: 'json' | 'cbor', path: string, offset: number): Uint8Array {
  if (enc === 'cbor' && v instanceof Uint8Array) return new Uint8Array(v);
  if (typeof v === 'string') {
    const b = tryFromHex(v);
    if (b && !/^0x/i.test(v)) return b;
  }
  return fail(enc === 'json' ? 'expected a hex string' : 'expected a byte string', path, offset);
}

/** Reads one record from a parsed JSON value or decoded CBOR map (integer keys as strings). */
export function celRecordFromValue(v: unknown, enc: 'json' | 'cbor', path: string, offset: number): CelRecord {
  if (!isObj(v)) fail('record is not an object', path, offset);
  const rec: CelRecord = { digests: [], content: { kind: 'unknown', contentType: -1 }, offset };
  if (has(v, 'recnum', 0, enc, path, offset)) rec.recnum = uint(pick(v, 'recnum', 0, enc, path, offset), `${path}.recnum`, offset);
  if (has(v, 'pcr', 1, enc, path, offset)) rec.pcr = uint(pick(v, 'pcr', 1, enc, path, offset), `${path}.pcr`, offset, 0xffffffff);
  if (has(v, 'nv_index', 2, enc, path, offset)) rec.nvIndex = uint(pick(v, 'nv_index', 2, enc, path, offset), `${path}.nv_index`, offset, 0xffffffff);
  // digests: [{hashAlg, digest}] (CBOR: [{0: alg, 1: bstr}]).
  const ds = pick(v, 'digests', 3, enc, path, offset);
  if (!Array.isArray(ds)) fail('digests is not an array', `${path}.digests`, offset);
  rec.digests = ds.map((d: unknown, j): EventDigest => {
    const p = `${path}.digests[${j}]`;
    if (!isObj(d)) fail('digest is not an object', p, offset);
    return checkDigest(celHashAlg(pick(d, 'hashAlg', 0, enc, path, offset)), bytesOf(pick(d, 'digest', 1, enc, path, offset), enc, `${p}.digest`, offset), { path: p, offset });
  });
  const ct = pick(v, 'content_type', 9, enc, path, offset);
  if (ct === undefined) fail('content_type missing', path, offset);
  rec.content = content(ct, pick(v, 'content', 10, enc, path, offset), enc, `${path}.content`, offset);
  return rec;
}

// Content by type: cel (management), pcclient_std, ima_template, ima_tlv, systemd; anything else is kept.
function content(ct: unknown, c: unknown, enc: 'json' | 'cbor', path: string, offset: number): CelContent {
  const name = typeof ct === 'number' ? Object.entries(CEL_CONTENT).find(([, n]) => n === ct)?.[0] : ct === 'cel' ? 'cel_mgt' : ct;
  switch (name) {
    case 'cel_mgt': {
      if (!isObj(c)) fail('cel content is not an object', path, offset);
      const t = pick(c, 'type', 0, enc, path, offset);
      const mgt = typeof t === 'string' ? mgtByName(t, path, offset) : uint(t, `${path}.type`, offset);
      const out: CelContent = { kind: 'cel_mgt', mgtType: mgt, mgtName: mgtName(mgt) };
      if (has(c, 'data', 1, enc, path, offset)) out.data = plain(pick(c, 'data', 1, enc, path, offset));
      return out;
    }
    case 'pcclient_std': {
      if (!isObj(c)) fail('pcclient_std content is not an object', path, offset);
      const data = bytesOf(pick(c, 'event_data', 1, enc, path, offset), enc, `${path}.event_data`, offset);
      return pcclientContent(pick(c, 'event_type', 0, enc, path, offset), data, { path: `${path}.event_type`, offset });
    }
    case 'ima_template': {
      if (!isObj(c)) fail('ima_template content is not an object', path, offset);
      const tn = pick(c, 'template_name', 0, enc, path, offset);
      if (typeof tn !== 'string') fail('template_name is not a string', path, offset);
      return { kind: 'ima_template', templateName: tn, templateData: bytesOf(pick(c, 'template_data', 1, enc, path, offset), enc, path, offset) };
    }
    case 'ima_tlv':
      return { kind: 'ima_tlv', raw: bytesOf(c, enc, path, offset) };
    case 'systemd': {
      // systemd writes {"string": ..., "eventType": ...}; a byte string (CBOR) is the measured string's bytes.
      if (isObj(c)) {
        const out: CelContent = { kind: 'systemd', json: c };
        if (c.string !== undefined) {
          if (typeof c.string !== 'string') fail('systemd content.string is not a string', path, offset);
          out.string = c.string;
        }
        if (typeof c.eventType === 'string') out.eventType = c.eventType;
        return out;
      }
      const raw = bytesOf(c, enc, path, offset);
      const s = textOf(raw);
      return s !== undefined ? { kind: 'systemd', string: s, raw } : { kind: 'systemd', raw };
    }
    default:
      if (typeof ct !== 'number' && typeof ct !== 'string') fail('content_type is not a number or name', path, offset);
      return c instanceof Uint8Array ? { kind: 'unknown', contentType: ct, raw: new Uint8Array(c) } : { kind: 'unknown', contentType: ct, value: plain(c) };
  }
}

function mgtByName(t: string, path: string, offset: number): number {
  const m: Record<string, number> = { cel_version: 1, firmware_end: 2, cel_timestamp: 80, state_trans: 81 };
  return Object.hasOwn(m, t) ? m[t]! : fail(`unknown cel management type ${JSON.stringify(t).slice(0, 40)}`, path, offset);
}
// Decoded CBOR may carry Buffers and bigints; keep values JSON-friendly.
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return new Uint8Array(v);
  return v;
}
