/**
 * EV_NO_ACTION structures: TCG_EfiSpecIDEvent (Spec ID Event03), StartupLocality and SP800-155 Event/Event2/Event3.
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

/** Most zero bytes accepted after an SP800-155 structure: the 8-byte alignment of the firmware's GUIDed HOB. */
const SP800_155_MAX_PAD = 7;

/** Reads a u8-size-prefixed string; the size counts a NUL terminator when the firmware writes one (Google's does). */
function sizedString(r: Reader, f: string): string {
  return text(r.bytesN(r.u8(`${f}Size`), f));
}

/** Event3 locators: type u32 (0 raw, 1 URI, 2 device path, 3 UEFI variable), size u32, bytes. */
function locator(r: Reader, f: string): { type: number; typeName: string; data: string; text?: string } {
  const type = r.u32le(`${f}Type`);
  const loc = r.bytesN(r.u32le(`${f}Size`), f);
  const typeName = ['raw', 'uri', 'devicePath', 'variable'][type] ?? `unknown(${type})`;
  // A URI is shown as text; a variable locator as its GUID and UCS-2 name.
  const shown = type === 1 ? text(loc) : type === 3 && loc.length >= 18 ? `${guidToString(loc.subarray(0, 16))}-${ucs2(loc.subarray(16))}` : undefined;
  return { type, typeName, data: toHex(loc), ...(shown !== undefined ? { text: shown } : {}) };
}

function ucs2(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const c = b[i]! | (b[i + 1]! << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Decodes TCG_Sp800_155_PlatformId_Event (vendor id and manifest GUID), Event2 (adds platform and firmware
 * strings) and Event3 (adds the RIM and platform-certificate locators). Google's firmware logs the event from a
 * GUIDed HOB whose data size is rounded up to 8 bytes: up to 7 zero bytes after the structure are padding
 * (reported as `padding`); anything else after it is malformed. spec/eventlog.md §SP800-155.
 */
function parseSp800155(data: Uint8Array, base: number): Record<string, unknown> {
  const r = new Reader(data, 'SP800-155', base);
  const signature = text(r.bytesN(16, 'signature'));
  const out: Record<string, unknown> = { signature, vendorId: r.u32le('vendorId'), referenceManifestGuid: guidToString(r.bytesN(16, 'referenceManifestGuid')) };
  const version = signature === 'SP800-155 Event3' ? 3 : signature === 'SP800-155 Event2' ? 2 : signature === 'SP800-155 Event' ? 1 : r.fail(`unknown SP800-155 signature "${signature.slice(0, 16)}"`, 0);
  if (version >= 2) {
    out.platformManufacturer = sizedString(r, 'platformManufacturerStr');
    out.platformModel = sizedString(r, 'platformModel');
    out.platformVersion = sizedString(r, 'platformVersion');
    out.firmwareManufacturer = sizedString(r, 'firmwareManufacturerStr');
    out.firmwareManufacturerId = r.u32le('firmwareManufacturerId');
    out.firmwareVersion = sizedString(r, 'firmwareVersion');
  }
  if (version === 3) {
    out.rimLocator = locator(r, 'rimLocator');
    out.platformCertLocator = locator(r, 'platformCertLocator');
  }
  // HOB alignment padding: zeros only, fewer than 8.
  const padAt = r.offset;
  const pad = r.bytesN(r.remaining, 'padding');
  const nz = pad.findIndex((b) => b !== 0);
  if (nz >= 0) r.fail('non-zero bytes after the SP800-155 structure', padAt + nz);
  if (pad.length > SP800_155_MAX_PAD) r.fail(`${pad.length} bytes after the SP800-155 structure (at most ${SP800_155_MAX_PAD} zero bytes of alignment)`, padAt);
  if (pad.length) out.padding = pad.length;
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
