/**
 * TCG Canonical Event Log (CEL) common model: every CEL encoding (JSON, JSON-seq, TLV, CBOR) produces CelRecords,
 * which buildCelLog turns into an EventLog. TCG CEL v1.0:
 * https://trustedcomputinggroup.org/resource/canonical-event-log-format/
 */
import { MalformedInputError } from '../errors.js';
import { bytesEqual, toHex, tryUtf8Decode, utf8 } from '../util/bytes.js';
import { digestSize, hash, hashInfo, hashName } from '../util/hash.js';
import { decodeEventData } from './decode.js';
import { MAX_PCR, TCG_EV, eventTypeName } from './names.js';
import type { EventDigest, EventLog, LogEvent, LogFormat } from './types.js';
import { ccmrName } from './cel-ccmr.js';

/** CEL content types (CEL v1.0 Table 2; 9 = systemd as used by libcel/Safford's cel.h). */
export const CEL_CONTENT = { cel_mgt: 4, pcclient_std: 5, ima_template: 7, ima_tlv: 8, systemd: 9 } as const;
/** CEL management event types: cel_version and firmware_end are never extended; timestamp and state_trans are. */
export const CEL_MGT = { cel_version: 1, firmware_end: 2, cel_timestamp: 80, state_trans: 81 } as const;

/** Decoded record content, common to all encodings. */
export type CelContent =
  | { kind: 'cel_mgt'; mgtType: number; mgtName: string; data?: unknown }
  | { kind: 'pcclient_std'; eventType: number | undefined; eventTypeName: string; eventData: Uint8Array }
  | { kind: 'ima_template'; templateName: string; templateData: Uint8Array }
  | { kind: 'ima_tlv'; raw: Uint8Array }
  | { kind: 'systemd'; string?: string; eventType?: string; raw?: Uint8Array; json?: unknown }
  | { kind: 'unknown'; contentType: number | string; raw?: Uint8Array; value?: unknown; tlvDigestMatches?: boolean };

/** One record before conversion to a LogEvent. */
export interface CelRecord {
  recnum?: number;
  pcr?: number;
  nvIndex?: number;
  /** Confidential-computing measurement register index (CEL-TLV type 108; spec/confidential-vms.md §10). */
  ccmr?: number;
  digests: EventDigest[];
  content: CelContent;
  /** Byte offset of the record (TLV, CBOR) or its position (JSON). */
  offset: number;
}

/** The `decoded` value of a CEL event: the content plus the record number. */
export type CelDecoded = CelContent & {
  recnum?: number;
  nvIndex?: number;
  /** systemd only: per bank, whether the digest equals H(content.string). */
  stringDigestMatches?: boolean;
};

/** Maximum digests per record (one per bank). */
export const MAX_DIGESTS = 16;

/** Looks up a hash alg by CEL-JSON name (`sha256`, `SHA-256`, `sm3_256`) or number (`0x000B`, 11). */
export function celHashAlg(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && hashInfo(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^0x[0-9a-f]{1,4}$/i.test(v)) return celHashAlg(parseInt(v, 16));
  const n = v.toLowerCase().replace(/[-_]/g, '');
  for (const id of [4, 0x0b, 0x0c, 0x0d, 0x12, 0x27, 0x28, 0x29]) {
    const name = hashName(id).replace(/_/g, '');
    if (name === n || (id === 0x12 && n === 'sm3')) return id;
  }
  return undefined;
}

/** Checks one digest: a known bank and the right size. */
export function checkDigest(alg: number | undefined, digest: Uint8Array, where: { offset?: number; path?: string }): EventDigest {
  if (alg === undefined) throw new MalformedInputError('CEL: unknown hash algorithm', where);
  const size = digestSize(alg);
  if (size === undefined) throw new MalformedInputError(`CEL: unsupported hash algorithm 0x${alg.toString(16)}`, where);
  if (digest.length !== size) throw new MalformedInputError(`CEL: ${hashName(alg)} digest is ${digest.length} bytes, not ${size}`, where);
  return { alg, digest };
}

/** pcclient_std event_type: a number or an EV_* name (any case) or a `0x...` string; undefined when unknown. */
export function pcclientType(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^0x[0-9a-f]{1,8}$/i.test(v)) return parseInt(v, 16);
  const code = (TCG_EV as Record<string, number>)[v.toUpperCase()];
  return code;
}

/** CEL management type name for its number. */
export function mgtName(t: number): string {
  return Object.entries(CEL_MGT).find(([, v]) => v === t)?.[0] ?? `cel_mgt_${t}`;
}

