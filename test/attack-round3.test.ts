/**
 * A fresh adversarial pass beyond the listed classes, each on genuine inputs with one part forged: a UKI whose
 * .sdmagic section carries terminal control (aicert predict printed it raw on stdout), input files that never end
 * (/dev/zero as a document, a policy or a trust root hung the CLI), a guest's serial log that made the frame reader
 * backtrack for seconds, and run state (cloud answers, the trainer's output names) printed raw by `aicert runs`.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseFramedBlocks } from '../src/launcher/qemu.js';
import { run as runsCommand } from '../src/cli/cmd-runs.js';
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

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, `node_modules/.cache/aicert-round3-${process.pid}/aicert.mjs`);
beforeAll(async () => {
  // the CLI bundled from this source tree (not dist/, which may be stale)
  const entry = "import { main } from './src/cli/main.ts'; main(process.argv.slice(2)).then((c) => (process.exitCode = c));";
  await build({ stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' }, outfile: BIN, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
});
afterAll(() => rmSync(dirname(BIN), { recursive: true, force: true }));

/** The CLI as its own process, killed after `ms`: its exit code and stderr. */
function cliProcess(args: string[], ms: number): Promise<{ code: number | null; err: string; killed: boolean }> {
  const bin = BIN;
  return new Promise((ok) => {
    execFile(process.execPath, ['--max-old-space-size=512', bin, ...args], { timeout: ms, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (e, _out, err) =>
      ok({ code: e ? ((e as { code?: number }).code ?? null) : 0, err, killed: Boolean(e && (e as { killed?: boolean }).killed) }));
  });
}

describe('inputs named on the command line are read bounded', () => {
  // was: readFileSync(/dev/zero) never returned (or the heap ran out); now exit 2 once 64 MiB have been read
  it.each([
    ['verify', ['verify', '/dev/zero']],
    ['verify --policy', ['verify', '/dev/null', '--policy', '/dev/zero']],
    ['export --trust-root', ['export', '--format', 'intoto', '/dev/null', '--trust-root', '/dev/zero']],
  ])('%s /dev/zero: exit 2 naming the limit, not a hang', async (_n, args) => {
    const r = await cliProcess(args, 20_000);
    expect(r.killed).toBe(false);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/larger than 67108864 bytes/);
  });
});

describe('framed blocks on the local VM serial log are read in one pass', () => {
  const frame = (name: string, bytes: Buffer, digest = createHash('sha256').update(bytes).digest('hex')) =>
    `@@AICERT BEGIN ${name}\r\n${bytes.toString('base64').replace(/.{76}/g, '$&\n')}\n@@AICERT END ${name} ${digest}\r\n`;

  it('genuine blocks between boot noise are read; a corrupted one throws', () => {
    const a = randomBytes(3000);
    const b = randomBytes(10);
    const m = parseFramedBlocks(`[    0.1] boot\n${frame('eventlog', a)}noise\n@@AICERT BEGIN lost\n${frame('pcrs', b)}`);
    expect([...m.keys()]).toEqual(['eventlog', 'pcrs']);
    expect(Buffer.from(m.get('eventlog')!).equals(a)).toBe(true);
    expect(() => parseFramedBlocks(frame('x', a, 'ab'.repeat(32)))).toThrow(/corrupted x/);
  });

  it('half a megabyte of BEGIN lines without END is read in well under a second (was: a backtracking regex, 7 s)', () => {
    const hostile = '@@AICERT BEGIN x\n'.repeat(32_000);
    const t = performance.now();
    expect(parseFramedBlocks(hostile).size).toBe(0);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('aicert runs: what a state file records is escaped', () => {
  it("a kept run's unsaved outputs (named by the trainer) cannot forge lines (was: printed raw)", async () => {
    const home = join(tmp, 'home');
    const runId = '20260101-000000-abcdef';
    const state = {
      version: 1, runId, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', status: 'kept', pid: 1,
      armEndpoint: 'https://management.azure.com', subscriptionId: '0', resourceGroup: 'rg\x1b[2J', location: 'westeurope',
      resources: [{ id: '/subscriptions/0/vm', apiVersion: '2024-07-01', kind: 'virtualMachine', status: 'created' }],
      unsavedOutputs: '1 output, 4 B: model\x1b[2J\x1b[H\nall outputs saved.bin',
    };
    mkdirSync(join(home, 'runs'), { recursive: true });
    writeFileSync(join(home, 'runs', `${runId}.json`), JSON.stringify(state));
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    try {
      expect(await runsCommand([], { home })).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(out).toContain('KEPT, holds the only copy of');
    expect(out).not.toMatch(CONTROL);
    expect(out.split('\n').some((l) => l.startsWith('all outputs'))).toBe(false);
  });
});
