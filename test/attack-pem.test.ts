/**
 * Hostile PEM and hostile /aTLS answer sizes (spec/ak-certificates.md §Inputs, spec/runner-protocol.md §aTLS): every
 * PEM path shares one linear reader with a 1 MiB cap (was: `loadAkPublic` took seconds on 256 KiB of BEGIN lines, a
 * backtracking regular expression), and the launcher reads at most 256 KiB of a runner's /aTLS answer (was 4 MiB).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { attestRunner } from '../src/launcher/atls.js';
import { loadAkPublic } from '../src/tpm/keys.js';
import { parseCertificates } from '../src/tpm/x509-der.js';

const AK_PEM = readFileSync(resolve(import.meta.dirname, '../testvectors/quote/ak-rsa/ak.pem'), 'utf8');

/** Runs `f`, returns what it threw and how long it took (ms). */
const timed = (f: () => unknown): { err: unknown; ms: number } => {
  const t = performance.now();
  try {
    f();
    return { err: undefined, ms: performance.now() - t };
  } catch (e) {
    return { err: e, ms: performance.now() - t };
  }
};

describe('one linear PEM reader', () => {
  // 256 KiB of BEGIN lines with no END: the old lazy regular expression rescanned the rest of the text at each one.
  const hostile = [
    '-----BEGIN A-----'.repeat(15_420),
    '-----BEGIN PUBLIC KEY-----\n'.repeat(9_700),
    `-----BEGIN CERTIFICATE-----\n${'A'.repeat(200)}\n`.repeat(1_150),
  ];

  test.each(hostile.map((h, i) => [i, h]))('hostile text %i: loadAkPublic fails typed, in well under a second', (_i, h) => {
    expect(h.length).toBeGreaterThan(250_000);
    const r = timed(() => loadAkPublic(h));
    expect(r.err).toBeInstanceOf(MalformedInputError);
    // a generous bound: the quadratic reader took 2-4 s here, the linear one takes about a millisecond
    expect(r.ms).toBeLessThan(400);
  });

  test.each(hostile.map((h, i) => [i, h]))('hostile text %i: certificate PEM fails typed, bounded', (_i, h) => {
    const r = timed(() => parseCertificates(h, 'certs'));
    expect(r.err).toBeInstanceOf(MalformedInputError);
    expect(r.ms).toBeLessThan(400);
  });

  test('texts over 1 MiB are refused before any scan, on every PEM path', () => {
    const big = AK_PEM + ' '.repeat(1024 * 1024);
    expect(() => loadAkPublic(big)).toThrow(/larger than 1048576/);
    expect(() => parseCertificates(big, 'certs')).toThrow(/larger than 1048576/);
  });

  test('the genuine swtpm AK PEM still loads; two blocks or a mismatched END label do not', () => {
    expect(loadAkPublic(AK_PEM).source).toBe('spki');
    expect(() => loadAkPublic(AK_PEM + AK_PEM)).toThrow(MalformedInputError);
    expect(() => loadAkPublic(AK_PEM.replace('END PUBLIC KEY', 'END CERTIFICATE'))).toThrow(MalformedInputError);
    expect(() => loadAkPublic(AK_PEM.replace(/\n-----END/, '\n-----\n-----END'))).toThrow(MalformedInputError);
  });
});

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
describe.skipIf(!haveOpenssl)('the /aTLS answer read by the launcher is bounded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aicert-atls-big-'));
  let server: Server | undefined;
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a 300 KiB answer is refused while it is read, before any parsing', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=hostile', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    const body = JSON.stringify({ ca_cert: '-----BEGIN CERTIFICATE-----', pad: 'x'.repeat(300 * 1024) });
    server = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_q, r) => r.end(body));
    await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    await expect(attestRunner(`https://127.0.0.1:${port}`, { timeoutMs: 10_000 })).rejects.toThrow(/aTLS answer larger than 262144 bytes/);
  });
});
