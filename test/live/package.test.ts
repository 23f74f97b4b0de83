// Packaging: the tarball from `npm pack` installs into an empty folder and its bins and exports work there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const built = existsSync(join(repo, 'dist', 'bin', 'aicert.js'));
if (!built) console.warn('NOTICE: dist/ is missing (run `npm run build`); packaging test skipped.');

describe.skipIf(!built)('npm pack → install into an empty folder', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aicert-pack-'));
    const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: repo, encoding: 'utf8' }).trim().split('\n').pop()!;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', join(dir, tgz)], { cwd: dir, stdio: 'pipe', timeout: 240_000 });
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the tarball holds dist and spec but no tests or vectors', () => {
    const pkg = join(dir, 'node_modules', 'aicert');
    expect(existsSync(join(pkg, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'spec', 'verification.md'))).toBe(true);
    // the verifier page ships as static files
    for (const f of ['index.html', 'aicert-web.js', 'aicert-web.css']) expect(existsSync(join(pkg, 'dist', 'web', f)), f).toBe(true);
    expect(readdirSync(pkg)).not.toContain('test');
    expect(readdirSync(pkg)).not.toContain('testvectors');
    expect(readFileSync(join(pkg, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    // no source maps shipped; the verifier does not pull in pkijs/asn1js
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    expect(walk(join(pkg, 'dist')).filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const dep of ['pkijs', 'asn1js']) expect(existsSync(join(dir, 'node_modules', dep)), dep).toBe(false);
  });

  test('--version works from the installed bins', () => {
    for (const bin of ['aicert', 'aicert-verify']) {
      const r = spawnSync('npx', ['--no-install', bin, '--version'], { cwd: dir, encoding: 'utf8' });
      expect(r.stdout).toMatch(/^aicert \d+\.\d+\.\d+/);
      expect(r.status).toBe(0);
    }
  });

  test('npx aicert quote verifies a shipped vector from the installed package', () => {
    const v = (f: string) => join(repo, 'testvectors', 'quote', 'ak-ecc', f);
    const nonce = execFileSync('cat', [v('nonce.hex')], { encoding: 'utf8' }).trim();
    const r = spawnSync('npx', ['--no-install', 'aicert', 'quote', '--ak', v('ak.pub'), '--message', v('quote.msg'), '--signature', v('quote.sig'), '--pcrs', v('quote.pcrs'), '--nonce', nonce], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout).toContain('quote: valid');
    expect(r.status).toBe(0);
    const bad = spawnSync('npx', ['--no-install', 'aicert', 'quote', '--ak', v('ak.pub'), '--message', v('quote.msg'), '--signature', v('quote.sig'), '--nonce', '00'], { cwd: dir, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    const usage = spawnSync('npx', ['--no-install', 'aicert', 'quote', '--bogus'], { cwd: dir, encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });

  test('npx aicert-verify verifies the shipped demo AIBOM and its weights from the installed package', () => {
    const d = (f: string) => join(repo, 'testvectors', 'demo', f);
    const args = ['--no-install', 'aicert-verify', d('aibom.json'), '--trust-root', d('trust-root.pem'), '--policy', d('policy.json'), '--model', d('weights')];
    const r = spawnSync('npx', args, { cwd: dir, encoding: 'utf8' });
    expect(r.stdout).toContain('VALID');
    expect(r.status).toBe(0);
    const json = spawnSync('npx', [...args, '--json'], { cwd: dir, encoding: 'utf8' });
    expect(JSON.parse(json.stdout).valid).toBe(true);
    // Without the demo's trust root the embedded Azure root is used, and the throwaway CA is refused.
    const untrusted = spawnSync('npx', ['--no-install', 'aicert-verify', d('aibom.json'), '--policy', d('policy.json')], { cwd: dir, encoding: 'utf8' });
    expect(untrusted.status).toBe(1);
    const garbage = spawnSync('npx', ['--no-install', 'aicert-verify', d('policy.json')], { cwd: dir, encoding: 'utf8' });
    expect(garbage.status).toBe(2);
  });

  test('every subpath export resolves with types', () => {
    const script = `
      const subs = ['aicert', 'aicert/tpm', 'aicert/eventlog', 'aicert/aibom', 'aicert/launcher', 'aicert/node', 'aicert/errors'];
      const { verifyAibom } = await import('aicert');
      if (typeof verifyAibom !== 'function') process.exit(5);
      for (const s of subs) await import(s);
      const { verifyQuote } = await import('aicert/tpm');
      const { VerificationError } = await import('aicert/errors');
      if (typeof verifyQuote !== 'function' || typeof VerificationError !== 'function') process.exit(3);
      const pkg = (await import('aicert/package.json', { with: { type: 'json' } })).default;
      if (pkg.name !== 'aicert') process.exit(4);`;
    writeFileSync(join(dir, 'check.mjs'), script);
    const r = spawnSync(process.execPath, ['check.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const d of ['index.d.ts', 'tpm/index.d.ts', 'eventlog/index.d.ts', 'aibom/index.d.ts', 'errors.d.ts']) {
      expect(existsSync(join(dir, 'node_modules', 'aicert', 'dist', d))).toBe(true);
    }
  });
});
