/** Byte helpers that run in every JavaScript runtime (no Node APIs). */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

/** Parses hex (optional 0x prefix, even length); returns undefined when it is not hex. */
export function tryFromHex(s: string): Uint8Array<ArrayBuffer> | undefined {
  let h = s.trim();
  if (h.startsWith('0x') || h.startsWith('0X')) h = h.slice(2);
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return undefined;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Parses hex or throws TypeError. */
export function fromHex(s: string): Uint8Array<ArrayBuffer> {
  const b = tryFromHex(s);
  if (!b) throw new TypeError(`not a hex string: ${s.slice(0, 40)}`);
  return b;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Equality in time that depends only on the lengths, never on where the first difference is. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Plain equality for non-secret data. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const enc = new TextEncoder();
/** UTF-8 encoding of a string. */
export function utf8(s: string): Uint8Array<ArrayBuffer> {
  return enc.encode(s);
}

/** Strict UTF-8 decoding; returns undefined for invalid sequences. */
export function tryUtf8Decode(b: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_CODES = Uint8Array.from(B64, (c) => c.charCodeAt(0));
const B64_VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUES[B64_CODES[i]!] = i;

const ASCII = new TextDecoder('latin1');

/** ASCII bytes to a string (TextDecoder: linear, no argument-list limits). */
function asciiString(a: Uint8Array): string {
  return ASCII.decode(a);
}

/** Standard base64 (with padding) of bytes; table-driven, linear (atob/btoa are slow on large inputs in Node 20). */
export function toBase64(b: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(b.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out[o++] = B64_CODES[n >>> 18]!;
    out[o++] = B64_CODES[(n >>> 12) & 63]!;
    out[o++] = B64_CODES[(n >>> 6) & 63]!;
    out[o++] = B64_CODES[n & 63]!;
  }
  if (i < b.length) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8);
    out[o++] = B64_CODES[n >>> 18]!;
    out[o++] = B64_CODES[(n >>> 12) & 63]!;
    out[o++] = i + 1 < b.length ? B64_CODES[(n >>> 6) & 63]! : 61;
    out[o++] = 61;
  }
  return asciiString(out);
}

/** Unpadded base64url (RFC 4648 §5) of bytes, as JWK fields use. */
export function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Strict base64 / base64url decoding; returns undefined when the text is not base64 (padding optional, at most what the length needs). */
export function tryFromBase64(s: string): Uint8Array<ArrayBuffer> | undefined {
  const t = s.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  const pads = t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0;
  const n = t.length - pads;
  if (n % 4 === 1 || pads > (4 - (n % 4)) % 4) return undefined;
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  // 6 bits per character; a byte out whenever 8 have gathered (leftover low bits are dropped, as atob does)
  for (let i = 0; i < n; i++) {
    acc = ((acc << 6) | B64_VALUES[t.charCodeAt(i)]!) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

/** Asserts a Uint8Array argument (TypeError otherwise). */
export function assertBytes(v: unknown, name: string): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}
