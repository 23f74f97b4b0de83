/**
 * `aicert predict` exit codes and output per the CLI contract conventions: --json prints one document, --pcrs
 * compares (0 match, 1 naming each mismatching PCR), malformed input and bad usage exit 2.
 * Expected digests come from pesign and node:crypto.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { buildPe, filler } from './helpers/pe-build.js';
import { hasTool, pesignHash } from './helpers/pe-samples.js';

const tmp = mkdtempSync(join(tmpdir(), 'aicert-predict-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const kernel = buildPe({ sections: [{ name: '.text', data: filler(2000, 5) }] }).bytes;
const uki = buildPe({
  sections: [
    { name: '.text', data: filler(900, 6) },
    { name: '.sdmagic', data: new TextEncoder().encode('#### LoaderInfo: systemd-stub 252.39 ####') },
    { name: '.cmdline', data: new TextEncoder().encode('quiet') },
    { name: '.linux', data: kernel },
  ],
}).bytes;
const ukiPath = join(tmp, 'uki.efi');
writeFileSync(ukiPath, uki);

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    return { code: await main(['predict', ...argv]), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

const sha256 = (...parts: (Uint8Array | string)[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

describe('aicert predict', () => {
  it('--json: one document with Authenticode hashes, events and PCRs 4/9/11 in both banks', async () => {
    const r = await cli('--uki', ukiPath, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc.pcrs)).toEqual(['sha1', 'sha256']);
    expect(Object.keys(doc.pcrs.sha256)).toEqual(['4', '9', '11']);
    if (hasTool('pesign')) {
      writeFileSync(join(tmp, 'kernel.efi'), kernel);
      expect(doc.authenticode.uki.sha256).toBe(pesignHash(ukiPath));
      expect(doc.authenticode.kernel.sha256).toBe(pesignHash(join(tmp, 'kernel.efi')));
    } else {
      console.warn('NOTICE: pesign not installed; the Authenticode cross-check of aicert predict is skipped.');
    }
    const pcr9 = doc.events.filter((e: { pcr: number }) => e.pcr === 9);
    expect(pcr9.map((e: { digests: { sha256: string } }) => e.digests.sha256)).toEqual([sha256(Buffer.from('quiet\0', 'utf16le'))]);
    const pcr11 = [sha256('.linux\0'), sha256(kernel), sha256('.cmdline\0'), sha256('quiet')];
    const want11 = pcr11.reduce((pcr, d) => sha256(Buffer.from(pcr, 'hex'), Buffer.from(d, 'hex')), '00'.repeat(32));
    expect(doc.pcrs.sha256['11']).toBe(want11);
  });

  it('--pcrs: exit 0 when the given values match, 1 naming each mismatching PCR', async () => {
    const doc = JSON.parse((await cli('--uki', ukiPath, '--json')).stdout);
    const good = join(tmp, 'good.json');
    writeFileSync(good, JSON.stringify({ sha256: { 4: doc.pcrs.sha256['4'], 11: doc.pcrs.sha256['11'] } }));
    expect((await cli('--uki', ukiPath, '--pcrs', good)).code).toBe(0);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ sha256: { 4: '00'.repeat(32), 11: doc.pcrs.sha256['11'], 7: '11'.repeat(32) } }));
    const r = await cli('--uki', ukiPath, '--pcrs', bad, '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).match).toBe(false);
    expect(r.stderr).toMatch(/PCR 4 \(sha256\)/);
    expect(r.stderr).toMatch(/PCR 7 \(sha256\): not predicted/);
    expect(r.stderr).not.toMatch(/PCR 11/);
  });

  it('azure flow warns that its PCR 4 sequence is unverified', async () => {
    const r = await cli('--uki', ukiPath, '--boot-flow', 'azure');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/azure-trusted-launch/);
    expect(r.stderr).toMatch(/unverified assumption: Azure/);
  });

  it('exit 2: malformed UKI, unreadable file, missing --uki, unknown flag, bad --boot-flow', async () => {
    const junk = join(tmp, 'junk.efi');
    writeFileSync(junk, filler(4096));
    expect((await cli('--uki', junk)).code).toBe(2);
    expect((await cli('--uki', join(tmp, 'missing.efi'))).code).toBe(2);
    const notUki = join(tmp, 'plain.efi');
    writeFileSync(notUki, kernel);
    expect((await cli('--uki', notUki, '--json')).code).toBe(2);
    expect((await cli()).code).toBe(2);
    expect((await cli('--uki', ukiPath, '--frobnicate')).code).toBe(2);
    expect((await cli('--uki', ukiPath, '--boot-flow', 'seabios')).code).toBe(2);
  });
});
