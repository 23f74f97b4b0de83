/**
 * verifyLog: trusts an event log only as far as its replay matches PCR values a verified quote covers.
 * Every PCR the caller relies on must be quoted (CVE-2022-0317); every bank the log carries for it must replay to the
 * quoted value ("one bank passes" is refused); an event lacking a bank the SpecID promised is BANK_MISSING.
 * Design notes and options: spec/eventlog.md. Replay rules: TCG PC Client PFP r1.06 §3.3.3
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 */
import { VerificationError } from '../errors.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { hashName } from '../util/hash.js';
import { policyFindings, type PolicyFinding } from './verify-findings.js';
import { MAX_PCR } from './names.js';
import { extendsPcr, initialPcrValue, replay } from './replay.js';
import { iterEvents, storeOf } from './store.js';
import type { EventLog, LogEvent, PcrBanks } from './types.js';
import { exitBootServicesCandidates, type WorkaroundName } from './workarounds.js';

export type { PolicyFinding } from './verify-findings.js';

/** Options for verifyLog. */
export interface VerifyLogOptions {
  /** PCRs the caller relies on (default: every PCR with at least one extending event). */
  pcrs?: readonly number[];
  /** Accept events that lack a bank the SpecID event promised; such a bank is then not compared for that PCR. */
  allowMissingBanks?: boolean;
  /** go-attestation's Exit Boot Services workaround for PCR 5 (off by default; applied to a clone). */
  exitBootServicesWorkaround?: boolean;
}

/** Verdict for one verified PCR. */
export interface PcrVerdict {
  pcr: number;
  /** Banks whose replay matched the quoted value. */
  banks: number[];
  /** Banks the log carries for this PCR that the quote does not cover (nothing to compare). */
  unquotedBanks: number[];
  /** Banks left out because some event lacked them (only with allowMissingBanks). */
  incompleteBanks: number[];
  /** Number of extending events for this PCR. */
  events: number;
  /** Set when the match needed a named workaround. */
  workaround?: WorkaroundName;
}

/** Result of verifyLog: only the events of verified PCRs, per-PCR verdicts and policy findings. */
export interface LogVerification {
  events: LogEvent[];
  pcrs: PcrVerdict[];
  findings: PolicyFinding[];
}

interface Failure {
  code: 'PCR_NOT_QUOTED' | 'BANK_MISSING' | 'PCR_REPLAY_MISMATCH';
  pcr: number;
  bank?: string;
  message: string;
  [k: string]: unknown;
}

/** Banks the log promises for a PCR: the SpecID banks, or (other formats) the banks its events carry. */
function promisedBanks(log: EventLog, evs: LogEvent[]): number[] {
  const carried = new Set(evs.flatMap((e) => e.digests.map((d) => d.alg)));
  const out = log.format === 'tcg-pcclient-crypto-agile' ? [...log.banks] : [...log.banks.filter((b) => carried.has(b))];
  for (const b of carried) if (!out.includes(b)) out.push(b);
  if (evs.length === 0 && out.length === 0) out.push(...log.banks);
  return out;
}

/** Validates the caller's arguments (TypeError on misuse). */
function checkArgs(log: EventLog, quoted: PcrBanks, pcrs: readonly number[] | undefined): void {
  if (!log || !(storeOf(log) || Array.isArray(log.events)) || !Array.isArray(log.banks)) throw new TypeError('log must be an EventLog');
  if (!(quoted instanceof Map)) throw new TypeError('quoted must be a PcrBanks Map');
  for (const p of pcrs ?? []) if (!Number.isInteger(p) || p < 0 || p > MAX_PCR) throw new TypeError(`invalid PCR index ${p}`);
}

/** Compares the replay of `evLog` for PCR p against the quote in `compare` banks; returns the mismatching banks. */
function mismatches(evLog: EventLog, p: number, compare: number[], quoted: PcrBanks): { bank: number; replayed: string; quoted: string }[] {
  const rep = replay(evLog, { pcrs: [p] });
  const out: { bank: number; replayed: string; quoted: string }[] = [];
  for (const b of compare) {
    const got = rep.get(b)?.get(p) ?? initialPcrValue(evLog, b, p);
    const want = quoted.get(b)!.get(p)!;
    if (!bytesEqual(got, want)) out.push({ bank: b, replayed: toHex(got), quoted: toHex(want) });
  }
  return out;
}

