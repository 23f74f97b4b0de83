/**
 * Compact event store for parsed TCG PC Client logs (spec/eventlog.md, "Event store"): one u32 offset and one flag byte
 * per event, pointing into the original bytes; LogEvent objects are built only when asked for. Memory is the log
 * plus at most 5/16 of its size (the smallest TCG_PCR_EVENT2 is 16 bytes), whatever the event mix.
 * Record layouts: TCG PC Client Platform Firmware Profile r1.06 §10.2.1 (TCG_PCR_EVENT), §10.2.2 (TCG_PCR_EVENT2)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 */
import { TPM_ALG } from '../util/hash.js';
import { decodeEventData } from './decode.js';
import { eventTypeName } from './names.js';
import type { EventDigest, EventLog, LogEvent } from './types.js';

/** Flag bit: the event is never extended (EV_NO_ACTION, Windows 0xFFFFFFFF trailer). */
export const FLAG_NO_EXTEND = 1;

/** A parsed TCG log held as offsets into its bytes. Only parseTcgLog fills one; readers treat it as immutable. */
export interface TcgEventStore {
  readonly bytes: Uint8Array;
  /** True for the crypto-agile form (TCG_PCR_EVENT2 after the Spec ID event). */
  readonly agile: boolean;
  /** Digest size per bank (from the Spec ID event; sha1 only for the legacy form). */
  readonly sizes: ReadonlyMap<number, number>;
  /** Decode event data when an event is materialised. */
  readonly decode: boolean;
  count: number;
  /** Start offset of each event's record. */
  at: Uint32Array;
  flags: Uint8Array;
  /** Event 0 of a crypto-agile log (the Spec ID event, whose size is set by vendorInfoSize), prebuilt. */
  first?: LogEvent;
}

/** A new store with room for every event `bytes` could hold (records are at least `minRecord` bytes). */
export function newStore(bytes: Uint8Array, agile: boolean, sizes: ReadonlyMap<number, number>, decode: boolean, minRecord: number): TcgEventStore {
  const cap = Math.floor(bytes.length / minRecord) + 1;
  return { bytes, agile, sizes, decode, count: 0, at: new Uint32Array(cap), flags: new Uint8Array(cap) };
}

const le16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const le32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/** PCR index of event i. */
export function storePcr(s: TcgEventStore, i: number): number {
  return le32(s.bytes, s.at[i]!);
}

/**
 * Calls `fn(alg, digestOffset, size)` for each digest of event i, in log order, without allocating.
 * Offsets were bounds-checked by the parser.
 */
export function forEachDigest(s: TcgEventStore, i: number, fn: (alg: number, at: number, size: number) => void): void {
  const b = s.bytes;
  const at = s.at[i]!;
  if (!s.agile || (i === 0 && s.first)) return fn(TPM_ALG.SHA1, at + 8, 20);
  const n = le32(b, at + 8);
  let p = at + 12;
  for (let k = 0; k < n; k++) {
    const alg = le16(b, p);
    const size = s.sizes.get(alg)!;
    fn(alg, p + 2, size);
    p += 2 + size;
  }
}

/** Builds the LogEvent for event i (digests and data are views into the store's copy of the log); `decode` false omits `decoded`. */
export function storeEvent(s: TcgEventStore, i: number, decode = s.decode): LogEvent {
  if (i === 0 && s.first) return { ...s.first, digests: s.first.digests.map((d) => ({ ...d })) };
  const b = s.bytes;
  const at = s.at[i]!;
  const pcr = le32(b, at);
  const type = le32(b, at + 4);
  const digests: EventDigest[] = [];
  let end = at + 8;
  forEachDigest(s, i, (alg, p, size) => {
    digests.push({ alg, digest: b.subarray(p, p + size) });
    end = p + size;
  });
  const size = le32(b, end);
  const data = b.subarray(end + 4, end + 4 + size);
  const ev: LogEvent = { index: i, pcr, type, typeName: eventTypeName(type), digests, data, offset: at };
  if (s.flags[i]! & FLAG_NO_EXTEND) ev.noExtend = true;
  if (decode) {
    const d = decodeEventData(type, data, end + 4);
    if (d !== undefined) ev.decoded = d;
  }
  return ev;
}

const STORES = new WeakMap<EventLog, TcgEventStore>();

/** Replaces `events` by a plain data property (the store no longer describes the log once its array exists). */
function settle(log: EventLog, events: LogEvent[]): LogEvent[] {
  // A frozen log cannot change: it keeps its store and builds a fresh array on each read.
  if (Object.isFrozen(log)) return events;
  STORES.delete(log);
  Object.defineProperty(log, 'events', { value: events, writable: true, enumerable: true, configurable: true });
  return events;
}

/**
 * Gives `log` the store. `log.events` stays a real array for every reader, built on first access; from then on the
 * array (which callers may change) is the truth and the store is dropped. Copies ({...log}) never carry the store.
 */
export function attachStore(log: EventLog, s: TcgEventStore): EventLog {
  // Give back the room reserved for records that turned out longer than the minimum.
  if (s.count < s.at.length / 2) {
    s.at = s.at.slice(0, s.count);
    s.flags = s.flags.slice(0, s.count);
  }
  STORES.set(log, s);
  Object.defineProperty(log, 'events', {
    enumerable: true,
    configurable: true,
    get: () => settle(log, Array.from({ length: s.count }, (_, i) => storeEvent(s, i))),
    set: (v: LogEvent[]) => void settle(log, v),
  });
  return log;
}

/** The log's store, while its events have not been materialised as an array. */
export function storeOf(log: EventLog): TcgEventStore | undefined {
  return STORES.get(log);
}

/** Number of events, without materialising them. */
export function eventCount(log: EventLog): number {
  return STORES.get(log)?.count ?? log.events.length;
}

/**
 * The events one at a time: built on demand from the store (memory for one event), or the log's array.
 * `decode` false skips decoding store events (for callers that read only PCRs and digests); array events are as stored.
 */
export function* iterEvents(log: EventLog, decode = true): Generator<LogEvent> {
  const s = STORES.get(log);
  if (!s) return yield* log.events;
  for (let i = 0; i < s.count; i++) yield storeEvent(s, i, decode && s.decode);
}
