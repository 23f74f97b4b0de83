/**
 * EV_NO_ACTION structures: TCG_EfiSpecIDEvent (Spec ID Event03), StartupLocality and SP800-155 Event3.
 * TCG PC Client Platform Firmware Profile r1.06 §10.4.5.1 (Spec ID), §10.4.5.3 (StartupLocality), §10.4.5.2 (SP800-155)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 */
import { Reader } from '../tpm/reader.js';
import { toHex } from '../util/bytes.js';
import { digestSize, hashName } from '../util/hash.js';
import { guidToString, text } from './decode-util.js';

export const SPEC_ID_03 = 'Spec ID Event03\0';
export const SPEC_ID_00 = 'Spec ID Event00\0';
export const STARTUP_LOCALITY = 'StartupLocality\0';
const SP800_155_EVENT = 'SP800-155 Event';

/** Most banks a SpecID event may declare (TPM_ALG ids are 16-bit; real logs carry at most 5). */
const MAX_SPECID_ALGS = 16;

/** The 16-byte signature at the start of EV_NO_ACTION data, as text, or undefined. */
export function noActionSignature(data: Uint8Array): string | undefined {
  if (data.length < 16) return undefined;
  let s = '';
  for (let i = 0; i < 16; i++) s += String.fromCharCode(data[i]!);
  return s;
}

/** A parsed Spec ID Event03. */
export interface SpecIdEvent {
  signature: string;
  platformClass: number;
  specVersion: string;
  specErrata: number;
  uintnSize: number;
  algorithms: { alg: number; name: string; digestSize: number }[];
  vendorInfo: string;
  /** Bytes the structure really occupies (its vendorInfoSize decides the end). */
  length: number;
}

/**
 * Parses TCG_EfiSpecIDEvent from `data` (which may extend past its real end: tpm2-tools locates the next
 * event by vendorInfoSize, so the caller passes the bytes left in the log). Unknown algorithm ids and
 * digest sizes that disagree with the algorithm's size are MalformedInputError.
 */
export function parseSpecId(data: Uint8Array, base: number): SpecIdEvent {
  const r = new Reader(data, 'SpecIdEvent', base);
  const signature = text(r.bytesN(16, 'signature'));
  const platformClass = r.u32le('platformClass');
  const minor = r.u8('specVersionMinor');
  const major = r.u8('specVersionMajor');
  const specErrata = r.u8('specErrata');
  const uintnSize = r.u8('uintnSize');
  const at = r.offset;
  const n = r.u32le('numberOfAlgorithms');
  // Bound the algorithm count before reading the table.
  if (n === 0) r.fail('numberOfAlgorithms is 0', at);
  if (n > MAX_SPECID_ALGS) r.fail(`numberOfAlgorithms ${n} exceeds ${MAX_SPECID_ALGS}`, at);
  r.need(n * 4, 'digestSizes');
  const algorithms: SpecIdEvent['algorithms'] = [];
  for (let i = 0; i < n; i++) {
    const aat = r.offset;
    const alg = r.u16le('algorithmId');
    const size = r.u16le('digestSize');
    // Digest sizes come from this table, but must agree with the algorithm when aicert knows it.
    const known = digestSize(alg);
    if (known === undefined) r.fail(`unknown hash algorithm 0x${alg.toString(16).padStart(4, '0')}`, aat);
    if (known !== size) r.fail(`digestSize ${size} for ${hashName(alg)} (expected ${known})`, aat);
    if (algorithms.some((a) => a.alg === alg)) r.fail(`duplicate algorithm ${hashName(alg)}`, aat);
    algorithms.push({ alg, name: hashName(alg), digestSize: size });
  }
  const vendorInfoSize = r.u8('vendorInfoSize');
  const vendorInfo = toHex(r.bytesN(vendorInfoSize, 'vendorInfo'));
  return {
    signature,
    platformClass,
    specVersion: `${major}.${minor}`,
    specErrata,
    uintnSize,
    algorithms,
    vendorInfo,
    length: r.offset,
  };
}

/** Decodes a StartupLocality event (signature + one locality byte); throws when the size is not 17. */
export function parseStartupLocality(data: Uint8Array, base: number): number {
  const r = new Reader(data, 'StartupLocality', base);
  r.skip(16, 'signature');
  const loc = r.u8('locality');
  r.end();
  return loc;
}

/** Decodes TCG_Sp800_155_PlatformId_Event2/3 (Event3 adds the RIM and platform-certificate locators). */
function parseSp800155(data: Uint8Array, base: number): Record<string, unknown> {
  const r = new Reader(data, 'SP800-155', base);
  const signature = text(r.bytesN(16, 'signature'));
  const str = (f: string) => text(r.bytesN(r.u8(`${f}Size`), f));
  const out: Record<string, unknown> = {
    signature,
    vendorId: r.u32le('vendorId'),
    referenceManifestGuid: guidToString(r.bytesN(16, 'referenceManifestGuid')),
    platformManufacturer: str('platformManufacturerStr'),
    platformModel: str('platformModel'),
    platformVersion: str('platformVersion'),
    firmwareManufacturer: str('firmwareManufacturerStr'),
    firmwareManufacturerId: r.u32le('firmwareManufacturerId'),
    firmwareVersion: str('firmwareVersion'),
  };
  if (signature.endsWith('3')) {
    // Event3 locators: type u32, size u32, bytes.
    for (const f of ['rimLocator', 'platformCertLocator']) {
      const type = r.u32le(`${f}Type`);
      const loc = r.bytesN(r.u32le(`${f}Size`), f);
      out[f] = { type, data: toHex(loc) };
    }
  }
  r.end();
  return out;
}

/** Decodes EV_NO_ACTION data by its signature; unknown signatures are reported with their raw bytes. */
export function decodeNoAction(data: Uint8Array, base: number): Record<string, unknown> {
  const sig = noActionSignature(data);
  if (sig === SPEC_ID_03) return { kind: 'SpecID', ...parseSpecId(data, base) };
  if (sig === SPEC_ID_00) return { kind: 'SpecID00', signature: text(data.subarray(0, 16)) };
  if (sig === STARTUP_LOCALITY) return { kind: 'StartupLocality', locality: parseStartupLocality(data, base) };
  if (sig?.startsWith(SP800_155_EVENT)) return { kind: 'SP800-155', ...parseSp800155(data, base) };
  if (sig?.startsWith('NvIndexInstance') || sig?.startsWith('NvIndexDynamic')) return { kind: text(data.subarray(0, 16)) };
  return { kind: 'unknown', signature: sig === undefined ? undefined : text(data.subarray(0, 16)) };
}
