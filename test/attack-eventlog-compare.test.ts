/**
 * `aicert eventlog --pcrs` and the library give one verdict (src/eventlog/compare.ts): an event lacking a SpecID bank
 * is BANK_MISSING in both (was: "all match" in the CLI), and quoted PCRs the log never extends (PCR 10, IMA) are
 * reported as not in the log, not as mismatches (was: MISMATCH). Expected values come from the independent oracle
 * replay in test/eventlog-tcg-oracle.ts. spec/eventlog.md §Comparing with expected PCRs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareLog } from '../src/eventlog/compare.js';
import { parseTcgLog, TCG_EV } from '../src/eventlog/tcg.js';
import { asPcrBanks, buildAgileLog, oracleReplay } from './eventlog-tcg-oracle.js';
import { runCli } from './helpers/cli.js';

const te = new TextEncoder();
const tmp = mkdtempSync(join(tmpdir(), 'aicert-elcmp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const jsonOf = (m: Map<number, Map<number, string>>): Record<string, Record<string, string>> => {
  const names: Record<number, string> = { 4: 'sha1', 11: 'sha256' };
  return Object.fromEntries([...m].map(([alg, pcrs]) => [names[alg]!, Object.fromEntries([...pcrs].map(([p, v]) => [String(p), v]))]));
};

describe('eventlog --pcrs: one verdict with the library', () => {
  it('an event without a SpecID bank: BANK_MISSING in the library and exit 1 in the CLI (was: "all match")', async () => {
    const bytes = buildAgileLog([
      { pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') },
      { pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('b'), banks: [0x0b] },
    ]);
    const oracle = oracleReplay(bytes);
    const c = compareLog(parseTcgLog(bytes), asPcrBanks(oracle));
    expect(c.ok).toBe(false);
    expect(c.results.map((r) => r.status)).toContain('bank-missing');
    const logFile = join(tmp, 'bank.bin');
    const pcrFile = join(tmp, 'bank.json');
    writeFileSync(logFile, bytes);
    writeFileSync(pcrFile, JSON.stringify(jsonOf(oracle)));
    const r = await runCli(['eventlog', logFile, '--pcrs', pcrFile, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).comparison.results.some((x: { status: string }) => x.status === 'bank-missing')).toBe(true);
  });

  it('a quoted PCR the log never extends (PCR 10) is "not in the log", not a mismatch (was: MISMATCH, exit 1)', async () => {
    const bytes = buildAgileLog([{ pcr: 4, type: TCG_EV.EV_EFI_ACTION, data: te.encode('a') }]);
    const oracle = oracleReplay(bytes);
    const full = jsonOf(oracle);
    full.sha256!['10'] = 'ab'.repeat(32);
    const logFile = join(tmp, 'ima.bin');
    const pcrFile = join(tmp, 'ima.json');
    writeFileSync(logFile, bytes);
    writeFileSync(pcrFile, JSON.stringify(full));
    const r = await runCli(['eventlog', logFile, '--pcrs', pcrFile, '--json']);
    expect(r.code).toBe(0);
    const cmp = JSON.parse(r.out).comparison as { ok: boolean; results: { pcr: number; bank: string; status: string }[] };
    expect(cmp.ok).toBe(true);
    expect(cmp.results).toContainEqual(expect.objectContaining({ pcr: 10, bank: 'sha256', status: 'not-in-log' }));
    expect(cmp.results).toContainEqual(expect.objectContaining({ pcr: 4, bank: 'sha256', status: 'match' }));
    // A wrong value for a PCR the log does extend is still a mismatch.
    full.sha256!['4'] = '00'.repeat(32);
    writeFileSync(pcrFile, JSON.stringify(full));
    const bad = await runCli(['eventlog', logFile, '--pcrs', pcrFile]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/MISMATCH PCR 4 \(sha256\)/);
    expect(bad.out).toMatch(/not compared: PCR 10 \(sha256\): the log never extends it/);
  });
});
