// verifyAkChain parses an embedded Azure intermediate only when a path could use it. A leaf whose issuer name is
// "Global Virtual TPM CA - 03" (signed by a throwaway key, made with openssl) must still meet the embedded CA-03 as
// its issuer candidate: the search then fails on that edge (a bad signature, or the CA's validity), never with "no
// issuer" (CERT_UNTRUSTED_ROOT). Private-CA chains are covered by akcert-platforms.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VerificationError } from '../src/errors.js';
import { parseCertificates, verifyAkChain } from '../src/tpm/akcert.js';
import { AZURE_VTPM_INTERMEDIATES } from '../src/tpm/trust-azure.js';

const ca03 = AZURE_VTPM_INTERMEDIATES.find((p) => Buffer.from(parseCertificates(p)[0]!).includes(Buffer.from('Global Virtual TPM CA - 03')))!;
let dir = '';
let leaf = '';
const ssl = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicert-lazy-'));
  writeFileSync(join(dir, 'ca03.pem'), ca03);
  ssl('genrsa', '-out', 'k.pem', '2048');
  // self-signing the real CA-03 with our key keeps its subject Name bytes exactly
  ssl('x509', '-in', 'ca03.pem', '-signkey', 'k.pem', '-out', 'fake03.pem');
  writeFileSync(join(dir, 'ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=2.23.133.8.3\nbasicConstraints=critical,CA:FALSE\n');
  ssl('req', '-new', '-key', 'k.pem', '-subj', '/CN=lazy.test', '-out', 'leaf.csr');
  ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'fake03.pem', '-CAkey', 'k.pem', '-set_serial', '7', '-days', '3650', '-extfile', 'ext', '-out', 'leaf.pem');
  leaf = readFileSync(join(dir, 'leaf.pem'), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded intermediates taken on demand', () => {
  test('a leaf naming CA-03 as issuer meets the embedded CA-03 (the edge fails, not the issuer search)', async () => {
    const e = await verifyAkChain(leaf).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(VerificationError);
    expect((e as VerificationError).code).not.toBe('CERT_UNTRUSTED_ROOT');
    expect((e as VerificationError).message).toMatch(/Global Virtual TPM CA - 03/);
  });

});
