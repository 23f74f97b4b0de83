/**
 * CEL-CBOR: an array of record maps `{0: recnum, 1: pcr | 2: nv_index, 3: [{0: alg, 1: digest}], 9: content_type,
 * 10: content}` (text keys as in CEL-JSON are accepted too), or the same records as a CBOR sequence (RFC 8742).
 * A structural pre-scan bounds every declared length by the bytes left, caps nesting and refuses tags and
 * indefinite lengths before cbor-x decodes anything.
 */
import { Decoder } from 'cbor-x';
import { MalformedInputError } from '../errors.js';
import { Reader } from '../tpm/reader.js';
import { buildCelLog, type CelRecord } from './cel.js';
import { MAX_RECORDS, celRecordFromValue } from './cel-json.js';
import type { EventLog } from './types.js';

/** The one configured decoder: plain objects, no cbor-x record extension, no structured-clone tags. */
const decoder = /* @__PURE__ */ new Decoder({ mapsAsObjects: true, useRecords: false });
/** Deepest nesting a CEL record needs, with room to spare. */
const MAX_DEPTH = 16;
/** CBOR self-describe tag (RFC 8949 §3.4.6), the only tag accepted, in front of the whole log. */
const SELF_DESCRIBE = [0xd9, 0xd9, 0xf7];

// Head of one item: major type and argument (the argument of an 8-byte head must fit a safe integer).
function head(r: Reader): { major: number; arg: number; at: number } {
  const at = r.offset;
  const ib = r.u8('CBOR initial byte');
  const major = ib >> 5;
  const ai = ib & 0x1f;
  let arg: number;
  if (ai < 24) arg = ai;
  else if (ai === 24) arg = r.u8();
  else if (ai === 25) arg = r.u16();
  else if (ai === 26) arg = r.u32();
  else if (ai === 27) {
    const v = r.u64();
    if (major !== 7 && v > BigInt(Number.MAX_SAFE_INTEGER)) {
      if (major <= 1) return { major, arg: Number.MAX_SAFE_INTEGER, at };
      r.fail(`CBOR length ${v} too large`, at);
    }
    arg = Number(v & 0xffffffffffffn);
  } else r.fail(ai === 31 ? 'CBOR indefinite lengths are not accepted' : `CBOR reserved additional info ${ai}`, at);
  return { major, arg, at };
}

/** Walks one well-formed item, checking lengths against the bytes left and the nesting depth; returns its end. */
export function scanCborItem(r: Reader, depth = 0): void {
  if (depth > MAX_DEPTH) r.fail(`CBOR nesting deeper than ${MAX_DEPTH}`);
  const { major, arg, at } = head(r);
  switch (major) {
    case 0:
    case 1:
    case 7:
      return;
    case 2:
    case 3:
      r.skip(arg, 'CBOR string');
      return;
    case 4:
      // Each item takes at least one byte: a count larger than the bytes left is malformed before any allocation.
      if (arg > r.remaining) r.fail(`CBOR array of ${arg} items in ${r.remaining} bytes`, at);
      for (let i = 0; i < arg; i++) scanCborItem(r, depth + 1);
      return;
    case 5:
      if (arg * 2 > r.remaining) r.fail(`CBOR map of ${arg} pairs in ${r.remaining} bytes`, at);
      for (let i = 0; i < arg * 2; i++) scanCborItem(r, depth + 1);
      return;
    default:
      r.fail(`CBOR tag ${arg} not accepted`, at);
  }
}

// Decodes one pre-scanned item with the shared decoder; cbor-x errors become MalformedInputError.
function decodeItem(b: Uint8Array, offset: number): unknown {
  try {
    return decoder.decode(b);
  } catch (e) {
    throw new MalformedInputError(`CEL-CBOR: ${(e as Error).message}`, { offset });
  }
}

// CEL-CBOR: TCG CEL v1.0 §5.2 (CBOR encoding) https://trustedcomputinggroup.org/resource/canonical-event-log-format/
/** Parses CEL-CBOR: one array of records, or a CBOR sequence of record maps. */
export function parseCelCbor(bytes: Uint8Array): EventLog {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('CEL-CBOR input must be a Uint8Array');
  if (bytes.length === 0) throw new MalformedInputError('CEL-CBOR: empty input', { offset: 0 });
  const r = new Reader(bytes, 'CEL-CBOR');
  if (SELF_DESCRIBE.every((b, i) => bytes[i] === b)) r.skip(3);
  const first = r.peekU8()!;
  const records: CelRecord[] = [];
  if (first >> 5 === 4) {
    // One array of records: scan it whole (trailing bytes rejected), then decode each element's bytes.
    const start = r.offset;
    const { arg } = head(r);
    if (arg > r.remaining) r.fail(`CBOR array of ${arg} items in ${r.remaining} bytes`, start);
    if (arg > MAX_RECORDS) r.fail(`more than ${MAX_RECORDS} records`, start);
    for (let i = 0; i < arg; i++) records.push(record(r, i, `[${i}]`));
    r.end();
  } else if (first >> 5 === 5) {
    // A CBOR sequence of record maps.
    while (r.remaining > 0) {
      if (records.length >= MAX_RECORDS) r.fail(`more than ${MAX_RECORDS} records`);
      records.push(record(r, records.length, `record ${records.length}`));
    }
  } else r.fail('expected an array of records or a sequence of record maps', r.offset);
  if (records.length === 0) throw new MalformedInputError('CEL-CBOR: no records', { offset: 0 });
  return buildCelLog('cel-cbor', records);
}

// One record: pre-scan its bytes, decode, then read it like a CEL-JSON record with integer keys.
function record(r: Reader, _i: number, path: string): CelRecord {
  const at = r.offset;
  scanCborItem(r, 1);
  const v = decodeItem(r.bytes.subarray(at, r.offset), r.base + at);
  return celRecordFromValue(v, 'cbor', path, r.base + at);
}
