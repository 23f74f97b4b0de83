/**
 * Decoders for UEFI event data: UEFI_VARIABLE_DATA, UEFI_IMAGE_LOAD_EVENT, UEFI_GPT_DATA,
 * UEFI_PLATFORM_FIRMWARE_BLOB(2) and UEFI_HANDOFF_TABLE_POINTERS(2).
 * TCG PC Client Platform Firmware Profile r1.06 §10.2.6 (UEFI structures)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 */
import { Reader } from '../tpm/reader.js';
import { toHex } from '../util/bytes.js';
import { guidToString, readGuid, text, u64Hex, u64Safe, utf16le } from './decode-util.js';
import { decodeDevicePath } from './devicepath.js';

/** EFI_GLOBAL_VARIABLE; Boot#### and BootOrder get structured decoding under it. */
const EFI_GLOBAL_VARIABLE = '8be4df61-93ca-11d2-aa0d-00e098032b8c';

/** Decodes EFI_LOAD_OPTION (UEFI 2.10 §3.1.3): attributes, description, device path, optional data. */
function decodeLoadOption(data: Uint8Array, base: number): Record<string, unknown> {
  const r = new Reader(data, 'EFI_LOAD_OPTION', base);
  const attributes = r.u32le('attributes');
  const fplen = r.u16le('filePathListLength');
  // Description: NUL-terminated UTF-16LE.
  let desc = '';
  for (;;) {
    const c = r.u16le('description');
    if (c === 0) break;
    desc += String.fromCharCode(c);
  }
  const fpAt = r.absOffset;
  const devicePath = decodeDevicePath(r.bytesN(fplen, 'filePathList'), fpAt).text;
  const optional = r.bytesN(r.remaining, 'optionalData');
  return { attributes, description: desc, devicePath, optionalData: toHex(optional) };
}

/** UEFI_VARIABLE_DATA: VariableName GUID, name length, data length, UTF-16 name, data. */
export function decodeVariable(data: Uint8Array, base: number): Record<string, unknown> {
  const r = new Reader(data, 'UEFI_VARIABLE_DATA', base);
  const guid = readGuid(r, 'variableName');
  const nameLen = u64Safe(r, 'unicodeNameLength');
  const dataLen = u64Safe(r, 'variableDataLength');
  // Bound both lengths by the bytes left before reading them.
  r.need(nameLen * 2, 'unicodeName');
  const name = utf16le(r.bytesN(nameLen * 2, 'unicodeName'), false);
  const at = r.absOffset;
  const value = r.bytesN(dataLen, 'variableData');
  const out: Record<string, unknown> = { variableGuid: guid, name, dataLength: dataLen };
  // shim's MokList authority events carry bytes past VariableData; keep them visible instead of failing.
  if (r.remaining) out.trailing = toHex(r.bytesN(r.remaining, 'trailing'));
  if (guid === EFI_GLOBAL_VARIABLE && (name === 'SecureBoot' || name === 'SetupMode' || name === 'AuditMode' || name === 'DeployedMode')) {
    if (value.length === 1) out.enabled = value[0] === 1;
  } else if (guid === EFI_GLOBAL_VARIABLE && name === 'BootOrder' && value.length % 2 === 0) {
    const order: string[] = [];
    for (let i = 0; i < value.length; i += 2) order.push((value[i]! | (value[i + 1]! << 8)).toString(16).padStart(4, '0'));
    out.bootOrder = order;
  } else if (guid === EFI_GLOBAL_VARIABLE && /^Boot[0-9A-Fa-f]{4}$/.test(name)) {
    try {
      out.loadOption = decodeLoadOption(value, at);
    } catch (e) {
      out.loadOptionError = (e as Error).message;
    }
  }
  out.data = toHex(value);
  return out;
}

/** UEFI_IMAGE_LOAD_EVENT: location, length, link-time address and the decoded device path. */
export function decodeImageLoad(data: Uint8Array, base: number): Record<string, unknown> {
  const r = new Reader(data, 'UEFI_IMAGE_LOAD_EVENT', base);
  const imageLocationInMemory = u64Hex(r, 'imageLocationInMemory');
  const imageLengthInMemory = u64Safe(r, 'imageLengthInMemory');
  const imageLinkTimeAddress = u64Hex(r, 'imageLinkTimeAddress');
  const dpLen = u64Safe(r, 'lengthOfDevicePath');
  const at = r.absOffset;
  const dp = r.bytesN(dpLen, 'devicePath');
  const out: Record<string, unknown> = { imageLocationInMemory, imageLengthInMemory, imageLinkTimeAddress, devicePath: decodeDevicePath(dp, at).text };
  // grub/shim images often carry bytes past LengthOfDevicePath; keep them visible instead of failing.
  if (r.remaining) out.trailing = toHex(r.bytesN(r.remaining, 'trailing'));
  return out;
}

