/**
 * The project's one strict JSON reader (spec/strict-encodings.md §JSON): RFC 8259 grammar in a single pass that
 * builds the value, strict UTF-8, at most one leading byte order mark, duplicate object keys refused (`__proto__`
 * included, kept as an own property), bounded nesting, no trailing data, lone-surrogate escapes refused, and numbers
 * that are not exactly the double they parse to refused. Every failure is a MalformedInputError at a byte offset.
 * RFC 8259 https://www.rfc-editor.org/rfc/rfc8259
 */
import { MalformedInputError } from '../errors.js';
import { decodeUtf8Strict } from './utf8.js';

/** Deepest nesting accepted by default. */
export const MAX_JSON_DEPTH = 32;
/** Largest JSON/CBOR document accepted by default (bytes): evidence plus logs, never weights. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
/** Hard ceiling on any caller's depth (the reader recurses once per level). */
const DEPTH_CEILING = 512;

/** A number kept as its literal (option `numbers: 'raw'`), for callers that need integers beyond 2^53. */
export class JsonNumber {
  constructor(readonly raw: string) {}
}

/** Options of readJson. */
export interface JsonReadOptions {
  /** Deepest [ / { nesting (default MAX_JSON_DEPTH). */
  maxDepth?: number;
  /** Largest input in bytes (default MAX_DOCUMENT_BYTES). */
  maxBytes?: number;
  /** Added to every error offset (the input's place in a larger file). */
  offset?: number;
  /** 'double' (default): numbers are JS numbers, exact or refused; 'raw': JsonNumber literals, unchecked. */
  numbers?: 'double' | 'raw';
  /** Refuse a leading byte order mark instead of skipping one (default: one is skipped, two are refused). */
  noBom?: boolean;
  /** Called for each object key as it is read (document order), with the key's byte offset (base offset not added) and the object's depth (root 0). */
  onKey?: (key: string, byteOffset: number, depth: number) => void;
}

