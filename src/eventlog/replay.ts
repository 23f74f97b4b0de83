/**
 * Event-log replay: recomputes every PCR value in every bank the log's events carry.
 * TCG PC Client Platform Firmware Profile r1.06 §3.3.3 (PCR initial values), §10.4.5.3 (StartupLocality), §2.3.4 (H-CRTM)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 * Rules: EV_NO_ACTION (noExtend) is never extended; PCR0 starts at the StartupLocality byte, or …04 when an H-CRTM
 * event is in PCR 0; PCRs 17–22 start at all-0xFF; everything else starts at zero. IMA and aicert-json logs start at zero.
 */
import { MalformedInputError } from '../errors.js';
import { digestSize, hash, hashName } from '../util/hash.js';
import { MAX_PCR } from './names.js';
import { FLAG_NO_EXTEND, forEachDigest, storeOf, storePcr, type TcgEventStore } from './store.js';
import type { EventLog, LogEvent, PcrBanks } from './types.js';

/** Options for replay. */
export interface ReplayOptions {
  /** Only replay these PCRs (default: all). */
  pcrs?: readonly number[];
}

/** True when an event is extended into a PCR by replay. */
export function extendsPcr(e: LogEvent): boolean {
  return !e.noExtend && Number.isInteger(e.pcr) && e.pcr >= 0 && e.pcr <= MAX_PCR;
}

/** The value PCR `pcr` of bank `alg` holds before the first extend, for this log. */
export function initialPcrValue(log: EventLog, alg: number, pcr: number): Uint8Array {
  const size = digestSize(alg);
  if (size === undefined) throw new MalformedInputError(`unsupported bank ${hashName(alg)}`, { path: 'banks' });
  const v = new Uint8Array(size);
  // Formats that do not model a platform boot start every PCR at zero.
  if (log.format === 'ima' || log.format === 'aicert-json') return v;
  if (pcr >= 17 && pcr <= 22) v.fill(0xff);
  else if (pcr === 0) v[size - 1] = log.hcrtm ? 4 : (log.startupLocality ?? 0);
  return v;
}

/** Running extend state for one bank: a scratch buffer holding PCR ‖ digest. */
function extendInto(alg: number, pcrValue: Uint8Array, digest: Uint8Array, scratch: Uint8Array): Uint8Array {
  scratch.set(pcrValue, 0);
  scratch.set(digest, pcrValue.length);
  return hash(alg, scratch);
}

/** Extends one digest into `out`, creating the bank and the PCR's initial value on first use. */
function extendOne(log: EventLog, out: PcrBanks, scratch: Map<number, Uint8Array>, pcr: number, alg: number, digest: Uint8Array): void {
  let bank = out.get(alg);
  if (!bank) out.set(alg, (bank = new Map()));
  let buf = scratch.get(alg);
  if (!buf) scratch.set(alg, (buf = new Uint8Array(2 * digest.length)));
  const cur = bank.get(pcr) ?? initialPcrValue(log, alg, pcr);
  bank.set(pcr, extendInto(alg, cur, digest, buf));
}

/** Replay straight from a TCG event store: no event objects (digest sizes were checked against the SpecID table). */
function replayStore(log: EventLog, s: TcgEventStore, only: Set<number> | undefined): PcrBanks {
  const out: PcrBanks = new Map();
  const scratch = new Map<number, Uint8Array>();
  for (let i = 0; i < s.count; i++) {
    const pcr = storePcr(s, i);
    if (s.flags[i]! & FLAG_NO_EXTEND || pcr > MAX_PCR || (only && !only.has(pcr))) continue;
    forEachDigest(s, i, (alg, at, size) => extendOne(log, out, scratch, pcr, alg, s.bytes.subarray(at, at + size)));
  }
  return out;
}

/** Replays the log: bank alg id -> PCR index -> value, for every PCR with at least one extending event. */
export function replay(log: EventLog, opts: ReplayOptions = {}): PcrBanks {
  const only = opts.pcrs ? new Set(opts.pcrs) : undefined;
  // A TCG log still in its compact store is replayed from it, without building event objects.
  const s = log ? storeOf(log) : undefined;
  if (s) return replayStore(log, s, only);
  if (!log || !Array.isArray(log.events)) throw new TypeError('log must be an EventLog');
  const out: PcrBanks = new Map();
  const scratch = new Map<number, Uint8Array>();
  for (const e of log.events) {
    // Skip events that never reach a PCR (EV_NO_ACTION, out-of-range indices) and PCRs not asked for.
    if (!extendsPcr(e) || (only && !only.has(e.pcr))) continue;
    for (const d of e.digests) {
      const size = digestSize(d.alg);
      if (size === undefined) throw new MalformedInputError(`event ${e.index}: unsupported bank ${hashName(d.alg)}`, { offset: e.offset });
      if (d.digest.length !== size) {
        throw new MalformedInputError(`event ${e.index}: ${hashName(d.alg)} digest is ${d.digest.length} bytes, expected ${size}`, { offset: e.offset });
      }
      extendOne(log, out, scratch, e.pcr, d.alg, d.digest);
    }
  }
  return out;
}
