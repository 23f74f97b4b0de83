/**
 * The one bounds-checked reader used by every binary parser in aicert.
 * Every read checks the bytes left; every length is checked against the bytes left before anything is
 * allocated; `end()` rejects trailing bytes. All errors are MalformedInputError with the byte offset.
 */
import { MalformedInputError } from '../errors.js';

export class Reader {
  private readonly dv: DataView;
  private pos = 0;
  /** Offset of this reader's first byte within the outermost input, for error messages. */
  readonly base: number;
  /** Name of the structure being read, used as the error path. */
  readonly what: string;

  constructor(readonly bytes: Uint8Array, what = 'input', base = 0) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.base = base;
    this.what = what;
  }

  /** Current offset within this reader. */
  get offset(): number {
    return this.pos;
  }

  /** Absolute offset within the outermost input. */
  get absOffset(): number {
    return this.base + this.pos;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Raises a MalformedInputError at the current (or a given) offset. */
  fail(message: string, at = this.pos): never {
    throw new MalformedInputError(`${this.what}: ${message}`, { offset: this.base + at });
  }

  /** Ensures n more bytes exist. */
  need(n: number, field: string): void {
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`${field}: invalid length ${n}`);
    if (n > this.remaining) this.fail(`${field}: needs ${n} bytes, ${this.remaining} left`);
  }

  u8(field = 'u8'): number {
    this.need(1, field);
    return this.dv.getUint8(this.pos++);
  }

  u16(field = 'u16'): number {
    this.need(2, field);
    const v = this.dv.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(field = 'u32'): number {
    this.need(4, field);
    const v = this.dv.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit as bigint. */
  u64(field = 'u64'): bigint {
    this.need(8, field);
    const v = this.dv.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  u16le(field = 'u16'): number {
    this.need(2, field);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32le(field = 'u32'): number {
    this.need(4, field);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64le(field = 'u64'): bigint {
    this.need(8, field);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** n raw bytes (a view, not a copy). */
  bytesN(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** TPM2B_*: u16 size then that many bytes, optionally capped at `max`. */
  tpm2b(field = 'TPM2B', max?: number): Uint8Array {
    const at = this.pos;
    const n = this.u16(`${field}.size`);
    if (max !== undefined && n > max) this.fail(`${field}: size ${n} exceeds maximum ${max}`, at);
    return this.bytesN(n, field);
  }

  /** A sub-reader over the next n bytes, advancing past them. */
  sub(n: number, what: string): Reader {
    const start = this.pos;
    const b = this.bytesN(n, what);
    return new Reader(b, what, this.base + start);
  }

  /** Skips n bytes. */
  skip(n: number, field = 'skip'): void {
    this.need(n, field);
    this.pos += n;
  }

  /** Peek at the next byte without consuming it (undefined at the end). */
  peekU8(): number | undefined {
    return this.pos < this.bytes.length ? this.dv.getUint8(this.pos) : undefined;
  }

  /** Rejects trailing bytes. */
  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} trailing bytes`);
  }
}
