/**
 * Event-data decoders for TCG PC Client event types. A decoder failure never rejects the log: the event keeps
 * its raw bytes and `decoded` carries `{ error }`. Unknown types are not decoded.
 * TCG PC Client Platform Firmware Profile r1.06 §10.4.1 (event types and their data)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 */
import { MalformedInputError } from '../errors.js';
import { Reader } from '../tpm/reader.js';
import { guidToString, looksText, looksUtf16, text, utf16le } from './decode-util.js';
import { decodeFirmwareBlob, decodeGpt, decodeHandoffTables, decodeImageLoad, decodeVariable } from './decode-efi.js';
import { TCG_EV } from './names.js';
import { decodeNoAction } from './tcg-specid.js';

/** Decoded form of a string-carrying event. */
export interface DecodedString {
  string: string;
  encoding: 'ascii' | 'utf-16le';
}

/** Text in ASCII/UTF-8 or UTF-16LE (systemd-boot measures UTF-16LE), whichever the bytes look like. */
function decodeString(data: Uint8Array): DecodedString {
  if (!looksText(data) && looksUtf16(data)) return { string: utf16le(data), encoding: 'utf-16le' };
  if (looksText(data)) return { string: text(data), encoding: 'ascii' };
  throw new MalformedInputError('not a printable string');
}

/** EV_SEPARATOR: a u32 value; 0x00000001 (and, as some firmware writes, 0xFFFFFFFF) signal an error. */
function decodeSeparator(data: Uint8Array, base: number): Record<string, unknown> {
  const r = new Reader(data, 'EV_SEPARATOR', base);
  const value = r.u32le('value');
  r.end();
  return { value: '0x' + value.toString(16).padStart(8, '0'), isError: value === 1 || value === 0xffffffff };
}

/** EV_S_CRTM_VERSION: a UTF-16LE version string, or a 16-byte GUID (GCE firmware). */
function decodeCrtmVersion(data: Uint8Array): Record<string, unknown> {
  if (looksUtf16(data, true)) return { version: utf16le(data) };
  if (data.length === 16) return { guid: guidToString(data) };
  throw new MalformedInputError('EV_S_CRTM_VERSION is neither UTF-16 nor a GUID');
}

/** EV_POST_CODE: an ASCII label ("ACPI DATA", "SMM CODE"...) or a UEFI_PLATFORM_FIRMWARE_BLOB. */
function decodePostCode(data: Uint8Array, base: number): Record<string, unknown> {
  if (looksText(data)) return { string: text(data) };
  return decodeFirmwareBlob(data, base, false);
}

/** EV_IPL: grub/shim ASCII command lines, or systemd-boot UTF-16LE strings; anything else stays raw. */
function decodeIpl(data: Uint8Array): DecodedString | undefined {
  return looksText(data) || looksUtf16(data) ? decodeString(data) : undefined;
}

/** Decodes one event's data by its (untrusted) type; returns undefined for types left raw. */
function decodeByType(type: number, data: Uint8Array, base: number): unknown {
  switch (type) {
    case TCG_EV.EV_NO_ACTION:
      return decodeNoAction(data, base);
    case TCG_EV.EV_SEPARATOR:
      return decodeSeparator(data, base);
    case TCG_EV.EV_EFI_ACTION:
    case TCG_EV.EV_ACTION:
    case TCG_EV.EV_EFI_HCRTM_EVENT:
    case TCG_EV.EV_OMIT_BOOT_DEVICE_EVENTS:
    case TCG_EV.EV_PLATFORM_CONFIG_FLAGS:
    case TCG_EV.EV_COMPACT_HASH:
      return looksText(data) || looksUtf16(data) ? decodeString(data) : undefined;
    case TCG_EV.EV_POST_CODE:
      return decodePostCode(data, base);
    case TCG_EV.EV_S_CRTM_VERSION:
      return decodeCrtmVersion(data);
    case TCG_EV.EV_IPL:
      return decodeIpl(data);
    case TCG_EV.EV_EFI_VARIABLE_DRIVER_CONFIG:
    case TCG_EV.EV_EFI_VARIABLE_BOOT:
    case TCG_EV.EV_EFI_VARIABLE_BOOT2:
    case TCG_EV.EV_EFI_VARIABLE_AUTHORITY:
      return decodeVariable(data, base);
    case TCG_EV.EV_EFI_BOOT_SERVICES_APPLICATION:
    case TCG_EV.EV_EFI_BOOT_SERVICES_DRIVER:
    case TCG_EV.EV_EFI_RUNTIME_SERVICES_DRIVER:
      return decodeImageLoad(data, base);
    case TCG_EV.EV_EFI_GPT_EVENT:
    case TCG_EV.EV_EFI_GPT_EVENT2:
      return decodeGpt(data, base);
    case TCG_EV.EV_EFI_PLATFORM_FIRMWARE_BLOB:
      return decodeFirmwareBlob(data, base, false);
    case TCG_EV.EV_EFI_PLATFORM_FIRMWARE_BLOB2:
      return decodeFirmwareBlob(data, base, true);
    case TCG_EV.EV_EFI_HANDOFF_TABLES:
      return decodeHandoffTables(data, base, false);
    case TCG_EV.EV_EFI_HANDOFF_TABLES2:
      return decodeHandoffTables(data, base, true);
    default:
      return undefined;
  }
}

/**
 * Decodes event data; never throws. On failure returns `{ error: "<message>" }` and the caller keeps the raw bytes.
 * `base` is the data's byte offset in the log, for error messages.
 */
export function decodeEventData(type: number, data: Uint8Array, base = 0): unknown {
  // Only the message of a decoder error is kept: skip V8's stack capture, which dominates a log of failing events.
  const E = Error as { stackTraceLimit?: number };
  const limit = E.stackTraceLimit;
  if (typeof limit === 'number') E.stackTraceLimit = 0;
  try {
    return decodeByType(type, data, base);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  } finally {
    if (typeof limit === 'number') E.stackTraceLimit = limit;
  }
}
