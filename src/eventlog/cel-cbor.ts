/**
 * CEL-CBOR: an array of record maps `{0: recnum, 1: pcr | 2: nv_index, 3: [{0: alg, 1: digest}], 9: content_type,
 * 10: content}` (text keys as in CEL-JSON are accepted too, never both for one field), or the same records as a CBOR
 * sequence (RFC 8742). Each record is read by the project's strict CBOR reader (src/util/cbor.ts;
 * spec/strict-encodings.md §CBOR): lengths bounded by the bytes left, nesting capped, no tags or indefinite lengths,
 * duplicate keys refused.
 */
import { MalformedInputError } from '../errors.js';
import { readCborItem } from '../util/cbor.js';
import { Reader } from '../tpm/reader.js';
import { buildCelLog, type CelRecord } from './cel.js';
import { MAX_RECORDS, celRecordFromValue } from './cel-json.js';
import type { EventLog } from './types.js';

/** Deepest nesting a CEL record needs, with room to spare. */
const MAX_DEPTH = 16;
/** CBOR self-describe tag (RFC 8949 §3.4.6), the only tag accepted, in front of the whole log. */
const SELF_DESCRIBE = [0xd9, 0xd9, 0xf7];

// Head of the outer array: its item count (definite, at most 2^32-1 here, bounded by MAX_RECORDS below).
function arrayCount(r: Reader): number {
  const at = r.offset;
  const ai = r.u8('CBOR initial byte') & 0x1f;
  if (ai < 24) return ai;
  if (ai === 24) return r.u8();
  if (ai === 25) return r.u16();
  if (ai === 26) return r.u32();
  return r.fail(ai === 31 ? 'CBOR indefinite lengths are not accepted' : `CBOR array of more than ${MAX_RECORDS} records`, at);
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
    const arg = arrayCount(r);
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

// One record: the strict reader (integer keys allowed), then read like a CEL-JSON record with integer keys.
function record(r: Reader, _i: number, path: string): CelRecord {
  const at = r.offset;
  const { value, end } = readCborItem(r.bytes, at, 'CEL-CBOR', { intKeys: true, maxDepth: MAX_DEPTH, offset: r.base, maxBytes: Number.MAX_SAFE_INTEGER });
  r.skip(end - at);
  return celRecordFromValue(value, 'cbor', path, r.base + at);
}
