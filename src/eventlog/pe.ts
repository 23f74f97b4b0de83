/**
 * PE/COFF image parser and Authenticode image hash, as UEFI firmware computes it for
 * EV_EFI_BOOT_SERVICES_APPLICATION events in PCR 4 (EDK2 Tcg2MeasurePeImage follows the same algorithm).
 * Every field is bounds-checked through Reader; malformed or ambiguous images are MalformedInputError.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { MalformedInputError } from '../errors.js';
import { Reader } from '../tpm/reader.js';
import { TPM_ALG } from '../util/hash.js';

/** Most sections a PE image may have (PE/COFF spec: the Windows loader limit). */
export const MAX_PE_SECTIONS = 96;
/** Largest zero fill (VirtualSize beyond SizeOfRawData) sectionData() materialises. */
export const MAX_SECTION_ZERO_FILL = 64 * 1024 * 1024;
const IMAGE_DIRECTORY_ENTRY_SECURITY = 4;

/** One entry of the section table. */
export interface PeSection {
  /** Name up to its first NUL (the 8-byte field, Latin-1). `/nnn` long names are left unresolved. */
  name: string;
  virtualSize: number;
  virtualAddress: number;
  sizeOfRawData: number;
  pointerToRawData: number;
  characteristics: number;
}

/** A parsed PE/COFF image (a view over the input bytes). */
export interface PeImage {
  bytes: Uint8Array;
  machine: number;
  timeDateStamp: number;
  /** True for PE32+ (optional header magic 0x20b). */
  pe32plus: boolean;
  sizeOfHeaders: number;
  /** File offset of the optional header's CheckSum field (excluded from the hash). */
  checksumOffset: number;
  /** File offset of the Certificate Table data-directory entry, when NumberOfRvaAndSizes > 4. */
  certDirEntryOffset: number | undefined;
  /** The attribute certificate table (file offset and size); size 0 when the image is unsigned. */
  certTable: { offset: number; size: number };
  /** Sections in section-table order. */
  sections: PeSection[];
}

// Microsoft PE/COFF specification rev 12 §2-§4 https://learn.microsoft.com/windows/win32/debug/pe-format
/** Parses and validates the headers and section table of a PE/COFF image. */
export function parsePe(bytes: Uint8Array): PeImage {
  const r = new Reader(bytes, 'PE image');
  // MS-DOS stub: 'MZ' and e_lfanew at 0x3c
  if (r.u16le('e_magic') !== 0x5a4d) r.fail('not a PE image: missing MZ signature', 0);
  r.skip(0x3c - 2, 'DOS header');
  const peOff = r.u32le('e_lfanew');
  if (peOff < 0x40 || peOff > bytes.length - 24) r.fail(`e_lfanew ${peOff} out of range`, 0x3c);
  const h = new Reader(bytes.subarray(peOff), 'PE header', peOff);
  if (h.u32le('signature') !== 0x00004550) h.fail('missing PE\\0\\0 signature', 0);
  // COFF file header
  const machine = h.u16le('Machine');
  const nSections = h.u16le('NumberOfSections');
  const timeDateStamp = h.u32le('TimeDateStamp');
  h.skip(8, 'symbol table fields');
  const optSize = h.u16le('SizeOfOptionalHeader');
  h.u16le('Characteristics');
  if (nSections > MAX_PE_SECTIONS) h.fail(`${nSections} sections (max ${MAX_PE_SECTIONS})`, 6);
  // Optional header: magic, then fields at fixed offsets that differ between PE32 and PE32+
  const optStart = peOff + 24;
  const o = h.sub(optSize, 'optional header');
  const magic = o.u16le('Magic');
  if (magic !== 0x10b && magic !== 0x20b) o.fail(`optional header magic 0x${magic.toString(16)} is neither PE32 nor PE32+`, 0);
  const pe32plus = magic === 0x20b;
  const dirStart = pe32plus ? 112 : 96;
  if (optSize < dirStart) o.fail(`SizeOfOptionalHeader ${optSize} < ${dirStart}`, 0);
  o.skip(60 - 2, 'optional header fields');
  const sizeOfHeaders = o.u32le('SizeOfHeaders');
  o.u32le('CheckSum');
  o.skip(dirStart - 4 - 68, 'optional header fields');
  const nDirs = o.u32le('NumberOfRvaAndSizes');
  if (nDirs > 16) o.fail(`NumberOfRvaAndSizes ${nDirs} > 16`, dirStart - 4);
  if (dirStart + 8 * nDirs > optSize) o.fail(`${nDirs} data directories overflow SizeOfOptionalHeader ${optSize}`, dirStart - 4);
  // Certificate Table entry: a file offset (not an RVA) and a size
  let certDirEntryOffset: number | undefined;
  let certTable = { offset: 0, size: 0 };
  if (nDirs > IMAGE_DIRECTORY_ENTRY_SECURITY) {
    o.skip(8 * IMAGE_DIRECTORY_ENTRY_SECURITY, 'data directories');
    certDirEntryOffset = optStart + o.offset;
    certTable = { offset: o.u32le('CertificateTable.VirtualAddress'), size: o.u32le('CertificateTable.Size') };
  }
  // Section table right after the optional header; it must lie inside SizeOfHeaders
  const tableOff = optStart + optSize;
  if (tableOff + 40 * nSections > sizeOfHeaders) h.fail('section table extends past SizeOfHeaders', 20);
  if (sizeOfHeaders > bytes.length) h.fail(`SizeOfHeaders ${sizeOfHeaders} exceeds the file size ${bytes.length}`, 24 + 60);
  const t = new Reader(bytes.subarray(tableOff, tableOff + 40 * nSections), 'section table', tableOff);
  const sections: PeSection[] = [];
  for (let i = 0; i < nSections; i++) {
    const nameBytes = t.bytesN(8, `section[${i}].Name`);
    const nul = nameBytes.indexOf(0);
    const name = String.fromCharCode(...nameBytes.subarray(0, nul < 0 ? 8 : nul));
    const s: PeSection = {
      name,
      virtualSize: t.u32le('VirtualSize'),
      virtualAddress: t.u32le('VirtualAddress'),
      sizeOfRawData: t.u32le('SizeOfRawData'),
      pointerToRawData: t.u32le('PointerToRawData'),
      characteristics: 0,
    };
    t.skip(12, 'relocation/line-number fields');
    s.characteristics = t.u32le('Characteristics');
    sections.push(s);
  }
  const img: PeImage = {
    bytes, machine, timeDateStamp, pe32plus, sizeOfHeaders, checksumOffset: optStart + 64,
    certDirEntryOffset, certTable, sections,
  };
  checkLayout(img);
  return img;
}

