/**
 * compareLog: what `aicert eventlog --pcrs` reports, with the same rules verifyLog applies to a quote (spec/eventlog.md
 * §Comparing with expected PCRs): PCRs the log extends are replayed and compared bank by bank (an event lacking a
 * promised bank is BANK_MISSING, as on the AIBOM path); expected PCRs the log never touches, and expected banks the
 * log does not carry, are reported as such, never as mismatches. One verdict for the CLI and the library.
 */
import { VerificationError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import { hashName } from '../util/hash.js';
import { extendsPcr } from './replay.js';
import type { EventLog, PcrBanks } from './types.js';
import { verifyLog } from './verify.js';

export type ComparisonStatus = 'match' | 'mismatch' | 'bank-missing' | 'not-quoted' | 'not-in-log' | 'bank-not-in-log';

export interface PcrComparison {
  pcr: number;
  bank: string;
  status: ComparisonStatus;
  expected?: string;
  replayed?: string;
  /** For bank-missing: the first event lacking the bank. */
  eventIndex?: number;
  message: string;
}

export interface LogComparison {
  /** True when at least one value matched and no compared PCR mismatched or lacked a bank. */
  ok: boolean;
  results: PcrComparison[];
  /** PCRs the log extends that the expected values do not list (their events are not judged). */
  notExpected: number[];
}

interface Failure {
  code: string;
  pcr: number;
  bank?: string;
  replayed?: string;
  quoted?: string;
  eventIndex?: number;
  message: string;
}

/** Compares a parsed log with expected PCR values (bank -> PCR -> value). */
export function compareLog(log: EventLog, expected: PcrBanks): LogComparison {
  const touched = new Set(log.events.filter(extendsPcr).map((e) => e.pcr));
  const results: PcrComparison[] = [];
  const wanted = new Set<number>();
  for (const [, m] of expected) for (const p of m.keys()) wanted.add(p);
  for (const p of [...wanted].sort((a, b) => a - b)) {
    const banks = [...expected].filter(([, m]) => m.has(p)).map(([alg]) => alg);
    const exp = (alg: number): string => toHex(expected.get(alg)!.get(p)!);
    // A PCR the log never extends: the log says nothing about it.
    if (!touched.has(p)) {
      for (const alg of banks) results.push({ pcr: p, bank: hashName(alg), status: 'not-in-log', expected: exp(alg), message: `PCR ${p} (${hashName(alg)}): the log never extends it` });
      continue;
    }
    // The library's own verdict for this PCR, as for a quote.
    let failures: Failure[] = [];
    let matched: number[] = [];
    try {
      matched = verifyLog(log, expected, { pcrs: [p] }).pcrs[0]?.banks ?? [];
    } catch (e) {
      if (!(e instanceof VerificationError)) throw e;
      failures = (e.details?.failures as Failure[] | undefined) ?? [];
    }
    const banksMissing = failures.filter((f) => f.code === 'BANK_MISSING');
    for (const f of banksMissing) results.push({ pcr: p, bank: f.bank!, status: 'bank-missing', ...(f.eventIndex !== undefined ? { eventIndex: f.eventIndex } : {}), message: f.message });
    for (const alg of banks) {
      const bank = hashName(alg);
      if (banksMissing.some((f) => f.bank === bank)) continue;
      const mm = failures.find((f) => f.code === 'PCR_REPLAY_MISMATCH' && f.bank === bank);
      if (mm) results.push({ pcr: p, bank, status: 'mismatch', expected: exp(alg), replayed: mm.replayed!, message: `PCR ${p} (${bank}): replayed ${mm.replayed}, expected ${exp(alg)}` });
      else if (matched.includes(alg)) results.push({ pcr: p, bank, status: 'match', expected: exp(alg), message: `PCR ${p} (${bank}): matches` });
      else if (!log.banks.includes(alg) && !log.events.some((e) => e.pcr === p && e.digests.some((d) => d.alg === alg))) {
        results.push({ pcr: p, bank, status: 'bank-not-in-log', expected: exp(alg), message: `PCR ${p} (${bank}): the log has no ${bank} bank` });
      } else results.push({ pcr: p, bank, status: 'not-quoted', expected: exp(alg), message: failures.find((f) => f.pcr === p)?.message ?? `PCR ${p} (${bank}): not comparable` });
    }
  }
  const bad = results.some((r) => r.status === 'mismatch' || r.status === 'bank-missing');
  return { ok: !bad && results.some((r) => r.status === 'match'), results, notExpected: [...touched].filter((p) => !wanted.has(p)).sort((a, b) => a - b) };
}
