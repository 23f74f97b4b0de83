/**
 * The launcher and the runner throw typed errors (src/wire/tool-error.ts, spec/launcher.md §Errors): no bare Error
 * is constructed there, every ToolError code is in the closed set and raised somewhere, and real failures of real
 * entry points carry their stable code through to the CLI's JSON error.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ToolError, TOOL_ERROR_CODES } from '../src/wire/tool-error.js';
import { qemuFinetuneOptions } from '../src/launcher/qemu-finetune.js';
import { imdsText } from '../src/runner/imds.js';
import { readHclReport } from '../src/runner/hcl.js';
import { errorJson } from '../src/cli/io.js';

const REPO = join(import.meta.dirname, '..');
const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
const SOURCES = ['launcher', 'runner', 'wire'].flatMap((d) => files(join(REPO, 'src', d)));
const tmp = mkdtempSync(join(tmpdir(), 'aicert-toolerr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('typed errors in the launcher and the runner', () => {
  it('constructs no bare Error', () => {
    const bare = SOURCES.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\bnew Error\(/g)].map(() => relative(REPO, f)));
    expect(bare).toEqual([]);
  });

  it('raises exactly the codes of TOOL_ERROR_CODES', () => {
    const raised = new Set(SOURCES.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/new ToolError\('([A-Z_]+)'/g)].map((m) => m[1]!)));
    expect(raised.size).toBeGreaterThan(10);
    expect([...raised].sort()).toEqual([...TOOL_ERROR_CODES].sort());
  });

  it('a folder that is not an image build: INPUT_MISSING, in library words', async () => {
    const err = await qemuFinetuneOptions(tmp, join(tmp, 'absent'), tmp, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect(err).toMatchObject({ code: 'INPUT_MISSING', message: expect.stringMatching(/is not an 'aicert image build' output \(no disk\.raw\)/) });
  });

  it('IMDS refusing for good: IMDS_UNAVAILABLE, at once', async () => {
    let calls = 0;
    const fetch = (async () => (calls++, new Response('no', { status: 404 }))) as unknown as typeof globalThis.fetch;
    const err = await imdsText({ fetch, sleep: async () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect(err).toMatchObject({ code: 'IMDS_UNAVAILABLE', message: 'IMDS: HTTP 404' });
    expect(calls).toBe(1);
  });

  it('an unreadable HCL report NV index: HCL_REPORT_UNREADABLE', async () => {
    const err = await readHclReport(async () => Promise.reject(new Error('tpm2_nvread: handle not found'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect(err).toMatchObject({ code: 'HCL_REPORT_UNREADABLE', message: expect.stringMatching(/NV index 0x1400001: tpm2_nvread: handle not found/) });
  });

  it('the CLI reports the ToolError code in its JSON error', () => {
    expect(errorJson(new ToolError('TIMEOUT', 'the VM did not become ready within 900 s'))).toEqual({ code: 'TIMEOUT', message: 'the VM did not become ready within 900 s' });
  });
});
