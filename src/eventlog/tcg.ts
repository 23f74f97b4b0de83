/**
 * TCG PC Client binary event logs: the SHA-1 legacy form (TCG_PCR_EVENT) and the crypto-agile form
 * (Spec ID Event03, then TCG_PCR_EVENT2 with per-event digest lists).
 * TCG PC Client Platform Firmware Profile r1.06 §10.2.1 (TCG_PCR_EVENT), §10.2.2 (TCG_PCR_EVENT2), §10.4.5.1 (Spec ID)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 * The result is untrusted until verifyLog() has matched it against a quote.
 */
import { MalformedInputError } from '../errors.js';
import { Reader } from '../tpm/reader.js';
import { assertBytes } from '../util/bytes.js';
import { hashName, TPM_ALG } from '../util/hash.js';
import { eventTypeName, MAX_PCR, TCG_EV } from './names.js';
import { noActionSignature, parseSpecId, parseStartupLocality, SPEC_ID_03, STARTUP_LOCALITY } from './tcg-specid.js';
import { attachStore, FLAG_NO_EXTEND, newStore, type TcgEventStore } from './store.js';
import type { EventLog, LogEvent } from './types.js';

export { TCG_EV, eventTypeName, MAX_PCR } from './names.js';

/** Options for parseTcgLog. */
export interface TcgParseOptions {
  /** Decode event data into `decoded` (default true). Turning it off only saves time. */
  decode?: boolean;
  /**
   * The log keeps `bytes` itself instead of a private copy (saves one log-sized copy). Only for a buffer nobody
   * else holds or will change, such as a file just read: later changes to it would change the parsed events.
   */
  adopt?: boolean;
}

/** PCRIndex value Windows writes on a trailing event; such an event is kept but never extended. */
const PCR_INDEX_INVALID = 0xffffffff;
/** Size of a TCG_PCR_EVENT header (PCRIndex, EventType, SHA-1 digest, EventSize). */
const SHA1_HEADER = 32;

/** Offset where the trailing run of identical 0xFF or 0x00 bytes starts (bytes.length when there is none). O(n), once. */
function paddingStart(b: Uint8Array): number {
  const last = b[b.length - 1];
  if (last !== 0xff && last !== 0x00) return b.length;
  let i = b.length - 1;
  while (i > 0 && b[i - 1] === last) i--;
  return i;
}

/** Mutable parse state shared by both forms. */
interface State {
  bytes: Uint8Array;
  /** Start of the end-of-log padding run, computed once so hostile zero runs cannot make parsing quadratic. */
  padFrom: number;
  log: EventLog;
  store: TcgEventStore;
}

/** Applies the PCR index rules and EV_NO_ACTION semantics, records StartupLocality / H-CRTM, and stores the event's offset. */
function addEvent(st: State, at: number, pcr: number, type: number, dataAt: number, size: number): void {
  const { log, store } = st;
  const index = store.count;
  let noExtend = type === TCG_EV.EV_NO_ACTION;
  // PCR index bounds (GHSA-qp88-8f4j-wv7q): only EV_NO_ACTION and the Windows 0xFFFFFFFF trailer may exceed 23.
  if (pcr > MAX_PCR) {
    if (noExtend) log.warnings.push(`event ${index} (EV_NO_ACTION) has PCRIndex ${pcr}`);
    else if (pcr === PCR_INDEX_INVALID && index > 0) {
      noExtend = true;
      log.warnings.push(`event ${index} (${eventTypeName(type)}) has PCRIndex 0xFFFFFFFF: kept, never extended`);
    } else throw new MalformedInputError(`event ${index}: PCRIndex ${pcr} exceeds ${MAX_PCR}`, { offset: at });
  }
  // StartupLocality sets PCR0's starting value; a second one is ambiguous, so it is rejected (as pcrlock does).
  if (type === TCG_EV.EV_NO_ACTION && size >= 16) {
    const data = st.bytes.subarray(dataAt, dataAt + size);
    if (noActionSignature(data) === STARTUP_LOCALITY) startupLocality(st, index, at, pcr, parseStartupLocality(data, dataAt), dataAt);
  }
  if (type === TCG_EV.EV_EFI_HCRTM_EVENT && pcr === 0) log.hcrtm = true;
  store.at[index] = at;
  if (noExtend) store.flags[index] = FLAG_NO_EXTEND;
  store.count++;
}

/** Records a StartupLocality value (PCR 0 only, once, 0..4). */
function startupLocality(st: State, index: number, at: number, pcr: number, loc: number, dataAt: number): void {
  if (pcr !== 0) return void st.log.warnings.push(`event ${index}: StartupLocality in PCR ${pcr} ignored`);
  if (st.log.startupLocality !== undefined) throw new MalformedInputError(`event ${index}: duplicate StartupLocality event`, { offset: at });
  if (loc > 4) throw new MalformedInputError(`event ${index}: StartupLocality ${loc} is not 0..4`, { offset: dataAt });
  st.log.startupLocality = loc;
}

/** Stops at end-of-log padding, recording a warning with its size. */
function atPadding(st: State, r: Reader): boolean {
  if (r.remaining === 0) return true;
  if (st.store.count > 0 && r.offset >= st.padFrom) {
    const fill = st.bytes[r.offset] === 0xff ? '0xFF' : '0x00';
    st.log.warnings.push(`${r.remaining} bytes of ${fill} padding at the end of the log (offset ${r.offset})`);
    return true;
  }
  return false;
}

