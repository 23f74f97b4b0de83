/**
 * The project's one strict CBOR reader (spec/strict-encodings.md §CBOR): the JSON data model plus byte strings.
 * Definite lengths only, each bounded by the bytes left; integers within ±(2^53-1); floats only as finite 64-bit
 * (no half or single precision, no NaN, no infinities); false, true and null as the only simple values; no tags
 * except one leading self-describe tag 55799 when allowed; map keys are text (or integers where the format uses
 * them), and two keys naming the same member are refused; nesting capped; no trailing data. Every failure is a
 * MalformedInputError at the byte offset of the offending item. RFC 8949 https://www.rfc-editor.org/rfc/rfc8949
 */
import { MalformedInputError } from '../errors.js';
import { MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH } from './json.js';
import { tryUtf8Slice } from './utf8.js';

/** Options of readCbor / readCborItem. */
export interface CborReadOptions {
  /** Deepest array/map nesting (default MAX_JSON_DEPTH). */
  maxDepth?: number;
  /** Largest input in bytes (default MAX_DOCUMENT_BYTES). */
  maxBytes?: number;
  /** Accept integer map keys (CEL-CBOR), read as the member named by their decimal form; text keys then must not look like one. */
  intKeys?: boolean;
  /** Accept one self-describe tag 55799 (RFC 8949 §3.4.6) in front of the top-level item. */
  selfDescribe?: boolean;
  /** Added to every error offset (the input's place in a larger file). */
  offset?: number;
}

/** An integer text key, as integer keys are named (refused beside integer keys: it would read as one). */
const INT_NAME = /^(?:0|-?[1-9][0-9]*)$/;

class Reader {
  i: number;
  constructor(
    private readonly b: Uint8Array,
    start: number,
    private readonly what: string,
    private readonly maxDepth: number,
    private readonly intKeys: boolean,
    private readonly base: number,
  ) {
    this.i = start;
  }

  fail(msg: string, at = this.i): never {
    throw new MalformedInputError(`${this.what}: ${msg}`, { offset: this.base + at });
  }

  /** The argument of a head whose initial byte is at `at` (already consumed); lengths and integers stay ≤ 2^53-1. */
  arg(ai: number, at: number): number {
    if (ai < 24) return ai;
    const b = this.b;
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
    if (n === 0) this.fail(ai === 31 ? 'indefinite length' : `reserved additional information ${ai}`, at);
    if (this.i + n > b.length) this.fail('truncated head', at);
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + b[this.i + k]!;
    if (n === 8 && (b[this.i]! !== 0 || b[this.i + 1]! > 0x1f || v > Number.MAX_SAFE_INTEGER)) this.fail('integer or length beyond 2^53-1', at);
    this.i += n;
    return v;
  }

  value(depth: number): unknown {
    const at = this.i;
    const ib = this.b[this.i++];
    if (ib === undefined) return this.fail('truncated: item missing', at);
    const major = ib >> 5;
    const ai = ib & 31;
    if (major === 7) return this.simple(ai, at);
    if (major === 6) return this.fail('tags are not allowed', at);
    const v = this.arg(ai, at);
    switch (major) {
      case 0:
        return v;
      case 1:
        if (v === Number.MAX_SAFE_INTEGER) this.fail('integer beyond -(2^53-1)', at);
        return -1 - v;
      case 2:
        return this.bytes(v, at);
      case 3:
        return this.text(v, at);
      case 4:
        return this.array(v, at, depth);
      default:
        return this.map(v, at, depth);
    }
  }

  // Major type 7: false, true, null and finite float64 only.
  private simple(ai: number, at: number): unknown {
    if (ai === 20) return false;
    if (ai === 21) return true;
    if (ai === 22) return null;
    if (ai === 25 || ai === 26) this.fail(`${ai === 25 ? 'half' : 'single'}-precision float (only 64-bit floats are allowed)`, at);
    if (ai !== 27) this.fail(ai === 23 ? 'undefined is not allowed' : ai === 31 ? 'break outside an indefinite-length item' : `simple value ${ai} is not allowed`, at);
    const b = this.b;
    if (this.i + 8 > b.length) this.fail('truncated float', at);
    const f = new DataView(b.buffer, b.byteOffset + this.i, 8).getFloat64(0);
    if (!Number.isFinite(f)) this.fail(Number.isNaN(f) ? 'NaN is not allowed' : 'infinity is not allowed', at);
    this.i += 8;
    return f;
  }

