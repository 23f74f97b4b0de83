/**
 * `aicert eventlog` per the CLI contract: human table, --json document, --pcrs comparison (exit 1 naming each
 * mismatching PCR) and exit 2 for malformed input. Expected PCRs come from the origin repositories' JSON files.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { vectorsDir } from './helpers/vectors.js';

const dir = vectorsDir();
const tmp = mkdtempSync(join(tmpdir(), 'aicert-eventlog-'));

/** Runs `aicert eventlog ...` in-process, capturing stdout and stderr. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await main(['eventlog', ...argv]);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

describe.skipIf(!dir)('aicert eventlog', () => {
  const log = () => join(dir!, 'go-tpm-tools/cos-85-amd-sev.bin');
  const expected = () => JSON.parse(readFileSync(join(dir!, 'go-tpm-tools/expected_pcrs_from_server_eventlog_test.json'), 'utf8'))['cos-85-amd-sev.bin'].banks;

  it('--json prints one document with format, pcrs (bank -> pcr -> hex) and events', async () => {
    const r = await cli(log(), '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['format', 'pcrs', 'events']);
    expect(doc.format).toBe('tcg-pcclient-crypto-agile');
    expect(Object.keys(doc.pcrs)).toEqual(['sha1', 'sha256', 'sha384']);
    for (const bank of ['sha1', 'sha256']) for (const [p, v] of Object.entries(expected()[bank])) expect(doc.pcrs[bank][p]).toBe(v);
    expect(doc.events[0]).toMatchObject({ index: 0, pcr: 0, typeName: 'EV_NO_ACTION', noExtend: true });
    expect(Object.keys(doc.events[1].digests)).toEqual(['sha1', 'sha256', 'sha384']);
  });

  it('prints a human table then the replayed PCRs', async () => {
    const r = await cli(log());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^format: tcg-pcclient-crypto-agile/);
    expect(r.stdout).toMatch(/\n\s+\d+\s+7\s+EV_SEPARATOR\s/);
    expect(r.stdout).toContain(`    4: ${expected().sha256['4']}`);
    expect(r.stdout.indexOf('replayed PCRs:')).toBeGreaterThan(r.stdout.indexOf('EV_SEPARATOR'));
  });

  it('--pcrs with the origin values exits 0; a changed value exits 1 naming the PCR', async () => {
    const good = join(tmp, 'good.json');
    writeFileSync(good, JSON.stringify(expected()));
    expect((await cli(log(), '--pcrs', good)).code).toBe(0);
    const e = expected();
    e.sha256['4'] = '00'.repeat(32);
    e.sha1['9'] = '11'.repeat(20);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify(e));
    const r = await cli(log(), '--pcrs', bad, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MISMATCH PCR 4 \(sha256\)/);
    expect(r.stderr).toMatch(/MISMATCH PCR 9 \(sha1\)/);
    JSON.parse(r.stdout);
  });

  it('exit 2 for malformed logs, malformed --pcrs files and bad usage', async () => {
    expect((await cli(join(dir!, 'keylime/binary_bios_measurements-bogus'))).code).toBe(2);
    expect((await cli(join(tmp, 'does-not-exist'))).code).toBe(2);
    const notJson = join(tmp, 'x.json');
    writeFileSync(notJson, '{"sha256": {"4": "abc"}}');
    expect((await cli(log(), '--pcrs', notJson)).code).toBe(2);
    expect((await cli(log(), '--bogus-flag')).code).toBe(2);
    expect((await cli()).code).toBe(2);
  });
});