/**
 * Verifies a parsed log against quoted PCR values (from a quote whose signature and PCR digest were already checked).
 * Throws VerificationError PCR_NOT_QUOTED, BANK_MISSING or PCR_REPLAY_MISMATCH; details list every failure.
 */
export function verifyLog(log: EventLog, quoted: PcrBanks, opts: VerifyLogOptions = {}): LogVerification {
  checkArgs(log, quoted, opts.pcrs);
  const byPcr = new Map<number, LogEvent[]>();
  // Grouping reads only PCRs and digests: store events are built undecoded (decoding runs once, for the result).
  for (const e of iterEvents(log, false)) if (extendsPcr(e)) (byPcr.get(e.pcr) ?? byPcr.set(e.pcr, []).get(e.pcr)!).push(e);
  const relied = [...new Set(opts.pcrs ?? [...byPcr.keys()])].sort((a, b) => a - b);
  const failures: Failure[] = [];
  const verdicts: PcrVerdict[] = [];
  for (const p of relied) {
    const evs = byPcr.get(p) ?? [];
    // Step 1: the quote must cover the PCR (CVE-2022-0317).
    const quotedBanks = [...quoted.keys()].filter((b) => quoted.get(b)!.has(p));
    if (quotedBanks.length === 0) {
      failures.push({ code: 'PCR_NOT_QUOTED', pcr: p, message: `PCR ${p} is not covered by the quote` });
      continue;
    }
    // Step 2: every bank the log promises must be present in every event of this PCR.
    const complete: number[] = [];
    const incomplete: number[] = [];
    for (const b of promisedBanks(log, evs)) {
      const lacking = evs.find((e) => !e.digests.some((d) => d.alg === b));
      if (!lacking) complete.push(b);
      else if (opts.allowMissingBanks) incomplete.push(b);
      else failures.push({ code: 'BANK_MISSING', pcr: p, bank: hashName(b), eventIndex: lacking.index, message: `event ${lacking.index} (PCR ${p}) has no ${hashName(b)} digest` });
    }
    // Step 3: compare every complete bank the quote covers; at least one must be comparable.
    const compare = complete.filter((b) => quotedBanks.includes(b));
    if (compare.length === 0) {
      failures.push({ code: 'PCR_NOT_QUOTED', pcr: p, message: `PCR ${p}: no bank the log carries (${complete.map(hashName).join(', ') || 'none'}) is quoted` });
      continue;
    }
    const verdict: PcrVerdict = { pcr: p, banks: compare, unquotedBanks: complete.filter((b) => !quotedBanks.includes(b)), incompleteBanks: incomplete, events: evs.length };
    let bad = mismatches(log, p, compare, quoted);
    // Step 4: the named Exit Boot Services workaround, only when asked for, only for PCR 5, on a clone.
    if (bad.length && p === 5 && opts.exitBootServicesWorkaround) {
      for (const clone of exitBootServicesCandidates(log)) {
        if (mismatches(clone, p, compare, quoted).length === 0) {
          bad = [];
          verdict.workaround = 'exitBootServices';
          break;
        }
      }
    }
    for (const m of bad) {
      failures.push({ code: 'PCR_REPLAY_MISMATCH', pcr: p, bank: hashName(m.bank), replayed: m.replayed, quoted: m.quoted, message: `PCR ${p} ${hashName(m.bank)}: replay ${m.replayed} != quoted ${m.quoted}` });
    }
    verdicts.push(verdict);
  }
  // Fail closed: report the most fundamental failure first, with every failure in details.
  if (failures.length) {
    const order = ['PCR_NOT_QUOTED', 'BANK_MISSING', 'PCR_REPLAY_MISMATCH'];
    const first = [...failures].sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code))[0]!;
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : '';
    throw new VerificationError(first.code, first.message + more, { pcr: first.pcr, bank: first.bank, failures });
  }
  const ok = new Set(verdicts.map((v) => v.pcr));
  const events = log.events.filter((e) => extendsPcr(e) && ok.has(e.pcr));
  return { events, pcrs: verdicts, findings: policyFindings(events) };
}