  private bytes(n: number, at: number): Uint8Array {
    if (n > this.b.length - this.i) this.fail('byte string longer than the remaining input', at);
    const out = this.b.slice(this.i, this.i + n);
    this.i += n;
    return out;
  }

  text(n: number, at: number): string {
    if (n > this.b.length - this.i) this.fail('text string longer than the remaining input', at);
    const s = tryUtf8Slice(this.b, this.i, this.i + n);
    if (s === undefined) this.fail('text string is not valid UTF-8', at);
    this.i += n;
    return s;
  }

  private array(n: number, at: number, depth: number): unknown[] {
    // Each item takes at least one byte: a count beyond the bytes left is refused before any allocation.
    if (n > this.b.length - this.i) this.fail('more array items than bytes left', at);
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`, at);
    const a = new Array<unknown>(n);
    for (let k = 0; k < n; k++) a[k] = this.value(depth + 1);
    return a;
  }

  private map(n: number, at: number, depth: number): Record<string, unknown> {
    if (2 * n > this.b.length - this.i) this.fail('more map entries than bytes left', at);
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`, at);
    const o: Record<string, unknown> = {};
    for (let k = 0; k < n; k++) {
      const kat = this.i;
      const name = this.key(kat);
      // Two keys naming one member (equal text, or integer 1 beside text "1") are refused.
      if (Object.hasOwn(o, name)) this.fail(`duplicate map key ${JSON.stringify(name).slice(0, 60)}`, kat);
      const v = this.value(depth + 1);
      if (name === '__proto__') Object.defineProperty(o, name, { value: v, writable: true, enumerable: true, configurable: true });
      else o[name] = v;
    }
    return o;
  }

  // A map key: a text string, or an integer where the format uses integer keys.
  private key(at: number): string {
    const ib = this.b[this.i++];
    if (ib === undefined) return this.fail('truncated: map key missing', at);
    const major = ib >> 5;
    if (major === 3) {
      const s = this.text(this.arg(ib & 31, at), at);
      if (this.intKeys && INT_NAME.test(s)) this.fail(`text key ${JSON.stringify(s)} reads as an integer key`, at);
      return s;
    }
    if (this.intKeys && (major === 0 || major === 1)) {
      const v = this.arg(ib & 31, at);
      if (major === 1 && v === Number.MAX_SAFE_INTEGER) this.fail('integer beyond -(2^53-1)', at);
      return String(major === 0 ? v : -1 - v);
    }
    return this.fail(this.intKeys ? 'map key is not a text string or an integer' : 'map key is not a text string', at);
  }
}

/** True when b starts with the self-describe tag 55799 (d9 d9 f7). */
export function hasSelfDescribeTag(b: Uint8Array, at = 0): boolean {
  return b[at] === 0xd9 && b[at + 1] === 0xd9 && b[at + 2] === 0xf7;
}

/** Reads one item at `start` (sequences, RFC 8742): its value and the offset just past it. */
export function readCborItem(b: Uint8Array, start: number, what: string, opts: CborReadOptions = {}): { value: unknown; end: number } {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what}: input must be a Uint8Array`);
  const base = opts.offset ?? 0;
  const maxBytes = opts.maxBytes ?? MAX_DOCUMENT_BYTES;
  if (b.length > maxBytes) throw new MalformedInputError(`${what}: larger than ${maxBytes} bytes`, { offset: base });
  const r = new Reader(b, start, what, Math.min(opts.maxDepth ?? MAX_JSON_DEPTH, 512), opts.intKeys === true, base);
  if (opts.selfDescribe && hasSelfDescribeTag(b, start)) r.i += 3;
  return { value: r.value(0), end: r.i };
}

/** Reads exactly one CBOR item filling the input (trailing bytes refused). */
export function readCbor(b: Uint8Array, what: string, opts: CborReadOptions = {}): unknown {
  const { value, end } = readCborItem(b, 0, what, opts);
  if (end !== b.length) throw new MalformedInputError(`${what}: trailing data after the CBOR item`, { offset: (opts.offset ?? 0) + end });
  return value;
}
