/**
 * A private SEV-SNP hierarchy for tests, made by openssl: ARK (self-signed, RSA-PSS/SHA-384) → ASK → VCEK (P-384)
 * with AMD's TCB and hwID extensions, plus SNP reports signed by the VCEK with node:crypto (little-endian r, s at
 * 0x2A0) and Azure HCL reports around them. Layouts: AMD SEV-SNP ABI Table 22, spec/confidential-vms.md §2–4.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SnpHierarchy {
  dir: string;
  arkPem: string;
  askPem: string;
  vcekPem: string;
  /** ARK and ASK in one PEM file (the `--amd-roots` form). */
  rootsFile: string;
  vcekKey: KeyObject;
  chip: Buffer;
  /** SPLs the VCEK certifies: bootloader, tee, snp, microcode. */
  spl: { bl: number; tee: number; snp: number; ucode: number };
  remove(): void;
}

const PSS = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48', '-sha384'];

/** Makes ARK-<product> → SEV-<product> → SEV-VCEK in a temporary directory. */
export function makeSnpHierarchy(product = 'Milan'): SnpHierarchy {
  const dir = mkdtempSync(join(tmpdir(), 'aicert-snp-h-'));
  const ossl = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const chip = Buffer.alloc(64, 0xc3);
  const spl = { bl: 3, tee: 0, snp: 8, ucode: 0x73 };
  const ext = (oid: string, v: number) => `${oid}=DER:02:01:${v.toString(16).padStart(2, '0')}`;
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(join(dir, 'vcek.ext'), [
    'keyUsage=critical,digitalSignature',
    ext('1.3.6.1.4.1.3704.1.3.1', spl.bl), ext('1.3.6.1.4.1.3704.1.3.2', spl.tee),
    ext('1.3.6.1.4.1.3704.1.3.3', spl.snp), ext('1.3.6.1.4.1.3704.1.3.8', spl.ucode),
    `1.3.6.1.4.1.3704.1.4=DER:${chip.toString('hex').match(/../g)!.join(':')}`,
  ].join('\n') + '\n');
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'ark.key');
  ossl('req', '-x509', '-new', '-key', 'ark.key', '-subj', `/O=aicert test/CN=ARK-${product}`, '-days', '3650', ...PSS, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ark.pem');
  ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'ask.key');
  ossl('req', '-new', '-key', 'ask.key', '-subj', `/O=aicert test/CN=SEV-${product}`, '-out', 'ask.csr');
  ossl('x509', '-req', '-in', 'ask.csr', '-CA', 'ark.pem', '-CAkey', 'ark.key', '-CAcreateserial', '-days', '3000', ...PSS, '-extfile', 'ca.ext', '-out', 'ask.pem');
  ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'vcek.key');
  ossl('req', '-new', '-key', 'vcek.key', '-subj', '/O=aicert test/CN=SEV-VCEK', '-out', 'vcek.csr');
  ossl('x509', '-req', '-in', 'vcek.csr', '-CA', 'ask.pem', '-CAkey', 'ask.key', '-CAcreateserial', '-days', '2000', ...PSS, '-extfile', 'vcek.ext', '-out', 'vcek.pem');
  const rd = (f: string) => readFileSync(join(dir, f), 'utf8');
  writeFileSync(join(dir, 'amd-roots.pem'), rd('ark.pem') + rd('ask.pem'));
  return {
    dir, arkPem: rd('ark.pem'), askPem: rd('ask.pem'), vcekPem: rd('vcek.pem'), rootsFile: join(dir, 'amd-roots.pem'),
    vcekKey: createPrivateKey(readFileSync(join(dir, 'vcek.key'))), chip, spl,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SnpReportOptions {
  reportData: Buffer;
  measurement?: Buffer;
  vmpl?: number;
  debug?: boolean;
  snpSpl?: number;
  chip?: Buffer;
}

/** A 1184-byte SNP report (version 2, VCEK-signed) with these fields, signed by the hierarchy's VCEK. */
export function snpReport(h: SnpHierarchy, o: SnpReportOptions): Buffer {
  const r = Buffer.alloc(0x4a0);
  r.writeUInt32LE(2, 0);
  r.writeBigUInt64LE(0x30000n | (o.debug ? 1n << 19n : 0n), 8);
  r.writeUInt32LE(o.vmpl ?? 0, 0x30);
  r.writeUInt32LE(1, 0x34);
  o.reportData.copy(r, 0x50);
  (o.measurement ?? Buffer.alloc(48, 0x5a)).copy(r, 0x90);
  Buffer.from([h.spl.bl, h.spl.tee, 0, 0, 0, 0, o.snpSpl ?? h.spl.snp, h.spl.ucode]).copy(r, 0x180);
  (o.chip ?? h.chip).copy(r, 0x1a0);
  const sig = sign('sha384', r.subarray(0, 0x2a0), { key: h.vcekKey, dsaEncoding: 'ieee-p1363' });
  Buffer.from(sig.subarray(0, 48)).reverse().copy(r, 0x2a0);
  Buffer.from(sig.subarray(48)).reverse().copy(r, 0x2e8);
  return r;
}

/** Runtime data JSON carrying `jwk` as HCLAkPub. */
export function runtimeData(jwk: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ keys: [{ kid: 'HCLAkPub', key_ops: ['sign'], ...jwk }], 'vm-configuration': { 'secure-boot': true, 'tpm-enabled': true } }));
}

/** report_data for runtime data: SHA-256(runtime data) ‖ 32 zero bytes. */
export const bindRuntime = (runtime: Buffer): Buffer => Buffer.concat([createHash('sha256').update(runtime).digest(), Buffer.alloc(32)]);

/** An HCL report (version 1, SNP, SHA-256 runtime hash) around a hardware report, zero-padded like the NV index. */
export function hclReport(hw: Buffer, runtime: Buffer, type = 2, pad = 100): Buffer {
  const head = Buffer.alloc(32);
  head.write('HCLA', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(32 + 1184 + 20 + runtime.length, 8);
  head.writeUInt32LE(2, 12);
  const claims = Buffer.alloc(20);
  [20 + runtime.length, 1, type, 1, runtime.length].forEach((v, i) => claims.writeUInt32LE(v, 4 * i));
  const area = Buffer.alloc(1184);
  hw.copy(area);
  return Buffer.concat([head, area, claims, runtime, Buffer.alloc(pad)]);
}
