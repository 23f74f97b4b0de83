/**
 * Named, off-by-default replay workarounds for known firmware bugs. Each works on a clone; the parsed log is never
 * changed, and a verdict that needed a workaround says so.
 * Exit Boot Services: some firmware extends PCR 5 with the "Exit Boot Services Invocation" / "...Returned with
 * Success|Failure" EV_EFI_ACTION events without logging them (go-attestation eventlog_workarounds.go does the same).
 * TCG PC Client Platform Firmware Profile r1.06 §10.4.4 (EV_EFI_ACTION strings)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 */
import { hash } from '../util/hash.js';
import { utf8 } from '../util/bytes.js';
import { eventTypeName, TCG_EV } from './names.js';
import type { EventLog, LogEvent } from './types.js';

/** Workaround names accepted by verifyLog options and reported in verdicts. */
export type WorkaroundName = 'exitBootServices';

export const EBS_INVOCATION = 'Exit Boot Services Invocation';
export const EBS_SUCCESS = 'Exit Boot Services Returned with Success';
export const EBS_FAILURE = 'Exit Boot Services Returned with Failure';

/** A synthetic EV_EFI_ACTION event in PCR 5 whose digests are H(action string) in each bank. */
function actionEvent(action: string, banks: number[], index: number): LogEvent {
  const data = utf8(action);
  return {
    index,
    pcr: 5,
    type: TCG_EV.EV_EFI_ACTION,
    typeName: eventTypeName(TCG_EV.EV_EFI_ACTION),
    digests: banks.map((alg) => ({ alg, digest: hash(alg, data) })),
    data,
    decoded: { string: action, encoding: 'ascii', synthetic: true },
    offset: -1,
  };
}

/**
 * Candidate clones of the log with the missing Exit Boot Services events appended to PCR 5 (success, then failure).
 * Events that the log already has are not added again.
 */
export function exitBootServicesCandidates(log: EventLog): EventLog[] {
  const pcr5 = log.events.filter((e) => e.pcr === 5 && !e.noExtend);
  const banks = Array.from(new Set(pcr5.flatMap((e) => e.digests.map((d) => d.alg))));
  if (banks.length === 0) return [];
  const has = (s: string) => pcr5.some((e) => e.type === TCG_EV.EV_EFI_ACTION && new TextDecoder().decode(e.data) === s);
  const out: EventLog[] = [];
  for (const ret of [EBS_SUCCESS, EBS_FAILURE]) {
    const extra: string[] = [];
    if (!has(EBS_INVOCATION)) extra.push(EBS_INVOCATION);
    if (!has(ret)) extra.push(ret);
    if (extra.length === 0) continue;
    const n = log.events.length;
    out.push({ ...log, events: [...log.events, ...extra.map((s, i) => actionEvent(s, banks, n + i))], warnings: [...log.warnings] });
  }
  return out;
}