/** Section raw data must lie after the headers, inside the file, without overlaps; the cert table last. */
function checkLayout(img: PeImage): void {
  const len = img.bytes.length;
  let end = img.sizeOfHeaders;
  for (const s of hashedSections(img)) {
    const at = s.pointerToRawData;
    if (at < end) throw new MalformedInputError(`section ${JSON.stringify(s.name)} overlaps the headers or another section`, { offset: at });
    if (s.sizeOfRawData > len - at) throw new MalformedInputError(`section ${JSON.stringify(s.name)} extends past the end of the file`, { offset: at });
    end = at + s.sizeOfRawData;
  }
  const { offset, size } = img.certTable;
  if (size === 0) return;
  // Authenticode requires the certificate table at the end of the file, after all section data
  if (offset < end || offset > len || size !== len - offset) {
    throw new MalformedInputError(`certificate table (offset ${offset}, size ${size}) is not the last ${size} bytes after the sections`, {
      offset: img.certDirEntryOffset ?? 0,
    });
  }
}

/** Sections with raw data, sorted by PointerToRawData (stable), as the Authenticode hash visits them. */
export function hashedSections(img: PeImage): PeSection[] {
  return img.sections.filter((s) => s.sizeOfRawData > 0).sort((a, b) => a.pointerToRawData - b.pointerToRawData);
}

interface Hasher {
  update(b: Uint8Array): unknown;
  digest(): Uint8Array;
}
/** An incremental hasher for a TPM hash algorithm id. */
export function createHasher(alg: number): Hasher {
  switch (alg) {
    case TPM_ALG.SHA1:
      return sha1.create();
    case TPM_ALG.SHA256:
      return sha256.create();
    case TPM_ALG.SHA384:
      return sha384.create();
    case TPM_ALG.SHA512:
      return sha512.create();
    default:
      throw new TypeError(`unsupported Authenticode hash algorithm 0x${alg.toString(16)}`);
  }
}

// Windows Authenticode Portable Executable Signature Format v1.0 §"Calculating the PE Image Hash"
// https://download.microsoft.com/download/9/c/5/9c5b2167-8017-4bae-9fde-d599bac8184a/Authenticode_PE.docx
/** The Authenticode image hash of a PE file (default sha256), as firmware measures it into PCR 4. */
export function authenticodeHash(image: Uint8Array | PeImage, alg: number = TPM_ALG.SHA256): Uint8Array {
  const img = image instanceof Uint8Array ? parsePe(image) : image;
  const b = img.bytes;
  const h = createHasher(alg);
  // 1. headers, skipping CheckSum and the Certificate Table directory entry
  h.update(b.subarray(0, img.checksumOffset));
  if (img.certDirEntryOffset !== undefined) {
    h.update(b.subarray(img.checksumOffset + 4, img.certDirEntryOffset));
    h.update(b.subarray(img.certDirEntryOffset + 8, img.sizeOfHeaders));
  } else {
    h.update(b.subarray(img.checksumOffset + 4, img.sizeOfHeaders));
  }
  // 2. section raw data in file order
  let hashed = img.sizeOfHeaders;
  for (const s of hashedSections(img)) {
    h.update(b.subarray(s.pointerToRawData, s.pointerToRawData + s.sizeOfRawData));
    hashed += s.sizeOfRawData;
  }
  // 3. data after the hashed bytes, except the certificate table: FILE_SIZE - (cert size + SUM_OF_BYTES_HASHED)
  const certSize = img.certDirEntryOffset !== undefined ? img.certTable.size : 0;
  if (b.length > hashed) {
    if (b.length < hashed + certSize) {
      throw new MalformedInputError('certificate table overlaps hashed image data', { offset: img.certTable.offset });
    }
    h.update(b.subarray(hashed, b.length - certSize));
  }
  return h.digest();
}

/** First section with exactly this name (names compare on the 8-byte field, as systemd-stub does). */
export function findSection(img: PeImage, name: string): PeSection | undefined {
  return img.sections.find((s) => s.name === name);
}

/**
 * A section's content as the loader maps it: VirtualSize bytes, the raw data first and zeros after it
 * (a VirtualSize smaller than SizeOfRawData truncates the raw data).
 */
export function sectionData(img: PeImage, s: PeSection): Uint8Array {
  const raw = Math.min(s.sizeOfRawData, s.virtualSize);
  if (s.virtualSize - raw > MAX_SECTION_ZERO_FILL) {
    throw new MalformedInputError(`section ${JSON.stringify(s.name)}: VirtualSize ${s.virtualSize} is implausibly larger than its raw data`, {
      path: `section ${s.name}`,
    });
  }
  const data = img.bytes.subarray(s.pointerToRawData, s.pointerToRawData + raw);
  if (raw === s.virtualSize) return data;
  const out = new Uint8Array(s.virtualSize);
  out.set(data);
  return out;
}
