/**
 * Strict JSON for AIBOM documents and statements: RFC 8259 grammar, bounded nesting, no duplicate object keys (two
 * parsers must never see two different documents), then field accessors that fail with a field path.
 * RFC 8259 https://www.rfc-editor.org/rfc/rfc8259 ; duplicate keys: RFC 8259 §4 ("names SHOULD be unique").
 */
import { MalformedInputError } from '../errors.js';
import { toBase64, tryFromBase64, tryUtf8Decode } from '../util/bytes.js';

/** Deepest nesting accepted in any AIBOM JSON text. */
export const MAX_JSON_DEPTH = 32;
/** Largest JSON/CBOR document accepted (bytes): evidence plus logs, never weights. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

const WS_RUN = /[ \t\n\r]*/y;
/** Characters a JSON string holds as they are: anything but a quote, a backslash or a control character. */
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LIT = /true|false|null/y;

/** A decimal literal's value as `<sign><digits>e<exp>` with no leading or trailing zero digits ("0" for zero). */
function decimalKey(t: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m) return undefined;
  let d = (m[2]! + (m[3] ?? '')).replace(/^0+/, '');
  let e = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  let z = d.length;
  while (z > 0 && d.charCodeAt(z - 1) === 0x30) z--;
  e += d.length - z;
  d = d.slice(0, z);
  return d === '' ? '0' : `${m[1]}${d}e${e}`;
}

/**
 * Numbers must mean exactly the double they parse to, so two texts that differ below its precision cannot both pass
 * as "the same" value: a literal is the shortest round-trip form of its double (what JSON.stringify and Python
 * write), or an integer the double holds exactly. Anything else (1.00000000000000001, 9007199254740993, 1e400) fails.
 */
function checkPrecision(lit: string, fail: (msg: string) => never): void {
  const n = Number(lit);
  if (!Number.isFinite(n)) fail(`number ${lit.slice(0, 30)} is out of range`);
  if (decimalKey(lit) === decimalKey(String(n))) return;
  if (/^-?\d+$/.test(lit) && BigInt(lit) === BigInt(n)) return;
  fail(`number ${lit.slice(0, 30)} is not exactly the double it parses to`);
}

/** Validates JSON grammar, depth and key uniqueness; throws MalformedInputError at the offending offset. */
export function checkJson(text: string, what: string, maxDepth = MAX_JSON_DEPTH): void {
  let i = 0;
  const fail = (msg: string): never => {
    throw new MalformedInputError(`${what}: ${msg}`, { offset: i });
  };
  const ws = (): void => {
    WS_RUN.lastIndex = i;
    WS_RUN.test(text);
    i = WS_RUN.lastIndex;
  };
  // A string from its opening quote; returns its value for a key (object keys must be compared), else undefined.
  const string = (key: boolean): string | undefined => {
    const start = i++;
    let escaped = false;
    for (;;) {
      // Runs of plain characters are skipped in one native regex step.
      PLAIN_RUN.lastIndex = i;
      PLAIN_RUN.test(text);
      i = PLAIN_RUN.lastIndex;
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      // c is a backslash: one escape sequence.
      escaped = true;
      const e = text[i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape');
        i += 6;
        continue;
      }
      if (e === undefined || !'"\\/bfnrt'.includes(e)) fail('bad escape');
      i += 2;
    }
    i++;
    if (!key) return undefined;
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  const value = (depth: number): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
      i++;
      ws();
      const close = c === '{' ? '}' : ']';
      const keys = c === '{' ? new Set<string>() : undefined;
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (keys) {
          ws();
          if (text[i] !== '"') fail('expected a key');
          const k = string(true)!;
          if (keys.has(k)) fail(`duplicate key ${JSON.stringify(k).slice(0, 60)}`);
          keys.add(k);
          ws();
          if (text[i++] !== ':') fail("expected ':'");
        }
        value(depth + 1);
        ws();
        const n = text[i++];
        if (n === close) return;
        if (n !== ',') fail(`expected ',' or '${close}'`);
      }
    }
    if (c === '"') return void string(false);
    for (const re of [NUM, LIT]) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (m) {
        if (re === NUM) checkPrecision(m[0], fail);
        i += m[0].length;
        return;
      }
    }
    fail('unexpected character');
  };
  value(0);
  ws();
  if (i !== text.length) fail('trailing data after the JSON value');
}

/** Strict UTF-8 + strict JSON: bytes or text in, the parsed value out. */
export function parseStrictJson(input: Uint8Array | string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let text: string | undefined;
  if (typeof input === 'string') text = input;
  else {
    if (input.length > MAX_DOCUMENT_BYTES) throw new MalformedInputError(`${what}: larger than ${MAX_DOCUMENT_BYTES} bytes`, { offset: 0 });
    text = tryUtf8Decode(input);
    if (text === undefined) throw new MalformedInputError(`${what}: not valid UTF-8`, { offset: 0 });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  checkJson(text, what, maxDepth);
  return JSON.parse(text) as unknown;
}

/** A JSON object (not an array, not null). */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Field accessors: each throws MalformedInputError naming the field path. */
export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new MalformedInputError(`expected an object`, { path });
  return v;
}
export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new MalformedInputError(`expected a string`, { path });
  return v;
}
export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new MalformedInputError(`expected an array`, { path });
  return v;
}
export function optStr(v: unknown, path: string): string | undefined {
  return v === undefined ? undefined : str(v, path);
}

/**
 * Canonical base64: the standard alphabet with padding (RFC 4648 §4), and re-encoding the bytes must give the very
 * same text (unused low bits zero). No two accepted texts decode to the same bytes, so every character is bound.
 */
export function canonicalBase64(s: string, path: string): Uint8Array {
  const b = /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 ? tryFromBase64(s) : undefined;
  if (!b) throw new MalformedInputError('not standard padded base64', { path });
  if (toBase64(b) !== s) throw new MalformedInputError('non-canonical base64 (unused bits set)', { path });
  return b;
}

/**
 * Bytes: a CBOR byte string, or canonical base64 text (JSON). With `maxBytes`, a longer value is refused from its
 * length alone, before anything is copied or decoded (canonical base64 of n bytes is 4·⌈n/3⌉ characters).
 */
export function bytesField(v: unknown, path: string, maxBytes?: number): Uint8Array {
  const tooBig = (): never => {
    throw new MalformedInputError(`larger than ${maxBytes} bytes`, { path });
  };
  if (v instanceof Uint8Array) return maxBytes !== undefined && v.length > maxBytes ? tooBig() : new Uint8Array(v);
  const s = str(v, path);
  if (maxBytes !== undefined && s.length > 4 * Math.ceil(maxBytes / 3)) tooBig();
  return canonicalBase64(s, path);
}

/** Lowercase hex only (the canonical form), optionally of a fixed byte length. */
export function lowerHex(v: unknown, path: string, bytes?: number): Uint8Array {
  const s = str(v, path);
  if (!/^(?:[0-9a-f]{2})*$/.test(s) || (bytes !== undefined && s.length !== 2 * bytes)) {
    throw new MalformedInputError(`expected ${bytes !== undefined ? `${bytes}-byte ` : ''}lowercase hex`, { path });
  }
  const out = new Uint8Array(s.length / 2);
  for (let k = 0; k < out.length; k++) out[k] = parseInt(s.slice(2 * k, 2 * k + 2), 16);
  return out;
}
