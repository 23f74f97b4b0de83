/**
 * AMD SEV-SNP ATTESTATION_REPORT (SEV Secure Nested Paging Firmware ABI Specification, AMD #56860, Table 22,
 * https://www.amd.com/en/developer/sev.html): parse the 1184-byte report into the claims a policy needs, and
 * verify its ECDSA P-384/SHA-384 signature (little-endian r and s) with the VCEK or VLEK public key.
 * Layout and field origins: spec/confidential-vms.md §SEV-SNP report.
 */
import { toHex } from '../util/bytes.js';
import { TPM_ALG } from '../util/hash.js';
import type { KeyMaterial } from './keys.js';
import { Reader } from './reader.js';
import { verifySignature } from './sigverify.js';

export const SNP_REPORT_SIZE = 0x4a0;
/** The signature covers bytes 0x000..0x29F. */
export const SNP_SIGNED_SIZE = 0x2a0;
const SIG_ALGO_ECDSA_P384_SHA384 = 1;

/** TCB_VERSION (ABI Table 3); Turin (family 1Ah) adds an FMC SPL and moves the fields. */
export interface SnpTcb {
  raw: string;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  fmc?: number;
}

/** Guest policy bits (ABI Table 9). */
export interface SnpPolicy {
  raw: string;
  abiMinor: number;
  abiMajor: number;
  smt: boolean;
  migrateMa: boolean;
  debug: boolean;
  singleSocket: boolean;
  cxlAllow: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHiding: boolean;
  pageSwapDisable: boolean;
}

export interface SnpReport {
  version: number;
  guestSvn: number;
  policy: SnpPolicy;
  familyId: string;
  imageId: string;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: bigint;
  platformInfo: string;
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: 'vcek' | 'vlek' | 'none';
  reportData: Uint8Array;
  measurement: string;
  hostData: string;
  idKeyDigest: string;
  authorKeyDigest: string;
  reportId: string;
  reportIdMa: string;
  reportedTcb: bigint;
  /** CPUID family/model/stepping (report version 3 and later). */
  cpuid: { family: number; model: number; stepping: number } | undefined;
  chipId: Uint8Array;
  committedTcb: bigint;
  currentVersion: string;
  committedVersion: string;
  launchTcb: bigint;
  /** The signed bytes 0x000..0x29F. */
  signed: Uint8Array;
  /** r and s, big-endian, 48 bytes each. */
  signature: { r: Uint8Array; s: Uint8Array };
}

/** Decodes the guest policy u64. */
export function decodePolicy(p: bigint): SnpPolicy {
  const bit = (n: number): boolean => ((p >> BigInt(n)) & 1n) === 1n;
  return {
    raw: `0x${p.toString(16)}`,
    abiMinor: Number(p & 0xffn),
    abiMajor: Number((p >> 8n) & 0xffn),
    smt: bit(16),
    migrateMa: bit(18),
    debug: bit(19),
    singleSocket: bit(20),
    cxlAllow: bit(21),
    memAes256Xts: bit(22),
    raplDis: bit(23),
    ciphertextHiding: bit(24),
    pageSwapDisable: bit(25),
  };
}

/** Decodes a TCB_VERSION u64; `turin` selects the family 1Ah layout. */
export function decodeTcb(t: bigint, turin: boolean): SnpTcb {
  const b = (n: number): number => Number((t >> BigInt(8 * n)) & 0xffn);
  const raw = t.toString(16).padStart(16, '0');
  if (turin) return { raw, fmc: b(0), bootloader: b(1), tee: b(2), snp: b(3), microcode: b(7) };
  return { raw, bootloader: b(0), tee: b(1), snp: b(6), microcode: b(7) };
}

/** Little-endian 72-byte signature component -> big-endian 48 bytes (the upper 24 bytes must be zero). */
function leComponent(r: Reader, field: string): Uint8Array {
  const at = r.offset;
  const le = r.bytesN(72, field);
  if (le.subarray(48).some((b) => b !== 0)) r.fail(`${field}: bytes beyond the P-384 size are not zero`, at + 48);
  return le.slice(0, 48).reverse();
}

