/**
 * safetensors header validation, run before a file is hashed (hub mode). The format: an 8-byte little-endian u64 N,
 * N bytes of UTF-8 JSON starting with '{', then the data buffer. Every tensor's data_offsets must lie inside the
 * buffer, and sorted by offset they must tile it exactly: no holes and no overlaps (this blocks polyglot files).
 * The header is read by the project's strict JSON reader (src/util/json.ts; spec/strict-encodings.md §JSON): duplicate
 * keys refused, numbers kept as their literals (offsets are u64), each top-level key's byte offset kept for errors.
 * Format: https://github.com/huggingface/safetensors#format
 */
import { promises as fsp } from 'node:fs';
import { MalformedInputError } from '../errors.js';
import { JsonNumber, readJson } from '../util/json.js';

/** Largest header accepted (the reference implementation's MAX_HEADER_SIZE). */
export const MAX_HEADER_SIZE = 100_000_000;
const MAX_DEPTH = 64;

/** Bits per element of every dtype safetensors defines (sub-byte types must pack to whole bytes). */
const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Offsets relative to the start of the data buffer, [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N, the JSON header length. */
  headerSize: number;
  /** 8 + N: where the data buffer starts in the file. */
  dataOffset: number;
  dataSize: number;
  /** Sorted by offset. */
  tensors: SafetensorsTensor[];
  metadata: Record<string, string> | undefined;
}

// ---- header semantics ----

/** Builds the error for a tensor entry; the byte offset of its key is computed only when an error is raised. */
type ErrAt = (message: string, path: string) => MalformedInputError;

type JVal = unknown;
type JObj = Record<string, unknown>;
const isObj = (v: unknown): v is JObj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

/** A non-negative integer JSON number as bigint, else an error at `where`. */
function uint(v: JVal | undefined, where: string, E: ErrAt): bigint {
  if (!(v instanceof JsonNumber) || !/^(0|[1-9][0-9]*)$/.test(v.raw)) throw E('expected a non-negative integer', where);
  return BigInt(v.raw);
}

