/**
 * TPMS_ATTEST and its union members (TPM 2.0 Library Part 2 §10.12,
 * https://trustedcomputinggroup.org/resource/tpm-library-specification/).
 * Parsing checks structure only; magic and type are judged by verifyQuote so they can be reported as checks.
 */
import { Reader } from './reader.js';
import { ATTEST_TYPE_NAMES, MAX, TPM_ST } from './constants.js';
import { readPcrSelection, type PcrBankSelection } from './pcr-selection.js';
import { digestSize, hashName } from '../util/hash.js';

/** TPMS_CLOCK_INFO (§10.11.1). */
export interface ClockInfo {
  clock: bigint;
  resetCount: number;
  restartCount: number;
  safe: boolean;
}

export interface QuoteInfo {
  pcrSelect: PcrBankSelection[];
  pcrDigest: Uint8Array;
}
export interface CertifyInfo {
  name: Uint8Array;
  qualifiedName: Uint8Array;
}
export interface CreationInfo {
  objectName: Uint8Array;
  creationHash: Uint8Array;
}
export interface CommandAuditInfo {
  auditCounter: bigint;
  digestAlg: number;
  auditDigest: Uint8Array;
  commandDigest: Uint8Array;
}
export interface SessionAuditInfo {
  exclusiveSession: boolean;
  sessionDigest: Uint8Array;
}
export interface TimeAttestInfo {
  time: bigint;
  clockInfo: ClockInfo;
  firmwareVersion: bigint;
}
export interface NvCertifyInfo {
  indexName: Uint8Array;
  offset: number;
  nvContents: Uint8Array;
}
export interface NvDigestCertifyInfo {
  indexName: Uint8Array;
  nvDigest: Uint8Array;
}

/** The `attested` union, tagged by the attestation type. */
export type Attested =
  | { kind: 'quote'; quote: QuoteInfo }
  | { kind: 'certify'; certify: CertifyInfo }
  | { kind: 'creation'; creation: CreationInfo }
  | { kind: 'command-audit'; commandAudit: CommandAuditInfo }
  | { kind: 'session-audit'; sessionAudit: SessionAuditInfo }
  | { kind: 'time'; time: TimeAttestInfo }
  | { kind: 'nv'; nv: NvCertifyInfo }
  | { kind: 'nv-digest'; nvDigest: NvDigestCertifyInfo };

/** A parsed TPMS_ATTEST. `raw` is the exact signed bytes. */
export interface Attest {
  magic: number;
  type: number;
  typeName: string;
  qualifiedSigner: Uint8Array;
  extraData: Uint8Array;
  clockInfo: ClockInfo;
  firmwareVersion: bigint;
  attested: Attested;
  raw: Uint8Array;
}

/** Reads TPMS_CLOCK_INFO. */
function readClockInfo(r: Reader): ClockInfo {
  const clock = r.u64('clockInfo.clock');
  const resetCount = r.u32('clockInfo.resetCount');
  const restartCount = r.u32('clockInfo.restartCount');
  const at = r.offset;
  const safe = r.u8('clockInfo.safe');
  if (safe > 1) r.fail(`clockInfo.safe must be 0 or 1, got ${safe}`, at);
  return { clock, resetCount, restartCount, safe: safe === 1 };
}

/** Reads a TPM2B_NAME: empty, a 4-byte handle, or nameAlg ‖ digest of a known hash. */
function readName(r: Reader, field: string): Uint8Array {
  const at = r.offset;
  const name = r.tpm2b(field, MAX.NAME);
  if (name.length === 0 || name.length === 4) return name;
  const alg = (name[0]! << 8) | name[1]!;
  const size = digestSize(alg);
  if (size === undefined || size + 2 !== name.length) {
    r.fail(`${field}: ${name.length}-byte name does not match its algorithm ${hashName(alg)}`, at);
  }
  return name;
}

/** Reads the `attested` union member selected by `type`. */
function readAttested(r: Reader, type: number): Attested {
  switch (type) {
    case TPM_ST.ATTEST_QUOTE: {
      const pcrSelect = readPcrSelection(r);
      return { kind: 'quote', quote: { pcrSelect, pcrDigest: r.tpm2b('quote.pcrDigest', MAX.DIGEST) } };
    }
    case TPM_ST.ATTEST_CERTIFY:
      return { kind: 'certify', certify: { name: readName(r, 'certify.name'), qualifiedName: readName(r, 'certify.qualifiedName') } };
    case TPM_ST.ATTEST_CREATION:
      return {
        kind: 'creation',
        creation: { objectName: readName(r, 'creation.objectName'), creationHash: r.tpm2b('creation.creationHash', MAX.DIGEST) },
      };
    case TPM_ST.ATTEST_COMMAND_AUDIT: {
      const auditCounter = r.u64('commandAudit.auditCounter');
      const digestAlg = r.u16('commandAudit.digestAlg');
      const auditDigest = r.tpm2b('commandAudit.auditDigest', MAX.DIGEST);
      return { kind: 'command-audit', commandAudit: { auditCounter, digestAlg, auditDigest, commandDigest: r.tpm2b('commandAudit.commandDigest', MAX.DIGEST) } };
    }
    case TPM_ST.ATTEST_SESSION_AUDIT: {
      const at = r.offset;
      const ex = r.u8('sessionAudit.exclusiveSession');
      if (ex > 1) r.fail('sessionAudit.exclusiveSession must be 0 or 1', at);
      return { kind: 'session-audit', sessionAudit: { exclusiveSession: ex === 1, sessionDigest: r.tpm2b('sessionAudit.sessionDigest', MAX.DIGEST) } };
    }
    case TPM_ST.ATTEST_TIME: {
      const time = r.u64('time.time');
      const clockInfo = readClockInfo(r);
      return { kind: 'time', time: { time, clockInfo, firmwareVersion: r.u64('time.firmwareVersion') } };
    }
    case TPM_ST.ATTEST_NV: {
      const indexName = readName(r, 'nv.indexName');
      const offset = r.u16('nv.offset');
      return { kind: 'nv', nv: { indexName, offset, nvContents: r.tpm2b('nv.nvContents', MAX.NV_BUFFER) } };
    }
    case TPM_ST.ATTEST_NV_DIGEST:
      return { kind: 'nv-digest', nvDigest: { indexName: readName(r, 'nvDigest.indexName'), nvDigest: r.tpm2b('nvDigest.nvDigest', MAX.DIGEST) } };
    default:
      return r.fail(`unknown attestation type 0x${type.toString(16)}`, 4);
  }
}

/** Parses a TPMS_ATTEST; every byte must be consumed. */
export function parseAttest(bytes: Uint8Array): Attest {
  const r = new Reader(bytes, 'TPMS_ATTEST');
  const magic = r.u32('magic');
  const type = r.u16('type');
  const qualifiedSigner = readName(r, 'qualifiedSigner');
  const extraData = r.tpm2b('extraData', MAX.DATA);
  const clockInfo = readClockInfo(r);
  const firmwareVersion = r.u64('firmwareVersion');
  const attested = readAttested(r, type);
  r.end();
  return { magic, type, typeName: ATTEST_TYPE_NAMES[type] ?? 'unknown', qualifiedSigner, extraData, clockInfo, firmwareVersion, attested, raw: bytes };
}

/** Firmware version as the TPM vendor's two 32-bit halves, e.g. `20191023.163636`. */
export function formatFirmwareVersion(v: bigint): string {
  return `${(v >> 32n).toString(16)}.${(v & 0xffffffffn).toString(16).padStart(8, '0')}`;
}