/** Parses an SEV-SNP attestation report (exactly 1184 bytes). */
export function parseSnpReport(bytes: Uint8Array): SnpReport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('SNP report must be a Uint8Array');
  const r = new Reader(bytes.slice(), 'SNP report');
  const version = r.u32le('version');
  if (version < 2 || version > 5) r.fail(`unsupported SNP report version ${version}`, 0);
  const guestSvn = r.u32le('guest_svn');
  const policy = decodePolicy(r.u64le('policy'));
  const familyId = toHex(r.bytesN(16, 'family_id'));
  const imageId = toHex(r.bytesN(16, 'image_id'));
  const vmplAt = r.offset;
  const vmpl = r.u32le('vmpl');
  if (vmpl > 3) r.fail(`VMPL ${vmpl} out of range`, vmplAt);
  const sigAt = r.offset;
  const signatureAlgo = r.u32le('signature_algo');
  if (signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384) r.fail(`signature algorithm ${signatureAlgo} is not ECDSA P-384 with SHA-384`, sigAt);
  const currentTcb = r.u64le('current_tcb');
  const platformInfo = `0x${r.u64le('platform_info').toString(16)}`;
  const flagsAt = r.offset;
  const flags = r.u32le('flags');
  const keySel = (flags >> 2) & 7;
  const signingKey = keySel === 0 ? 'vcek' : keySel === 1 ? 'vlek' : keySel === 7 ? 'none' : r.fail(`signing key selector ${keySel} is reserved`, flagsAt);
  r.skip(4, 'reserved0');
  const reportData = r.bytesN(64, 'report_data');
  const measurement = toHex(r.bytesN(48, 'measurement'));
  const hostData = toHex(r.bytesN(32, 'host_data'));
  const idKeyDigest = toHex(r.bytesN(48, 'id_key_digest'));
  const authorKeyDigest = toHex(r.bytesN(48, 'author_key_digest'));
  const reportId = toHex(r.bytesN(32, 'report_id'));
  const reportIdMa = toHex(r.bytesN(32, 'report_id_ma'));
  const reportedTcb = r.u64le('reported_tcb');
  const cpuidBytes = r.bytesN(3, 'cpuid');
  r.skip(21, 'reserved1');
  const chipId = r.bytesN(64, 'chip_id');
  const committedTcb = r.u64le('committed_tcb');
  const cur = r.bytesN(4, 'current_version');
  const com = r.bytesN(4, 'committed_version');
  const launchTcb = r.u64le('launch_tcb');
  r.skip(SNP_SIGNED_SIZE - r.offset, 'reserved2');
  const sigR = leComponent(r, 'signature.r');
  const sigS = leComponent(r, 'signature.s');
  r.skip(368, 'signature.reserved');
  r.end();
  const cpuid = version >= 3 ? { family: cpuidBytes[0]!, model: cpuidBytes[1]!, stepping: cpuidBytes[2]! } : undefined;
  const ver = (v: Uint8Array): string => `${v[2]}.${v[1]}.${v[0]}`;
  return {
    version, guestSvn, policy, familyId, imageId, vmpl, signatureAlgo, currentTcb, platformInfo,
    authorKeyEn: (flags & 1) === 1, maskChipKey: (flags & 2) === 2, signingKey,
    reportData, measurement, hostData, idKeyDigest, authorKeyDigest, reportId, reportIdMa, reportedTcb, cpuid,
    chipId, committedTcb, currentVersion: ver(cur), committedVersion: ver(com), launchTcb,
    signed: bytes.slice(0, SNP_SIGNED_SIZE),
    signature: { r: sigR, s: sigS },
  };
}

/** Product line from CPUID family/model (report v3+): Milan 19h/0xh, Genoa 19h/1xh, Turin 1Ah. */
export function productFromCpuid(c: SnpReport['cpuid']): 'Milan' | 'Genoa' | 'Turin' | undefined {
  if (!c) return undefined;
  if (c.family === 0x1a) return 'Turin';
  if (c.family === 0x19 && c.model < 0x10) return 'Milan';
  if (c.family === 0x19 && c.model >= 0x10 && c.model < 0x20) return 'Genoa';
  return undefined;
}

/** Verifies the report signature with the VCEK/VLEK public key (P-384). Never throws for a bad signature. */
export async function verifySnpSignature(report: SnpReport, key: KeyMaterial): Promise<boolean> {
  if (key.kty !== 'EC' || key.crv !== 'P-384') return false;
  return verifySignature(key, { scheme: 'ecdsa', hashAlg: TPM_ALG.SHA384, r: report.signature.r, s: report.signature.s }, report.signed);
}

/** JSON view of the claims a policy pins (spec/policy.md `snp` rules). */
export function snpClaims(report: SnpReport, turin: boolean): Record<string, unknown> {
  return {
    version: report.version,
    guestSvn: report.guestSvn,
    policy: report.policy,
    familyId: report.familyId,
    imageId: report.imageId,
    vmpl: report.vmpl,
    signingKey: report.signingKey,
    measurement: report.measurement,
    hostData: report.hostData,
    idKeyDigest: report.idKeyDigest,
    authorKeyDigest: report.authorKeyDigest,
    reportData: toHex(report.reportData),
    reportId: report.reportId,
    currentTcb: decodeTcb(report.currentTcb, turin),
    reportedTcb: decodeTcb(report.reportedTcb, turin),
    committedTcb: decodeTcb(report.committedTcb, turin),
    launchTcb: decodeTcb(report.launchTcb, turin),
    platformInfo: report.platformInfo,
    chipId: toHex(report.chipId),
    currentVersion: report.currentVersion,
    committedVersion: report.committedVersion,
    ...(report.cpuid ? { cpuid: report.cpuid } : {}),
  };
}
