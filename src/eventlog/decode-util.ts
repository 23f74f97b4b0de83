/** Small helpers shared by the event-data decoders: GUIDs, UTF-16LE and printable strings, 64-bit hex. */
import { toHex } from '../util/bytes.js';
import type { Reader } from '../tpm/reader.js';

/** EFI_GUID (UEFI 2.10 Appendix A: first three fields little-endian) as canonical lowercase text. */
export function guidToString(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError('GUID must be 16 bytes');
  const h = (i: number, n: number, le: boolean) => {
    const part = b.subarray(i, i + n);
    return toHex(le ? Uint8Array.from(part).reverse() : part);
  };
  return `${h(0, 4, true)}-${h(4, 2, true)}-${h(6, 2, true)}-${h(8, 2, false)}-${h(10, 6, false)}`;
}

/** Reads a 16-byte EFI_GUID. */
export function readGuid(r: Reader, field: string): string {
  return guidToString(r.bytesN(16, field));
}

/** Reads a little-endian u64 as `0x…` hex text (addresses and LBAs may exceed 2^53). */
export function u64Hex(r: Reader, field: string): string {
  return '0x' + r.u64le(field).toString(16);
}

/** Reads a little-endian u64 that must fit a safe integer (a length or count). */
export function u64Safe(r: Reader, field: string): number {
  const at = r.offset;
  const v = r.u64le(field);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) r.fail(`${field}: ${v} is too large`, at);
  return Number(v);
}

/** Decodes UTF-16LE; stops at the first NUL when `nulTerminated`. A trailing odd byte must be NUL (systemd-boot writes one). */
export function utf16le(b: Uint8Array, nulTerminated = true): string {
  if (b.length % 2 !== 0 && b[b.length - 1] !== 0) throw new RangeError('UTF-16 data has an odd length');
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const c = b[i]! | (b[i + 1]! << 8);
    if (c === 0 && nulTerminated) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** True when the bytes look like UTF-16LE text (printable Latin-1 characters, optional trailing NULs / odd NUL byte). */
export function looksUtf16(b: Uint8Array, allowEmpty = false): boolean {
  if (b.length < 2) return false;
  let n = b.length;
  if (n % 2 !== 0) {
    if (b[n - 1] !== 0) return false;
    n--;
  }
  while (n >= 2 && b[n - 1] === 0 && b[n - 2] === 0) n -= 2;
  if (n === 0) return allowEmpty;
  for (let i = 0; i < n; i += 2) {
    const c = b[i]! | (b[i + 1]! << 8);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    // Firmware and boot-loader strings are Latin-1 in UTF-16; anything else is more likely binary (a GUID, a hash).
    if (c > 0xff) return false;
  }
  return true;
}

/** True when the bytes are printable ASCII / UTF-8 text (trailing NULs allowed). */
export function looksText(b: Uint8Array): boolean {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

/** Bytes as text (UTF-8, invalid sequences replaced), trailing NULs dropped. */
export function text(b: Uint8Array): string {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return new TextDecoder('utf-8').decode(b.subarray(0, n));
}
