/**
 * Builds small, well-formed PE/COFF images (PE32 or PE32+) for tests, laid out the way linkers and objcopy do:
 * headers padded to FileAlignment, section raw data aligned, optional trailing data and WIN_CERTIFICATE table.
 * Expected hashes of these images come from pesign and node:crypto, never from the code under test.
 */

export interface BuildSection {
  name: string;
  data: Uint8Array;
  /** Defaults to data.length. */
  virtualSize?: number;
}

export interface BuildOptions {
  pe32plus?: boolean;
  sections: BuildSection[];
  /** NumberOfRvaAndSizes (default 16). */
  dirs?: number;
  /** Bytes after the last section (before any certificate table). */
  trailing?: Uint8Array;
  /** bCertificate of one WIN_CERTIFICATE appended at the end (8-byte aligned) and named by the directory entry. */
  certificate?: Uint8Array;
  timeDateStamp?: number;
}

const FILE_ALIGN = 0x200;
const SECT_ALIGN = 0x1000;
const up = (n: number, a: number) => Math.ceil(n / a) * a;

/** Offsets of the fields tests poke at. */
export interface BuiltPe {
  bytes: Uint8Array;
  peOffset: number;
  optOffset: number;
  sectionTable: number;
  sizeOfHeaders: number;
  rawOffsets: number[];
}

/** Assembles a PE image from sections. */
export function buildPe(o: BuildOptions): BuiltPe {
  const plus = o.pe32plus ?? true;
  const dirs = o.dirs ?? 16;
  const dirStart = plus ? 112 : 96;
  const optSize = dirStart + 8 * dirs;
  const peOffset = 0x40;
  const optOffset = peOffset + 24;
  const sectionTable = optOffset + optSize;
  const sizeOfHeaders = up(sectionTable + 40 * o.sections.length, FILE_ALIGN);
  const rawOffsets: number[] = [];
  let at = sizeOfHeaders;
  for (const s of o.sections) {
    rawOffsets.push(at);
    at += up(s.data.length, FILE_ALIGN);
  }
  const trailing = o.trailing ?? new Uint8Array(0);
  const afterSections = at + trailing.length;
  const certOffset = up(afterSections, 8);
  const certLen = o.certificate ? up(8 + o.certificate.length, 8) : 0;
  const total = o.certificate ? certOffset + certLen : afterSections;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  // DOS header and PE signature
  b.set([0x4d, 0x5a]);
  dv.setUint32(0x3c, peOffset, true);
  b.set([0x50, 0x45, 0, 0], peOffset);
  // COFF header
  dv.setUint16(peOffset + 4, plus ? 0x8664 : 0x14c, true);
  dv.setUint16(peOffset + 6, o.sections.length, true);
  dv.setUint32(peOffset + 8, o.timeDateStamp ?? 1700000000, true);
  dv.setUint16(peOffset + 20, optSize, true);
  dv.setUint16(peOffset + 22, plus ? 0x0022 : 0x0102, true);
  // Optional header (fields at the same offsets in PE32 and PE32+ up to CheckSum)
  dv.setUint16(optOffset, plus ? 0x20b : 0x10b, true);
  dv.setUint32(optOffset + 32, SECT_ALIGN, true);
  dv.setUint32(optOffset + 36, FILE_ALIGN, true);
  let va = SECT_ALIGN;
  const vas = o.sections.map((s) => {
    const v = va;
    va += up(Math.max(s.virtualSize ?? s.data.length, 1), SECT_ALIGN);
    return v;
  });
  dv.setUint32(optOffset + 56, va, true); // SizeOfImage
  dv.setUint32(optOffset + 60, sizeOfHeaders, true);
  dv.setUint16(optOffset + 68, 10, true); // EFI application
  dv.setUint32(optOffset + dirStart - 4, dirs, true);
  if (o.certificate && dirs > 4) {
    dv.setUint32(optOffset + dirStart + 32, certOffset, true);
    dv.setUint32(optOffset + dirStart + 36, certLen, true);
  }
  // Section table and raw data
  o.sections.forEach((s, i) => {
    const t = sectionTable + 40 * i;
    b.set(new TextEncoder().encode(s.name).subarray(0, 8), t);
    dv.setUint32(t + 8, s.virtualSize ?? s.data.length, true);
    dv.setUint32(t + 12, vas[i]!, true);
    dv.setUint32(t + 16, up(s.data.length, FILE_ALIGN), true);
    dv.setUint32(t + 20, rawOffsets[i]!, true);
    dv.setUint32(t + 36, 0x40000040, true);
    b.set(s.data, rawOffsets[i]!);
  });
  b.set(trailing, at);
  if (o.certificate) {
    dv.setUint32(certOffset, certLen, true);
    dv.setUint16(certOffset + 4, 0x0200, true);
    dv.setUint16(certOffset + 6, 0x0002, true);
    b.set(o.certificate, certOffset + 8);
  }
  return { bytes: b, peOffset, optOffset, sectionTable, sizeOfHeaders, rawOffsets };
}

/** Deterministic filler bytes. */
export function filler(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