/** UEFI_GPT_DATA: the GPT header and the partition entries that were measured. */
export function decodeGpt(data: Uint8Array, base: number): Record<string, unknown> {
  const r = new Reader(data, 'UEFI_GPT_DATA', base);
  const hdr = r.sub(92, 'UEFI_PARTITION_TABLE_HEADER');
  const signature = text(hdr.bytesN(8, 'signature'));
  const revision = hdr.u32le('revision');
  const headerSize = hdr.u32le('headerSize');
  const headerCrc32 = hdr.u32le('headerCRC32');
  hdr.skip(4, 'reserved');
  const myLba = u64Hex(hdr, 'myLBA');
  const alternateLba = u64Hex(hdr, 'alternateLBA');
  const firstUsableLba = u64Hex(hdr, 'firstUsableLBA');
  const lastUsableLba = u64Hex(hdr, 'lastUsableLBA');
  const diskGuid = readGuid(hdr, 'diskGUID');
  const partitionEntryLba = u64Hex(hdr, 'partitionEntryLBA');
  const numberOfPartitionEntries = hdr.u32le('numberOfPartitionEntries');
  const at = hdr.offset;
  const entrySize = hdr.u32le('sizeOfPartitionEntry');
  if (entrySize < 128) hdr.fail(`sizeOfPartitionEntry ${entrySize} < 128`, at);
  const partitionEntryArrayCrc32 = hdr.u32le('partitionEntryArrayCRC32');
  const n = u64Safe(r, 'numberOfPartitions');
  // Bound the partition array by the bytes left before decoding it.
  r.need(n * entrySize, 'partitions');
  const partitions: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const p = r.sub(entrySize, `partition[${i}]`);
    partitions.push({
      typeGuid: readGuid(p, 'partitionTypeGUID'),
      uniqueGuid: readGuid(p, 'uniquePartitionGUID'),
      startingLba: u64Hex(p, 'startingLBA'),
      endingLba: u64Hex(p, 'endingLBA'),
      attributes: u64Hex(p, 'attributes'),
      name: utf16le(p.bytesN(72, 'partitionName')),
    });
  }
  r.end();
  return {
    header: {
      signature, revision, headerSize, headerCrc32, myLba, alternateLba, firstUsableLba, lastUsableLba,
      diskGuid, partitionEntryLba, numberOfPartitionEntries, sizeOfPartitionEntry: entrySize, partitionEntryArrayCrc32,
    },
    partitions,
  };
}

/** UEFI_PLATFORM_FIRMWARE_BLOB (base, length) or, for BLOB2, a description first. */
export function decodeFirmwareBlob(data: Uint8Array, base: number, v2: boolean): Record<string, unknown> {
  const r = new Reader(data, 'UEFI_PLATFORM_FIRMWARE_BLOB', base);
  const out: Record<string, unknown> = {};
  if (v2) out.description = text(r.bytesN(r.u8('blobDescriptionSize'), 'blobDescription'));
  out.blobBase = u64Hex(r, 'blobBase');
  out.blobLength = u64Safe(r, 'blobLength');
  r.end();
  return out;
}

/** UEFI_HANDOFF_TABLE_POINTERS (count, then GUID + pointer) or, for version 2, a description first. */
export function decodeHandoffTables(data: Uint8Array, base: number, v2: boolean): Record<string, unknown> {
  const r = new Reader(data, 'UEFI_HANDOFF_TABLE_POINTERS', base);
  const out: Record<string, unknown> = {};
  if (v2) out.description = text(r.bytesN(r.u8('tableDescriptionSize'), 'tableDescription'));
  const n = u64Safe(r, 'numberOfTables');
  r.need(n * 24, 'tableEntry');
  const tables: { vendorGuid: string; vendorTable: string }[] = [];
  for (let i = 0; i < n; i++) tables.push({ vendorGuid: readGuid(r, 'vendorGuid'), vendorTable: u64Hex(r, 'vendorTable') });
  r.end();
  out.tables = tables;
  return out;
}

export { guidToString };