// Record number, index and digest constraints, then the LogEvent fields for each content kind.
function toEvent(rec: CelRecord, index: number, warnings: string[], lastRecnum: Map<string, number>): LogEvent {
  const where = { offset: rec.offset };
  if (rec.digests.length === 0 || rec.digests.length > MAX_DIGESTS) throw new MalformedInputError(`CEL record ${index}: ${rec.digests.length} digests`, where);
  const algs = new Set<number>();
  for (const d of rec.digests) {
    if (algs.has(d.alg)) throw new MalformedInputError(`CEL record ${index}: two ${hashName(d.alg)} digests`, where);
    algs.add(d.alg);
  }
  // Exactly one of pcr / nv_index; NV indexes are not PCRs and are never replayed into one.
  if ([rec.pcr, rec.nvIndex, rec.ccmr].filter((x) => x !== undefined).length !== 1) throw new MalformedInputError(`CEL record ${index}: needs exactly one of pcr, nv_index and ccmr`, where);
  if (rec.pcr !== undefined && (rec.pcr < 0 || rec.pcr > MAX_PCR)) throw new MalformedInputError(`CEL record ${index}: PCR ${rec.pcr} out of range`, where);
  const key = rec.pcr !== undefined ? `pcr${rec.pcr}` : rec.ccmr !== undefined ? `mr${rec.ccmr}` : `nv${rec.nvIndex}`;
  // recnum must increase per index (implementations number per index or globally, from 0 or 1).
  if (rec.recnum !== undefined) {
    const prev = lastRecnum.get(key);
    if (prev !== undefined && rec.recnum <= prev) warnings.push(`CEL record ${index}: recnum ${rec.recnum} does not increase (previous ${prev})`);
    lastRecnum.set(key, rec.recnum);
  }
  const decoded: CelDecoded = { ...rec.content };
  if (rec.recnum !== undefined) decoded.recnum = rec.recnum;
  let noExtend = false;
  let type: number;
  let typeName: string;
  let data: Uint8Array = new Uint8Array();
  const c = rec.content;
  switch (c.kind) {
    case 'cel_mgt':
      type = CEL_CONTENT.cel_mgt;
      typeName = `cel_mgt:${c.mgtName}`;
      noExtend = c.mgtType === CEL_MGT.cel_version || c.mgtType === CEL_MGT.firmware_end;
      break;
    case 'pcclient_std':
      // Firmware events keep their EV_* type so PC Client policies read them the same way; EV_NO_ACTION is not extended.
      type = c.eventType ?? -1;
      typeName = c.eventTypeName;
      data = c.eventData;
      noExtend = c.eventType === TCG_EV.EV_NO_ACTION;
      if (c.eventType !== undefined) (decoded as { event?: unknown }).event = decodeEventData(c.eventType, c.eventData);
      break;
    case 'ima_template':
      type = CEL_CONTENT.ima_template;
      typeName = `ima_template:${c.templateName}`;
      data = c.templateData;
      break;
    case 'ima_tlv':
      type = CEL_CONTENT.ima_tlv;
      typeName = 'ima_tlv';
      data = c.raw;
      break;
    case 'systemd':
      type = CEL_CONTENT.systemd;
      typeName = c.eventType ? `systemd:${c.eventType}` : 'systemd';
      data = c.string !== undefined ? utf8(c.string) : (c.raw ?? new Uint8Array());
      if (c.string !== undefined) decoded.stringDigestMatches = systemdCheck(rec, index, data, warnings);
      break;
    default:
      type = typeof c.contentType === 'number' ? c.contentType : -1;
      typeName = `cel:${String(c.contentType)}`;
      data = c.raw ?? new Uint8Array();
  }
  if (rec.nvIndex !== undefined) {
    decoded.nvIndex = rec.nvIndex;
    noExtend = true;
    warnings.push(`CEL record ${index}: extends NV index 0x${rec.nvIndex.toString(16)}, not a PCR; not replayed`);
  }
  // CCMR records extend a hardware MR, never a PCR: replayCcmr (cel-ccmr.ts) replays them.
  if (rec.ccmr !== undefined) {
    Object.assign(decoded, { ccmr: rec.ccmr, register: ccmrName(rec.ccmr) });
    noExtend = true;
  }
  const ev: LogEvent = { index, pcr: rec.pcr ?? -1, type, typeName, digests: rec.digests, data, decoded, offset: rec.offset };
  if (noExtend) ev.noExtend = true;
  return ev;
}

// systemd measures H(string) (no NUL). A mismatch is legitimate for keyed measurements (e.g. an HMAC under a
// volume key), so it is a warning: the string then explains nothing and policy must match digests.
function systemdCheck(rec: CelRecord, index: number, data: Uint8Array, warnings: string[]): boolean {
  let all = true;
  for (const d of rec.digests) {
    if (!bytesEqual(hash(d.alg, data), d.digest)) {
      all = false;
      warnings.push(`CEL record ${index} (systemd): ${hashName(d.alg)} digest ${toHex(d.digest)} is not H(content.string)`);
    }
  }
  return all;
}

/** Converts records into an EventLog; banks are the algorithms the records carry, in first-seen order. */
export function buildCelLog(format: LogFormat, records: CelRecord[], warnings: string[] = []): EventLog {
  const lastRecnum = new Map<string, number>();
  const events = records.map((r, i) => toEvent(r, i, warnings, lastRecnum));
  const banks: number[] = [];
  for (const e of events) for (const d of e.digests) if (!banks.includes(d.alg)) banks.push(d.alg);
  return { format, banks, events, warnings };
}

/** pcclient_std content from an event type value and its data. */
export function pcclientContent(t: unknown, eventData: Uint8Array, where: { offset?: number; path?: string }): CelContent {
  const eventType = pcclientType(t);
  if (eventType === undefined && typeof t !== 'string') throw new MalformedInputError('CEL: pcclient_std event_type is not a 32-bit number or a name', where);
  const name = eventType !== undefined ? eventTypeName(eventType) : String(t);
  return { kind: 'pcclient_std', eventType, eventTypeName: name, eventData };
}

/** Text of bytes when valid UTF-8. */
export function textOf(b: Uint8Array): string | undefined {
  return tryUtf8Decode(b);
}
