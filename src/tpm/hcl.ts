/**
 * Azure confidential VM HCL report (the IGVM attestation report the paravisor writes to vTPM NV index 0x01400001):
 * a 32-byte header, a 1184-byte hardware report area (an SEV-SNP ATTESTATION_REPORT or a TDX TDREPORT), the
 * IGVM runtime-claims header and the runtime data (a JSON whose `keys` include `HCLAkPub`). Layout and the origin
 * of each field: spec/confidential-vms.md §HCL report.
 */
import { readJson } from '../util/json.js';
import { MalformedInputError } from '../errors.js';
import { TPM_ALG } from '../util/hash.js';
import { jwkMaySign, materialFromJwk } from './jwk.js';
import type { KeyMaterial } from './keys.js';
import { Reader } from './reader.js';

/** "HCLA" read as a little-endian u32. */
export const HCL_SIGNATURE = 0x414c4348;
export const HCL_HEADER_SIZE = 32;
/** The hardware report area is sized for the SNP report; a TDREPORT (1024 bytes) is zero-padded. */
export const HCL_HW_REPORT_SIZE = 1184;
export const HCL_CLAIMS_HEADER_SIZE = 20;
export const TDREPORT_SIZE = 1024;
/** Largest HCL report accepted (the NV index is 2600 bytes today; 64 KiB leaves room). */
export const MAX_HCL_BYTES = 64 * 1024;

export type HclReportType = 'snp' | 'tdx' | 'vbs';
const REPORT_TYPES: Record<number, HclReportType> = { 1: 'vbs', 2: 'snp', 4: 'tdx' };
const HASH_TYPES: Record<number, number> = { 1: TPM_ALG.SHA256, 2: TPM_ALG.SHA384, 3: TPM_ALG.SHA512 };

export interface HclReport {
  version: number;
  /** `report_size` of the header: header through the end of the runtime data. */
  reportSize: number;
  requestType: number;
  status: number;
  reportType: HclReportType;
  /** The hardware report: 1184 bytes for SNP, the 1024-byte TDREPORT for TDX. */
  hwReport: Uint8Array;
  /** Hash the hardware report_data[0..n] is of the runtime data with (TPM_ALG id). */
  runtimeDataHashAlg: number;
  /** Exact runtime data bytes (the JSON), as hashed into the hardware report. */
  runtimeData: Uint8Array;
  /** The parsed runtime data JSON. */
  claims: Record<string, unknown>;
  /** HCLAkPub as key material, when present. */
  akPub: KeyMaterial | undefined;
  /** HCLEkPub as key material, when present. */
  ekPub: KeyMaterial | undefined;
}

/** Finds a key by `kid` in the runtime data's `keys` array (duplicates are malformed). */
function findKey(claims: Record<string, unknown>, kid: string): KeyMaterial | undefined {
  const keys = claims.keys;
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys)) throw new MalformedInputError('runtime data "keys" is not an array', { path: 'hcl.runtimeData.keys' });
  const hits = keys.map((k, i) => [k, i] as const).filter(([k]) => typeof k === 'object' && k !== null && (k as Record<string, unknown>).kid === kid);
  if (hits.length > 1) throw new MalformedInputError(`runtime data has ${hits.length} keys with kid ${kid}`, { path: 'hcl.runtimeData.keys' });
  const hit = hits[0];
  if (!hit) return undefined;
  const [k, i] = hit;
  if (kid === 'HCLAkPub' && !jwkMaySign(k as Record<string, unknown>)) {
    throw new MalformedInputError('HCLAkPub key_ops do not allow signing', { path: `hcl.runtimeData.keys[${i}].key_ops` });
  }
  return materialFromJwk(k, `hcl.runtimeData.keys[${i}]`);
}

/** Parses an HCL report. Everything after the runtime data must be zero padding. */
export function parseHclReport(bytes: Uint8Array): HclReport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('HCL report must be a Uint8Array');
  if (bytes.length > MAX_HCL_BYTES) throw new MalformedInputError(`HCL report larger than ${MAX_HCL_BYTES} bytes`, { offset: 0 });
  const r = new Reader(bytes.slice(), 'HCL report');
  // Header: signature, version, report_size, request_type, status, 3 reserved words.
  if (r.u32le('signature') !== HCL_SIGNATURE) r.fail('not an HCL report (signature is not "HCLA")', 0);
  const version = r.u32le('version');
  if (version !== 1 && version !== 2) r.fail(`unsupported HCL report version ${version}`, 4);
  const reportSize = r.u32le('report_size');
  const requestType = r.u32le('request_type');
  const status = r.u32le('status');
  r.skip(12, 'reserved');
  const hwArea = r.bytesN(HCL_HW_REPORT_SIZE, 'hw_report');
  // Runtime claims header: data_size, version, report_type, report_data_hash_type, variable_data_size.
  const claimsAt = r.offset;
  const dataSize = r.u32le('runtime_claims.data_size');
  const claimsVersion = r.u32le('runtime_claims.version');
  if (claimsVersion !== 1) r.fail(`unsupported runtime claims version ${claimsVersion}`, claimsAt + 4);
  const typeAt = r.offset;
  const reportType = REPORT_TYPES[r.u32le('runtime_claims.report_type')] ?? r.fail('unknown hardware report type', typeAt);
  const hashAt = r.offset;
  const runtimeDataHashAlg = HASH_TYPES[r.u32le('runtime_claims.report_data_hash_type')] ?? r.fail('unknown runtime data hash type', hashAt);
  const varSize = r.u32le('runtime_claims.variable_data_size');
  if (dataSize !== HCL_CLAIMS_HEADER_SIZE + varSize) r.fail(`data_size ${dataSize} is not 20 + variable_data_size ${varSize}`, claimsAt);
  if (reportSize !== HCL_HEADER_SIZE + HCL_HW_REPORT_SIZE + dataSize) r.fail(`report_size ${reportSize} does not match the runtime claims`, 8);
  const runtimeData = r.bytesN(varSize, 'runtime_data');
  // Padding: the NV index is larger than the report; only zeros may follow.
  const padAt = r.offset;
  const pad = r.bytesN(r.remaining, 'padding');
  const nz = pad.findIndex((b) => b !== 0);
  if (nz >= 0) r.fail('non-zero bytes after the runtime data', padAt + nz);
  // A TDREPORT is 1024 bytes; the rest of the area must be zero.
  let hwReport = hwArea;
  if (reportType === 'tdx') {
    const tail = hwArea.subarray(TDREPORT_SIZE).findIndex((b) => b !== 0);
    if (tail >= 0) r.fail('non-zero bytes after the TDREPORT', HCL_HEADER_SIZE + TDREPORT_SIZE + tail);
    hwReport = hwArea.slice(0, TDREPORT_SIZE);
  }
  const parsed = readJson(runtimeData, 'HCL runtime data');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedInputError('runtime data is not a JSON object', { path: 'hcl.runtimeData', offset: claimsAt + HCL_CLAIMS_HEADER_SIZE });
  }
  const claims = parsed as Record<string, unknown>;
  return {
    version,
    reportSize,
    requestType,
    status,
    reportType,
    hwReport,
    runtimeDataHashAlg,
    runtimeData,
    claims,
    akPub: findKey(claims, 'HCLAkPub'),
    ekPub: findKey(claims, 'HCLEkPub'),
  };
}