/** A UTF-16 surrogate half without its partner. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ESC: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/** UTF-8 length of text[from, to) without allocating. */
function utf8Length(t: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Same double (exact value) for two decimal literals: `<sign><digits>e<exp>`, no leading/trailing zero digits. */
function decimalKey(t: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(t)!;
  let d = (m[2]! + (m[3] ?? '')).replace(/^0+/, '');
  let e = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  let z = d.length;
  while (z > 0 && d.charCodeAt(z - 1) === 0x30) z--;
  e += d.length - z;
  d = d.slice(0, z);
  return d === '' ? '0' : `${m[1]}${d}e${e}`;
}

/**
 * A literal must mean exactly its double: the shortest round-trip form (what JSON.stringify and Python write, in
 * any exponent spelling) or an integer the double holds exactly. 1.00000000000000001, 9007199254740993, 1e400 fail.
 */
function exactDouble(lit: string, n: number): boolean {
  if (!Number.isFinite(n)) return false;
  const s = String(n);
  if (s === lit || decimalKey(lit) === decimalKey(s)) return true;
  return /^-?\d+$/.test(lit) && BigInt(lit) === BigInt(n);
}

/** A backslash, a control character or a surrogate half (what ends the fast path of a string). */
const NOT_PLAIN = /[\\\x00-\x1f\ud800-\udfff]/;
function plainShort(t: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

class Reader {
  i = 0;
  private byteCursor = 0;
  private byteAt = 0;
  constructor(
    private readonly t: string,
    private readonly what: string,
    private readonly maxDepth: number,
    private readonly raw: boolean,
    private readonly base: number,
    private readonly onKey: JsonReadOptions['onKey'],
  ) {}

  fail(msg: string, at = this.i): never {
    throw new MalformedInputError(`${this.what}: ${msg}`, { offset: this.base + utf8Length(this.t, 0, Math.min(at, this.t.length)) });
  }

  /** Byte offset of a character index, advanced incrementally (onKey asks in increasing order). */
  private bytesTo(at: number): number {
    if (at < this.byteCursor) return utf8Length(this.t, 0, at);
    this.byteAt += utf8Length(this.t, this.byteCursor, at);
    this.byteCursor = at;
    return this.byteAt;
  }

  ws(): number {
    const t = this.t;
    let i = this.i;
    let c = t.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++i);
    this.i = i;
    return c;
  }

  value(depth: number): unknown {
    const c = this.ws();
    if (c === 0x22) return this.str();
    if (c === 0x7b) return this.obj(depth);
    if (c === 0x5b) return this.arr(depth);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.num();
    const t = this.t;
    const i = this.i;
    if (t.startsWith('true', i)) return (this.i += 4), true;
    if (t.startsWith('false', i)) return (this.i += 5), false;
    if (t.startsWith('null', i)) return (this.i += 4), null;
    return this.fail(i >= t.length ? 'invalid JSON: unexpected end of input' : c === 0xfeff ? 'a second byte order mark' : 'invalid JSON: unexpected character');
  }

  str(): string {
    const t = this.t;
    const start = this.i + 1;
    // Fast path: the next quote ends the string when nothing before it is an escape or a control character.
    const q = t.indexOf('"', start);
    if (q > 0 && (q - start < 16 ? plainShort(t, start, q) : !NOT_PLAIN.test(t.slice(start, q)))) {
      this.i = q + 1;
      return t.slice(start, q);
    }
    return this.strSlow(start, start);
  }

  // Validates a string with escapes to its closing quote (escape forms, surrogate pairs, control characters).
  private strSlow(start: number, from: number): string {
    const t = this.t;
    let i = from;
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (!(c >= 0x20)) this.fail(i >= t.length ? 'unterminated string' : 'control character in string', i);
      if (c >= 0xd800 && c <= 0xdfff) {
        // Unescaped surrogates (only possible in a string handed in as text) must also pair up.
        const lo = t.charCodeAt(i + 1);
        if (c > 0xdbff || !(lo >= 0xdc00 && lo <= 0xdfff)) this.fail('lone surrogate in string (no UTF-8 form)', i);
        i += 2;
        continue;
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      const e = t.charCodeAt(i + 1);
      if (e === 0x75) {
        const u = this.hex4(i + 2);
        // Surrogates must come as a high-low pair: a lone half has no UTF-8 form (RFC 8259 §8.2).
        if (u >= 0xd800 && u <= 0xdbff) {
          const lo = t.charCodeAt(i + 6) === 0x5c && t.charCodeAt(i + 7) === 0x75 ? this.hex4(i + 8) : -1;
          if (lo < 0xdc00 || lo > 0xdfff) this.fail('\\u escape is a lone surrogate', i);
          i += 12;
        } else {
          if (u >= 0xdc00 && u <= 0xdfff) this.fail('\\u escape is a lone surrogate', i);
          i += 6;
        }
      } else {
        if (ESC[e] === undefined) this.fail('bad escape', i);
        i += 2;
      }
    }
    this.i = i + 1;
    // Justified JSON.parse: the literal t[start-1 .. i] has just been checked in full by the loop above, so the
    // engine's native code only resolves its escapes (same value, no rope of pieces for multi-megabyte strings).
    return JSON.parse(t.slice(start - 1, i + 1)) as string;
  }

  private hex4(at: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.t.charCodeAt(at + k);
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) this.fail('bad \\u escape', at - 2);
      v = v * 16 + d;
    }
    return v;
  }

  num(): number | JsonNumber {
    const t = this.t;
    const s = this.i;
    let i = s;
    if (t.charCodeAt(i) === 0x2d) i++;
    const d0 = i;
    let c = t.charCodeAt(i);
    if (c === 0x30) c = t.charCodeAt(++i);
    else if (c >= 0x31 && c <= 0x39) while (c >= 0x30 && c <= 0x39) c = t.charCodeAt(++i);
    else this.fail('bad number', i);
    const intDigits = i - d0;
    let int = true;
    if (c === 0x2e) {
      int = false;
      i = this.digits(i + 1);
      c = t.charCodeAt(i);
    }
    if (c === 0x65 || c === 0x45) {
      int = false;
      c = t.charCodeAt(++i);
      if (c === 0x2b || c === 0x2d) i++;
      i = this.digits(i);
    }
    this.i = i;
    const lit = t.slice(s, i);
    if (this.raw) return new JsonNumber(lit);
    const n = +lit;
    // Integers of at most 15 digits are always exact; anything else is checked.
    if ((int && intDigits <= 15) || exactDouble(lit, n)) return n;
    return this.fail(`number ${lit.slice(0, 30)} is not exactly the double it parses to`, s);
  }

  private digits(i: number): number {
    const t = this.t;
    let c = t.charCodeAt(i);
    if (!(c >= 0x30 && c <= 0x39)) this.fail('bad number', i);
    while (c >= 0x30 && c <= 0x39) c = t.charCodeAt(++i);
    return i;
  }

  arr(depth: number): unknown[] {
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.i++;
    const a: unknown[] = [];
    if (this.ws() === 0x5d) return this.i++, a;
    for (;;) {
      a.push(this.value(depth + 1));
      const c = this.ws();
      this.i++;
      if (c === 0x5d) return a;
      if (c !== 0x2c) this.fail("expected ',' or ']'", this.i - 1);
    }
  }

  obj(depth: number): Record<string, unknown> {
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.i++;
    const o: Record<string, unknown> = {};
    let c = this.ws();
    if (c === 0x7d) return this.i++, o;
    for (;;) {
      if (c !== 0x22) this.fail('expected a key');
      const at = this.i;
      const k = this.str();
      // Duplicates are refused whatever the key, so no two readers can pick different members.
      if (Object.hasOwn(o, k)) this.fail(`duplicate key ${JSON.stringify(k).slice(0, 60)}`, at);
      if (this.onKey) this.onKey(k, this.bytesTo(at), depth);
      if (this.ws() !== 0x3a) this.fail("expected ':'");
      this.i++;
      const v = this.value(depth + 1);
      // `__proto__` becomes an own data property, never the prototype.
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      else o[k] = v;
      c = this.ws();
      this.i++;
      if (c === 0x7d) return o;
      if (c !== 0x2c) this.fail("expected ',' or '}'", this.i - 1);
      c = this.ws();
    }
  }
}

