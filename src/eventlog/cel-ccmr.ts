/**
 * Confidential-computing measurement registers in CEL-TLV (go-eventlog's CCMRTypeValue = 108, outside the CEL
 * spec): records that extend a hardware MR instead of a PCR. TDX MR indices: 0 = MRTD, 1..4 = RTMR0..3. They are
 * never replayed into PCRs; replayCcmr replays them into MR values to compare with a TD quote's RTMRs.
 * Spec: spec/confidential-vms.md §10.
 */
import { MalformedInputError } from '../errors.js';
import { bytesEqual, toHex, tryFromHex } from '../util/bytes.js';
import { digestSize, extend, hashName, TPM_ALG } from '../util/hash.js';
import { storeOf } from './store.js';
import type { EventLog } from './types.js';

export const CEL_CCMR_TYPE = 108;
/** Highest MR index accepted (TDX has MRTD and RTMR0..3). */
export const MAX_CCMR = 4;

/** Register name of a TDX MR index. */
export function ccmrName(i: number): string {
  return i === 0 ? 'MRTD' : `RTMR${i - 1}`;
}

/** Replays the log's CCMR records: bank -> MR index -> value (each MR starts at zero). */
export function replayCcmr(log: EventLog): Map<number, Map<number, Uint8Array>> {
  const out = new Map<number, Map<number, Uint8Array>>();
  // Only CEL records carry a CCMR index: a TCG log (still in its compact store) has none and is not walked.
  if (storeOf(log)) return out;
  for (const e of log.events) {
    const mr = (e.decoded as { ccmr?: number } | undefined)?.ccmr;
    if (mr === undefined) continue;
    for (const d of e.digests) {
      let bank = out.get(d.alg);
      if (!bank) out.set(d.alg, (bank = new Map()));
      bank.set(mr, extend(d.alg, bank.get(mr) ?? new Uint8Array(digestSize(d.alg)!), d.digest));
    }
  }
  return out;
}

/**
 * Compares the replayed RTMRs with a TD quote's (hex claims `rtmr0`..`rtmr3`, SHA-384). Every RTMR the log extends
 * should match; returns which did and which did not (the caller decides the verdict).
 */
export function compareRtmrs(log: EventLog, tdClaims: Record<string, string>): { matched: string[]; mismatched: string[] } {
  const bank = replayCcmr(log).get(TPM_ALG.SHA384);
  if (!bank) throw new MalformedInputError(`the log has no ${hashName(TPM_ALG.SHA384)} CCMR records`, { path: 'ccmr' });
  const matched: string[] = [];
  const mismatched: string[] = [];
  for (const [mr, v] of bank) {
    if (mr === 0) continue;
    const name = `rtmr${mr - 1}`;
    const want = tdClaims[name];
    (want !== undefined && bytesEqual(tryFromHex(want) ?? new Uint8Array(), v) ? matched : mismatched).push(`${name}=${toHex(v).slice(0, 16)}…`);
  }
  return { matched, mismatched };
}
