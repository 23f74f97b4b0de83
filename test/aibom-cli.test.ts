/** `aicert verify` / `aicert-verify` per the CLI contract: exit codes 0/1/2, --json shape, human report. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers/cli.js';
import { checkArtifacts, sha256Of } from '../src/aibom/index.js';
import { legacyDoc, measurementsOf, QUOTE_DIR, quoteManifest, sha256hex } from './helpers/aibom-fixtures.js';

const m = quoteManifest();
(m ? describe : describe.skip)('aicert verify on an original attestation.json (real swtpm quote)', () => {
  const M = m!;
  const dir = mkdtempSync(join(tmpdir(), 'aicert-verify-'));
  const f = (name: string, v: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof v === 'string' || v instanceof Uint8Array ? v : JSON.stringify(v));
    return p;
  };
  let doc = '';
  let common: string[] = [];
  beforeAll(() => {
    doc = f('attestation.json', legacyDoc(M));
    common = ['--trust-root', resolve(QUOTE_DIR, 'ca/root.pem'), '--at', M.generated_at];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('--json: exactly {valid, checks, claims, warnings, unchecked}; exit 0 when every check passed', async () => {
    const r = await runCli(['verify', doc, ...common, '--measurements', f('m.json', measurementsOf(M, [0, 1, 2, 3, 4, 5, 6, 7])), '--containers', f('c.json', {}), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { valid: boolean; checks: { id: string; ok: boolean | null; detail: string }[]; claims: Record<string, unknown> };
    expect(Object.keys(j)).toEqual(['valid', 'checks', 'claims', 'warnings', 'unchecked']);
    expect(j.valid).toBe(true);
    for (const c of j.checks) expect(Object.keys(c).filter((k) => k !== 'source')).toEqual(['id', 'ok', 'detail']);
    expect(r.err).toMatch(/warning/);
  });

  test('human report: ✓ lines, the ID card, and a verdict; missing policy exits 1 and says why', async () => {
    const r = await runCli(['verify', doc, ...common]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✓ document/m);
    expect(r.out).toMatch(/^– policy\.platform\s+not checked: /m);
    expect(r.out).toMatch(/ID card/);
    // A test CA, not an Azure root: the ID card names the subject, not "Azure Trusted Launch VM".
    expect(r.out).toMatch(/Platform\s+O=aicert test vectors, CN=/);
    expect(r.out).not.toMatch(/Azure Trusted Launch VM/);
    expect(r.out).toMatch(/NOT VALID — could not check policy\.platform, policy\.containers/);
    const ok = await runCli(['verify', doc, ...common, '--allow-unchecked-platform']);
    expect(ok.code).toBe(0);
    // the verdict says what was not proven
    const verdict = ok.out.slice(ok.out.lastIndexOf('\nVALID') + 1).replace(/\n +/g, ' ');
    expect(verdict).toMatch(/^VALID — .*freshness not checked \(no --nonce\); .*boot stack not checked .*weights not checked \(no --model\)\n$/);
  });

  test('failures exit 1: wrong nonce, untrusted root, a --model file that is not bound', async () => {
    expect((await runCli(['verify', doc, ...common, '--allow-unchecked-platform', '--nonce', '00'.repeat(32)])).code).toBe(1);
    const untrusted = await runCli(['verify', doc, '--trust-root', resolve(QUOTE_DIR, 'ca/untrusted-root.pem'), '--at', M.generated_at, '--json']);
    expect(untrusted.code).toBe(1);
    const uj = JSON.parse(untrusted.out) as { checks: { id: string; ok: boolean }[]; error: { code: string } };
    expect(uj.checks.at(-1)).toMatchObject({ id: 'ak.certificate', ok: false });
    // the failing check's code is in the document, as the text report shows it
    expect(uj.error.code).toBe('CERT_UNTRUSTED_ROOT');
    const model = await runCli(['verify', doc, ...common, '--allow-unchecked-platform', '--model', f('weights.bin', 'not the model')]);
    expect(model.code).toBe(1);
    expect(model.out).toMatch(/✗ artifacts/);
  });

  test('malformed input and bad usage exit 2: one JSON error document with --json, nothing on stdout without', async () => {
    const text = JSON.stringify(legacyDoc(M));
    for (const argv of [
      ['verify', f('trunc.json', text.slice(0, 100)), ...common, '--json'],
      ['verify', f('garbage.json', text.replace(/"base64":"[^"]{8}/, '"base64":"@@@@@@@@')), ...common, '--json'],
      ['verify', join(dir, 'absent.json'), '--json'],
      ['verify', doc, '--bogus'],
      ['verify'],
      ['verify', doc, '--nonce', 'xyz'],
      ['verify', doc, '--at', 'yesterday'],
      ['verify', doc, ...common, '--policy', f('p.json', { pcr: {} })],
    ]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      if (argv.includes('--json')) {
        const j = JSON.parse(r.out) as { valid: boolean; checks: unknown[]; error: { code: string } };
        expect(j.valid).toBe(false);
        expect(j.checks).toEqual([]);
        expect(['MALFORMED_INPUT', 'USAGE']).toContain(j.error.code);
      } else expect(r.out).toBe('');
    }
  });
});

describe('core artifact checks (noble streaming sha256)', () => {
  test('bytes, sync and async chunk streams hash like node:crypto; report lists matched/mismatched/extra', async () => {
    const data = new TextEncoder().encode('weights '.repeat(10000));
    async function* chunks() {
      for (let i = 0; i < data.length; i += 4096) yield data.subarray(i, i + 4096);
    }
    expect(await sha256Of(data)).toBe(sha256hex(data));
    expect(await sha256Of(chunks())).toBe(sha256hex(data));
    expect(await sha256Of([data.subarray(0, 5), data.subarray(5)])).toBe(sha256hex(data));
    const expected = [{ name: 'model.bin', sha256: sha256hex(data) }, { name: 'other.bin', sha256: 'ab'.repeat(32) }];
    const r = await checkArtifacts(expected, { 'renamed.bin': chunks(), 'other.bin': data, 'x.bin': new Uint8Array(1) });
    expect(r).toMatchObject({ ok: false, matched: ['renamed.bin'], mismatched: ['other.bin'], extra: ['x.bin'], missing: ['other.bin'] });
    expect((await checkArtifacts(expected, { 'model.bin': data })).ok).toBe(true);
    expect((await checkArtifacts(expected, {})).ok).toBe(false);
  });
});