/** Reads one JSON text (bytes or a string) into its value; MalformedInputError `${what}: …` at a byte offset. */
export function readJson(input: Uint8Array | string, what: string, opts: JsonReadOptions = {}): unknown {
  const base = opts.offset ?? 0;
  const maxBytes = opts.maxBytes ?? MAX_DOCUMENT_BYTES;
  let text: string;
  if (typeof input === 'string') {
    // The bound is on the UTF-8 bytes, as for byte input: a text of maxBytes characters can be three times larger.
    if (input.length > maxBytes || (input.length * 3 > maxBytes && utf8Length(input, 0, input.length) > maxBytes)) {
      throw new MalformedInputError(`${what}: larger than ${maxBytes} bytes`, { offset: base });
    }
    // A lone surrogate (no UTF-8 form) can only stand inside a string, where the string reader refuses it.
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.length > maxBytes) throw new MalformedInputError(`${what}: larger than ${maxBytes} bytes`, { offset: base });
    text = decodeUtf8Strict(input, what, base);
  } else throw new TypeError(`${what}: input must be a Uint8Array or a string`);
  const maxDepth = Math.min(opts.maxDepth ?? MAX_JSON_DEPTH, DEPTH_CEILING);
  const r = new Reader(text, what, maxDepth, opts.numbers === 'raw', base, opts.onKey);
  // One leading byte order mark is skipped; a second one is an error (value() names it).
  if (text.charCodeAt(0) === 0xfeff) {
    if (opts.noBom) r.fail('byte order mark not allowed');
    r.i = 1;
  }
  const v = r.value(0);
  r.ws();
  if (r.i !== text.length) r.fail('trailing data after the JSON value');
  return v;
}

/** Only JSON whitespace (RFC 8259 §2) in b[from, to). */
export function isJsonWhitespace(b: Uint8Array, from = 0, to = b.length): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}