/** Reads TCG_PCR_EVENT records (SHA-1 legacy form) until the end or padding. */
function parseSha1Events(st: State, r: Reader): void {
  while (!atPadding(st, r)) {
    const at = r.offset;
    const pcr = r.u32le('PCRIndex');
    const type = r.u32le('EventType');
    r.skip(20, 'Digest');
    const size = r.u32le('EventSize');
    // skip bounds the declared size by the bytes left.
    const dataAt = r.offset;
    r.skip(size, 'Event');
    addEvent(st, at, pcr, type, dataAt, size);
  }
}

/** Reads TCG_PCR_EVENT2 records with digest sizes taken from the SpecID event. */
function parseAgileEvents(st: State, r: Reader): void {
  const sizes = st.store.sizes;
  const seen = new Set<number>();
  while (!atPadding(st, r)) {
    const at = r.offset;
    const pcr = r.u32le('PCRIndex');
    const type = r.u32le('EventType');
    const cAt = r.offset;
    const count = r.u32le('Digests.count');
    // A digest list longer than the SpecID bank list must repeat or invent banks.
    if (count > sizes.size) r.fail(`event ${st.store.count}: ${count} digests but the SpecID event lists ${sizes.size} banks`, cAt);
    seen.clear();
    for (let i = 0; i < count; i++) {
      const aAt = r.offset;
      const alg = r.u16le('Digests.hashAlg');
      const size = sizes.get(alg);
      if (size === undefined) r.fail(`event ${st.store.count}: digest algorithm 0x${alg.toString(16).padStart(4, '0')} not in the SpecID event`, aAt);
      if (seen.has(alg)) r.fail(`event ${st.store.count}: duplicate ${hashName(alg)} digest`, aAt);
      seen.add(alg);
      r.skip(size, 'Digests.digest');
    }
    const size = r.u32le('EventSize');
    const dataAt = r.offset;
    r.skip(size, 'Event');
    addEvent(st, at, pcr, type, dataAt, size);
  }
}

/**
 * Parses a TCG PC Client binary event log (SHA-1 or crypto-agile form). Throws MalformedInputError with the byte
 * offset for anything it cannot parse; odd but accepted inputs are listed in `warnings`.
 */
export function parseTcgLog(input: Uint8Array, opts: TcgParseOptions = {}): EventLog {
  assertBytes(input, 'bytes');
  if (input.length === 0) throw new MalformedInputError('TCG event log: empty input', { offset: 0 });
  // The event store holds u32 offsets.
  if (input.length > 0xffffffff) throw new MalformedInputError('TCG event log: 4 GiB or larger', { offset: 0 });
  // The store reads its own copy, unless adopting: later changes to the caller's buffer cannot alter parsed events.
  const bytes = opts.adopt === true ? input : input.slice();
  const r = new Reader(bytes, 'TCG event log');
  const decode = opts.decode !== false;
  const log: EventLog = { format: 'tcg-pcclient-sha1', banks: [TPM_ALG.SHA1], events: [], warnings: [] };
  // The first event is always a TCG_PCR_EVENT; a Spec ID Event03 in it means the crypto-agile form follows.
  const pcr = r.u32le('PCRIndex');
  const type = r.u32le('EventType');
  const digest = r.bytesN(20, 'Digest');
  const size = r.u32le('EventSize');
  const head = bytes.subarray(SHA1_HEADER, SHA1_HEADER + 16);
  if (type !== TCG_EV.EV_NO_ACTION || noActionSignature(head) !== SPEC_ID_03) {
    const st: State = { bytes, padFrom: paddingStart(bytes), log, store: newStore(bytes, false, new Map([[TPM_ALG.SHA1, 20]]), decode, SHA1_HEADER) };
    parseSha1Events(st, new Reader(bytes, 'TCG event log'));
    return attachStore(log, st.store);
  }
  // Crypto-agile: the SpecID structure's own vendorInfoSize decides where it ends (as tpm2-tools does).
  const spec = parseSpecId(bytes.subarray(SHA1_HEADER), SHA1_HEADER);
  if (spec.length !== size) {
    log.warnings.push(`SpecID EventSize is ${size} but the structure is ${spec.length} bytes (vendorInfoSize); next event located by vendorInfoSize`);
  }
  if (pcr > MAX_PCR) throw new MalformedInputError(`SpecID event: PCRIndex ${pcr} exceeds ${MAX_PCR}`, { offset: 0 });
  if (pcr !== 0) log.warnings.push(`SpecID event is in PCR ${pcr} (CCEL/TDX logs use MR indices)`);
  if (digest.some((x) => x !== 0)) log.warnings.push('SpecID event digest is not zero');
  if (!spec.specVersion.startsWith('2.')) log.warnings.push(`SpecID specVersion ${spec.specVersion} is not 2.x`);
  log.format = 'tcg-pcclient-crypto-agile';
  log.banks = spec.algorithms.map((a) => a.alg);
  const data = bytes.subarray(SHA1_HEADER, SHA1_HEADER + spec.length);
  const first: LogEvent = {
    index: 0, pcr, type, typeName: eventTypeName(type), digests: [{ alg: TPM_ALG.SHA1, digest }], data, offset: 0, noExtend: true,
  };
  if (decode) first.decoded = { kind: 'SpecID', ...spec };
  // TCG_PCR_EVENT2 records are at least 16 bytes (PCRIndex, EventType, count, EventSize).
  const store = newStore(bytes, true, new Map(spec.algorithms.map((a) => [a.alg, a.digestSize])), decode, 16);
  store.first = first;
  store.at[0] = 0;
  store.flags[0] = FLAG_NO_EXTEND;
  store.count = 1;
  r.skip(spec.length, 'SpecIdEvent');
  parseAgileEvents({ bytes, padFrom: paddingStart(bytes), log, store }, r);
  return attachStore(log, store);
}