/**
 * Validates the header at the start of `bytes` (at least 8 + N bytes of the file). `fileSize` is the whole file's
 * size (default: bytes.length); the data buffer is everything after the header. Pure: works on any Uint8Array.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize: number = bytes.length): SafetensorsHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (!Number.isSafeInteger(fileSize) || fileSize < bytes.length) throw new TypeError('fileSize must be an integer >= bytes.length');
  if (bytes.length < 8) throw new MalformedInputError('safetensors: file shorter than the 8-byte header length', { offset: 0, path: 'N' });
  // N: u64 LE, bounded before anything is allocated
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) throw new MalformedInputError(`safetensors: header length ${n64} exceeds ${MAX_HEADER_SIZE}`, { offset: 0, path: 'N' });
  const n = Number(n64);
  if (8 + n > fileSize) throw new MalformedInputError(`safetensors: header length ${n} runs past the end of the file (${fileSize} bytes)`, { offset: 0, path: 'N' });
  if (8 + n > bytes.length) throw new MalformedInputError(`safetensors: header needs ${8 + n} bytes, ${bytes.length} given`, { offset: bytes.length, path: 'N' });
  const raw = bytes.subarray(8, 8 + n);
  if (raw[0] !== 0x7b) throw new MalformedInputError("safetensors: header does not start with '{'", { offset: 8, path: 'header' });
  // Strict UTF-8 and strict JSON in one pass; top-level key offsets are kept for errors.
  const at = new Map<string, number>();
  let root: unknown;
  try {
    root = readJson(raw, 'safetensors header', { maxDepth: 64, maxBytes: MAX_HEADER_SIZE, offset: 8, numbers: 'raw', noBom: true, onKey: (k, off, depth) => void (depth === 0 && at.set(k, 8 + off)) });
  } catch (e) {
    if (e instanceof MalformedInputError) throw new MalformedInputError(e.message.replace(/ \(at [^)]*\)$/, ''), { offset: e.offset, path: 'header' });
    throw e;
  }
  if (!isObj(root)) throw new MalformedInputError('safetensors: header is not a JSON object', { offset: 8, path: 'header' });
  const dataSize = fileSize - 8 - n;
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> | undefined;
  for (const [name, v] of Object.entries(root)) {
    const E: ErrAt = (message, path) => new MalformedInputError(message, { path, offset: at.get(name) });
    const where = `tensors[${JSON.stringify(name)}]`;
    if (name === '__metadata__') {
      if (!isObj(v)) throw E('__metadata__ must be an object of strings', '__metadata__');
      metadata = {};
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw E('__metadata__ values must be strings', `__metadata__[${JSON.stringify(k)}]`);
        Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    tensors.push(checkTensor(name, v, where, E, dataSize));
  }
  // sorted by offset, the tensors must tile [0, dataSize) exactly
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of tensors) {
    const where = `tensors[${JSON.stringify(t.name)}].data_offsets`;
    if (t.begin < cursor) throw new MalformedInputError(`overlaps the previous tensor (begins at ${t.begin}, previous ends at ${cursor})`, { path: where, offset: 8 + n + t.begin });
    if (t.begin > cursor) throw new MalformedInputError(`hole in the data buffer: bytes ${cursor}..${t.begin} belong to no tensor`, { path: where, offset: 8 + n + cursor });
    cursor = t.end;
  }
  if (cursor !== dataSize) throw new MalformedInputError(`hole in the data buffer: bytes ${cursor}..${dataSize} belong to no tensor`, { path: 'data', offset: 8 + n + cursor });
  return { headerSize: n, dataOffset: 8 + n, dataSize, tensors, metadata };
}

/** One tensor entry: exactly {dtype, shape, data_offsets}, offsets in range, byte length = elements × dtype size. */
function checkTensor(name: string, v: JVal, where: string, E: ErrAt, dataSize: number): SafetensorsTensor {
  if (!isObj(v)) throw E('tensor entry must be an object', where);
  for (const k of Object.keys(v)) {
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') throw E(`unknown field ${JSON.stringify(k)}`, where);
  }
  const dtype = v.dtype;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BITS, dtype)) throw E(`unknown or missing dtype ${JSON.stringify(dtype)}`, `${where}.dtype`);
  const shape = v.shape;
  if (!Array.isArray(shape)) throw E('shape must be an array', `${where}.shape`);
  const dims = shape.map((d, k) => uint(d, `${where}.shape[${k}]`, E));
  const offs = v.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2) throw E('data_offsets must be [begin, end]', `${where}.data_offsets`);
  const begin = uint(offs[0], `${where}.data_offsets[0]`, E);
  const end = uint(offs[1], `${where}.data_offsets[1]`, E);
  if (end < begin || end > BigInt(dataSize)) {
    throw E(`data_offsets [${begin}, ${end}] outside the ${dataSize}-byte data buffer`, `${where}.data_offsets`);
  }
  // elements × bits must be whole bytes equal to the range
  const bits = dims.reduce((p, d) => p * d, 1n) * BigInt(DTYPE_BITS[dtype]!);
  if (bits % 8n !== 0n || bits / 8n !== end - begin) {
    throw E(`shape [${dims.join(', ')}] of ${dtype} is ${bits / 8n}${bits % 8n ? '+' : ''} bytes, data_offsets span ${end - begin}`, where);
  }
  if (dims.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER))) throw E('shape dimension above 2^53-1', `${where}.shape`);
  return { name, dtype, shape: dims.map(Number), begin: Number(begin), end: Number(end) };
}

/** Validates a safetensors file's header from disk (reads only 8 + N bytes), or from bytes already in memory. */
export async function validateSafetensorsHeader(input: string | Uint8Array): Promise<SafetensorsHeader> {
  if (input instanceof Uint8Array) return parseSafetensorsHeader(input);
  if (typeof input !== 'string') throw new TypeError('input must be a path or a Uint8Array');
  const fh = await fsp.open(input, 'r').catch((e: unknown) => {
    throw new MalformedInputError(`cannot read ${input}: ${(e as NodeJS.ErrnoException).code ?? e}`, { path: input });
  });
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    if (size < 8) return parseSafetensorsHeader(new Uint8Array(head.subarray(0, size)), size);
    // read N bytes only once N is known to be within bounds
    const n = head.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_SIZE) || 8n + n > BigInt(size)) return parseSafetensorsHeader(new Uint8Array(head), Math.max(size, 8));
    const buf = Buffer.alloc(8 + Number(n));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead !== buf.length) throw new MalformedInputError(`${input}: short read of the header`, { path: input, offset: bytesRead });
    return parseSafetensorsHeader(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), size);
  } finally {
    await fh.close();
  }
}
