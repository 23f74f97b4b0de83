/**
 * The project's CBOR writer (spec/strict-encodings.md §CBOR writer): the JSON data model plus Uint8Array byte
 * strings, written so that src/util/cbor.ts reads it back unchanged: shortest heads, definite lengths, integers
 * within ±(2^53-1) as major types 0/1, every other number as a finite float64, map entries in insertion order, text
 * keys only. Anything outside that model (undefined, NaN, bigint, lone surrogates, class instances) is a TypeError.
 * RFC 8949 https://www.rfc-editor.org/rfc/rfc8949
 */
import { LONE_SURROGATE } from './json.js';

const enc = new TextEncoder();

class Writer {
  buf = new Uint8Array(1024);
  n = 0;

  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  // Head: major type and argument in the shortest form (RFC 8949 §4.2.1).
  head(major: number, v: number): void {
    this.room(9);
    const m = major << 5;
    const b = this.buf;
    if (v < 24) b[this.n++] = m | v;
    else if (v < 0x100) {
      b[this.n++] = m | 24;
      b[this.n++] = v;
    } else if (v < 0x10000) {
      b[this.n++] = m | 25;
      b[this.n++] = v >>> 8;
      b[this.n++] = v & 0xff;
    } else if (v < 0x100000000) {
      b[this.n++] = m | 26;
      new DataView(b.buffer, this.n, 4).setUint32(0, v);
      this.n += 4;
    } else {
      b[this.n++] = m | 27;
      const dv = new DataView(b.buffer, this.n, 8);
      dv.setUint32(0, Math.floor(v / 0x100000000));
      dv.setUint32(4, v >>> 0);
      this.n += 8;
    }
  }

  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
  }

  text(s: string, path: string): void {
    if (LONE_SURROGATE.test(s)) throw new TypeError(`CBOR writer: ${path}: string with a lone surrogate`);
    const b = enc.encode(s);
    this.head(3, b.length);
    this.raw(b);
  }

  number(v: number, path: string): void {
    if (!Number.isFinite(v)) throw new TypeError(`CBOR writer: ${path}: ${v} has no place in the data model`);
    if (Number.isSafeInteger(v)) return v >= 0 ? this.head(0, v) : this.head(1, -1 - v);
    this.room(9);
    this.buf[this.n++] = 0xfb;
    new DataView(this.buf.buffer, this.n, 8).setFloat64(0, v);
    this.n += 8;
  }

  value(v: unknown, path: string, depth: number): void {
    if (depth > 512) throw new TypeError(`CBOR writer: ${path}: nested too deeply`);
    if (v === null) return this.raw(NULL);
    if (v === false || v === true) return this.raw(v ? TRUE : FALSE);
    if (typeof v === 'number') return this.number(v, path);
    if (typeof v === 'string') return this.text(v, path);
    if (v instanceof Uint8Array) {
      this.head(2, v.length);
      return this.raw(v);
    }
    if (Array.isArray(v)) {
      this.head(4, v.length);
      for (let k = 0; k < v.length; k++) this.value(v[k], `${path}[${k}]`, depth + 1);
      return;
    }
    if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      // Members whose value is undefined are left out, as JSON.stringify does.
      const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
      this.head(5, keys.length);
      for (const k of keys) {
        this.text(k, path);
        this.value((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
      }
      return;
    }
    throw new TypeError(`CBOR writer: ${path}: ${typeof v} has no place in the data model`);
  }
}
const NULL = Uint8Array.of(0xf6);
const TRUE = Uint8Array.of(0xf5);
const FALSE = Uint8Array.of(0xf4);

/** Encodes a value of the JSON data model plus Uint8Array byte strings. */
export function writeCbor(v: unknown): Uint8Array {
  const w = new Writer();
  w.value(v, '$', 0);
  return w.buf.slice(0, w.n);
}
