/**
 * Certificate-path attacks on the genuine swtpm RSA AK key (testvectors/quote/ak-rsa/ak.pem), with CAs made by
 * openssl in a temp dir at test time: a copy of the trust anchor (same subject and key, its own validity and
 * constraints) appended to the chain, nameConstraints, and platform claims read from a name under a non-Azure anchor.
 * Where openssl can state the verdict (`openssl verify -attime`), it is the expectation. spec/ak-certificates.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { verifyAibom } from '../src/aibom/index.js';
import { verifyAkChain } from '../src/tpm/akcert.js';
import { v1FromVector } from './helpers/aibom-fixtures.js';
import { outcome } from './helpers/outcome.js';

const AK_PUB = resolve(import.meta.dirname, '../testvectors/quote/ak-rsa/ak.pem');
const have = spawnSync('openssl', ['version']).status === 0;
if (!have) console.warn('NOTICE: openssl not on PATH; certificate attack tests skipped.');

const EXT = `
[root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[root0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[rootnc]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
nameConstraints=permitted;dirName:nc_dir
[nc_dir]
CN=Allowed Subtree
[int]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ak]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=2.23.133.8.3
authorityKeyIdentifier=keyid
`;

const dir = have ? mkdtempSync(join(tmpdir(), 'aicert-certs-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const ossl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
const pem = (n: string): string => readFileSync(join(dir, `${n}.pem`), 'utf8');

/** Makes the CAs and AK certificates once (RSA-2048 CA keys; the AK key is the swtpm AK). */
function setup(): void {
  writeFileSync(join(dir, 'ext.cnf'), EXT);
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'root.key');
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'int.key');
  const self = (out: string, days: string, ext: string, cn = 'Test AK Root'): void =>
    ossl('req', '-x509', '-new', '-key', 'root.key', '-subj', `/CN=${cn}`, '-days', days, '-config', 'ext.cnf', '-extensions', ext, '-out', `${out}.pem`);
  // The configured anchor is valid for one day; its copy (same subject, same key) for ten years.
  self('root-short', '1', 'root');
  self('root-copy', '3650', 'root');
  // The configured anchor allows no intermediate (pathlen:0); its copy has no limit.
  self('root-pl0', '3650', 'root0');
  // nameConstraints (not critical) on an anchor of another name.
  self('root-nc', '3650', 'rootnc', 'Test NC Root');
  ossl('pkey', '-in', 'int.key', '-pubout', '-out', 'int.pub');
  ossl('x509', '-new', '-force_pubkey', 'int.pub', '-subj', '/CN=Test AK Intermediate', '-CA', 'root-pl0.pem', '-CAkey', 'root.key', '-days', '3650', '-extfile', 'ext.cnf', '-extensions', 'int', '-out', 'int.pem');
  const ak = (out: string, ca: string, key: string, cn: string): void =>
    ossl('x509', '-new', '-force_pubkey', AK_PUB, '-subj', `/CN=${cn}`, '-CA', `${ca}.pem`, '-CAkey', key, '-days', '3650', '-extfile', 'ext.cnf', '-extensions', 'ak', '-out', `${out}.pem`);
  ak('ak-root', 'root-short', 'root.key', '12345678-1234-1234-1234-123456789abc.TrustedVM.Azure.Microsoft');
  ak('ak-int', 'int', 'int.key', 'AK under an intermediate');
  ak('ak-nc', 'root-nc', 'root.key', 'Outside The Subtree');
}
if (have) setup();

/** openssl's own verdict: `openssl verify -attime T -partial_chain? no: -CAfile anchor -untrusted rest`. */
function opensslVerify(anchor: string, leaf: string, untrusted: string[], at: Date): boolean {
  const args = ['verify', '-attime', String(Math.floor(at.getTime() / 1000)), '-purpose', 'any', '-CAfile', `${anchor}.pem`];
  if (untrusted.length) {
    writeFileSync(join(dir, 'untrusted.pem'), untrusted.map(pem).join(''));
    args.push('-untrusted', 'untrusted.pem');
  }
  return spawnSync('openssl', [...args, `${leaf}.pem`], { cwd: dir }).status === 0;
}

const code = (p: Promise<unknown>): Promise<string> => outcome(p, 'valid');

