/**
 * A fresh adversarial pass beyond the listed classes, each on genuine inputs with one part forged: a UKI whose
 * .sdmagic section carries terminal control (aicert predict printed it raw on stdout), and the further classes below.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPe, filler } from './helpers/pe-build.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'aicert-round3-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const CONTROL = /[\x1b\x07\r\u0080-\u009f\u202a-\u202e]/;

describe('aicert predict: text from the UKI is escaped', () => {
  it('a stub version with an escape sequence and a newline cannot forge "all given PCRs match" (was: printed raw)', async () => {
    const kernel = buildPe({ sections: [{ name: '.text', data: filler(2000, 5) }] }).bytes;
    const uki = buildPe({
      sections: [
        { name: '.text', data: filler(900, 6) },
        { name: '.sdmagic', data: new TextEncoder().encode('#### LoaderInfo: systemd-stub 257\x1b[2J\nall\tgiven\tPCRs\tmatch\tthe\tprediction ####') },
        { name: '.linux', data: kernel },
      ],
    }).bytes;
    const file = join(tmp, 'uki.efi');
    writeFileSync(file, uki);
    const r = await runCli(['predict', '--uki', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toMatch(CONTROL);
    expect(r.out).toMatch(/systemd-stub 257\\x1b\[2J\\nall\\tgiven/);
    expect(r.out.split('\n').some((l) => l.startsWith('all'))).toBe(false);
  });
});