const LATER = new Date(Date.now() + 30 * 86400_000);
const NOW = new Date(Date.now() + 3600_000);

(have ? describe : describe.skip)('a path ends at the configured anchor itself (class: copy of an anchor)', () => {
  test('control: the AK chains to the configured anchor while it is valid', async () => {
    expect(await code(verifyAkChain([pem('ak-root')], { trustAnchors: [pem('root-short')], at: NOW }))).toBe('valid');
    expect(opensslVerify('root-short', 'ak-root', [], NOW)).toBe(true);
  });

  test('an expired anchor stays expired when a longer-lived copy of it is appended to the chain (was: valid)', async () => {
    expect(opensslVerify('root-short', 'ak-root', ['root-copy'], LATER)).toBe(false);
    expect(await code(verifyAkChain([pem('ak-root')], { trustAnchors: [pem('root-short')], at: LATER }))).toBe('CERT_EXPIRED');
    expect(await code(verifyAkChain([pem('ak-root'), pem('root-copy')], { trustAnchors: [pem('root-short')], at: LATER }))).toBe('CERT_EXPIRED');
    // The same copy with a garbage signature.
    const der = Buffer.from(pem('root-copy').replace(/-----[A-Z ]+-----|\n/g, ''), 'base64');
    der[der.length - 5]! ^= 0xff;
    expect(await code(verifyAkChain([pem('ak-root'), new Uint8Array(der)], { trustAnchors: [pem('root-short')], at: LATER }))).toBe('CERT_EXPIRED');
  });

  test("the anchor's pathLenConstraint holds even when a copy without it is in the chain (was: valid)", async () => {
    expect(opensslVerify('root-pl0', 'ak-int', ['int'], NOW)).toBe(false);
    expect(await code(verifyAkChain([pem('ak-int'), pem('int')], { trustAnchors: [pem('root-pl0')], at: NOW }))).toBe('CERT_CONSTRAINTS_INVALID');
    expect(await code(verifyAkChain([pem('ak-int'), pem('int'), pem('root-copy')], { trustAnchors: [pem('root-pl0')], at: NOW }))).toBe('CERT_CONSTRAINTS_INVALID');
  });

  test('a copy is reported as set aside, and the path ends at the configured anchor', async () => {
    const r = await verifyAkChain([pem('ak-root'), pem('root-copy')], { trustAnchors: [pem('root-short')], at: NOW });
    const anchorSha = (await verifyAkChain([pem('ak-root')], { trustAnchors: [pem('root-short')], at: NOW })).anchor.sha256;
    expect(r.anchor.sha256).toBe(anchorSha);
    expect(r.path.at(-1)!.sha256).toBe(anchorSha);
    expect(r.warnings.join('\n')).toMatch(/repeat a trust anchor's subject and key/);
  });
});

(have ? describe : describe.skip)('nameConstraints are refused, not ignored (class: unevaluated constraints)', () => {
  test('a non-critical nameConstraints on the anchor: openssl rejects the chain, so do we (was: valid)', async () => {
    expect(opensslVerify('root-nc', 'ak-nc', [], NOW)).toBe(false);
    expect(await code(verifyAkChain([pem('ak-nc')], { trustAnchors: [pem('root-nc')], at: NOW }))).toBe('CERT_CONSTRAINTS_INVALID');
  });
});

(have ? describe : describe.skip)('platform claims come only from the anchor that validated (class: platform from a name)', () => {
  test('an Azure-looking CN under a non-Azure anchor gives no Azure platform (was: azureVmId)', async () => {
    const r = await verifyAkChain([pem('ak-root')], { trustAnchors: [pem('root-short')], at: NOW });
    expect(r.leaf.subject).toMatch(/TrustedVM\.Azure\.Microsoft/);
    expect(r.leaf.platform).toBeUndefined();
    const doc = v1FromVector('ak-rsa');
    ((doc.evidence as any).tpm as any).akCertificates = [pem('ak-root')];
    const v = await verifyAibom(JSON.stringify(doc), { trustAnchors: [pem('root-short')], at: NOW });
    expect(v.checks.find((c) => c.id === 'ak.certificate')?.ok).toBe(true);
    expect(v.claims.platform?.azureVmId).toBeUndefined();
    expect(v.claims.platform?.description).not.toMatch(/Azure Trusted Launch/);
  });
});
