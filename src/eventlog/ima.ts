/**
 * Linux IMA binary measurement lists (/sys/kernel/security/ima/binary_runtime_measurements).
 * Each entry extends its template hash into the IMA PCR; an all-zero template hash marks an invalidated
 * (ToMToU / open-writers violation) entry, which the kernel extends as all-0xFF.
 */
import { MalformedInputError } from '../errors.js';
import { Reader } from '../tpm/reader.js';
import { bytesEqual, concat, toHex, tryUtf8Decode } from '../util/bytes.js';
import { TPM_ALG, digestSize, hash, hashInfo, hashName } from '../util/hash.js';
import type { EventDigest, EventLog, LogEvent } from './types.js';

/** Options for parseImaLog. */
export interface ImaOptions {
  /**
   * Hash of the template hashes stored in the list (default sha1, the classic binary_runtime_measurements file;
   * pass e.g. TPM_ALG.SHA256 for a kernel's binary_runtime_measurements_sha256 file).
   */
  templateHashAlg?: number;
  /**
   * More banks to give every event a digest in, computed from the template data the way the kernel computes the
   * digest it extends into that bank (H_bank(template data); all-0xFF for invalidated entries).
   */
  extraBanks?: number[];
  /**
   * How the kernel filled the extra banks: 'per-bank' (Linux 5.8 and later: H_bank(template data), all-0xFF of the
   * bank's size for invalidated entries; the default) or 'sha1-padded' (older kernels: the sha1 template hash, or
   * 20 bytes of 0xFF, zero-padded to the bank's digest size).
   */
  extraBankMode?: 'per-bank' | 'sha1-padded';
  /**
   * Drop an incomplete last entry (the input ends inside it) with a warning instead of rejecting the list. Off by
   * default: a copy cut mid-entry is malformed. Entries that were parsed still have to replay to the quoted PCR.
   */
  allowTruncatedTail?: boolean;
}

/** One decoded template field. */
export interface ImaField {
  id: string;
  /** Raw field bytes, hex. */
  hex: string;
  /** For d/d-ng/d-ngv2: the digest algorithm and the file digest. */
  algo?: string;
  digest?: string;
  /** For d-ngv2: the digest type prefix (ima, verity). */
  digestType?: string;
  /** For n/n-ng: the file name. */
  name?: string;
}

/** The `decoded` value of an IMA event. */
export interface ImaDecoded {
  template: string;
  /** The template hash as stored (all zero for an invalidated entry). */
  templateHash: string;
  invalidated: boolean;
  /** Whether templateHash = H(template data); undefined for invalidated entries. */
  templateHashValid?: boolean;
  /** Fields of a known template (undefined for unknown templates, whose data is kept raw in `data`). */
  fields?: ImaField[];
  /** Convenience copies of the common fields. */
  fileDigest?: string;
  fileDigestAlgo?: string;
  fileName?: string;
}

// Field lists of the kernel's built-in templates (Documentation/security/IMA-templates.rst).
const TEMPLATES: Record<string, string[]> = {
  ima: ['d', 'n'],
  'ima-ng': ['d-ng', 'n-ng'],
  'ima-ngv2': ['d-ngv2', 'n-ng'],
  'ima-sig': ['d-ng', 'n-ng', 'sig'],
  'ima-sigv2': ['d-ngv2', 'n-ng', 'sig'],
  'ima-buf': ['d-ng', 'n-ng', 'buf'],
  'ima-modsig': ['d-ng', 'n-ng', 'sig', 'd-modsig', 'modsig'],
  'evm-sig': ['d-ng', 'n-ng', 'evmsig', 'xattrnames', 'xattrlengths', 'xattrvalues', 'iuid', 'igid', 'imode'],
};

// Kernel limits: IMA_TEMPLATE_NAME_LEN_MAX and IMA_EVENT_NAME_LEN_MAX.
const TEMPLATE_NAME_MAX = 15;
const EVENT_NAME_MAX = 255;
// The 'ima' template hashes the name padded with zeros to IMA_EVENT_NAME_LEN_MAX + 1 bytes.
const IMA_NAME_PAD = EVENT_NAME_MAX + 1;
// The 'ima' template's digest field is always 20 bytes (SHA-1 or a padded MD5).
const IMA_DIGEST_LEN = 20;

// Digest sizes of the kernel hash algorithm names that appear in d-ng prefixes.
const ALGO_SIZES: Record<string, number> = {
  md4: 16, md5: 16, sha1: 20, rmd160: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64,
  sm3: 32, 'sm3-256': 32, streebog256: 32, streebog512: 64, 'sha3-256': 32, 'sha3-384': 48, 'sha3-512': 64,
  wp256: 32, wp384: 48, wp512: 64, tgr128: 16, tgr160: 20, tgr192: 24,
};

/** True when a template name looks like one the kernel would write (for auto-detection). */
export function plausibleTemplateName(b: Uint8Array): boolean {
  if (b.length < 1 || b.length > TEMPLATE_NAME_MAX) return false;
  for (const c of b) if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) return false;
  return true;
}

// Linux IMA binary measurement list, host (little-endian) order: https://www.kernel.org/doc/html/latest/security/IMA-templates.html
/** Parses an IMA binary measurement list into an EventLog (format 'ima'). */
export function parseImaLog(bytes: Uint8Array, opts: ImaOptions = {}): EventLog {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('IMA log must be a Uint8Array');
  const thAlg = opts.templateHashAlg ?? TPM_ALG.SHA1;
  const thSize = digestSize(thAlg);
  if (thSize === undefined) throw new TypeError(`unsupported templateHashAlg ${thAlg}`);
  const extra = (opts.extraBanks ?? []).filter((a) => a !== thAlg);
  for (const a of extra) if (!hashInfo(a)) throw new TypeError(`unsupported extra bank ${a}`);
  const mode = opts.extraBankMode ?? 'per-bank';
  if (mode !== 'per-bank' && mode !== 'sha1-padded') throw new TypeError(`unknown extraBankMode ${String(mode)}`);
  if (mode === 'sha1-padded' && extra.length && thAlg !== TPM_ALG.SHA1) throw new TypeError("'sha1-padded' needs sha1 template hashes");
  if (bytes.length === 0) throw new MalformedInputError('IMA log: empty input', { offset: 0 });
  const r = new Reader(bytes, 'IMA log');
  const events: LogEvent[] = [];
  const warnings: string[] = [];
  while (r.remaining > 0) {
    const at = r.offset;
    let ev: ReturnType<typeof readEntry>;
    try {
      ev = readEntry(r, events.length, thAlg, thSize, extra, mode);
    } catch (e) {
      // A read past the end of the outer list (not inside one entry's template data) means the input was cut.
      const cut = e instanceof MalformedInputError && /^IMA log: .*needs \d+ bytes, \d+ left/.test(e.message);
      if (!cut || !opts.allowTruncatedTail) throw e;
      warnings.push(`IMA list ends inside entry ${events.length} (offset ${at}, ${bytes.length - at} bytes); entry dropped`);
      break;
    }
    if (ev.decoded.templateHashValid === false) {
      warnings.push(`IMA entry ${ev.index} (${ev.decoded.template}): template hash is not ${hashName(thAlg)}(template data)`);
    }
    events.push(ev);
  }
  return { format: 'ima', banks: [thAlg, ...extra], events, warnings };
}

// One entry: u32 pcr, template hash, u32 name length, name, then the template data.
function readEntry(
  r: Reader,
  index: number,
  thAlg: number,
  thSize: number,
  extra: number[],
  mode: 'per-bank' | 'sha1-padded',
): LogEvent & { decoded: ImaDecoded } {
  const start = r.offset;
  // PCR index: IMA measures into one PCR (CONFIG_IMA_MEASURE_PCR_IDX, 8..14); accept any TPM PCR.
  const pcr = r.u32le('pcr');
  if (pcr > 23) r.fail(`PCR index ${pcr} out of range`, start);
  const templateHash = r.bytesN(thSize, 'template hash');
  // Template name: 1..15 characters [a-z0-9_-].
  const nameAt = r.offset;
  const nameLen = r.u32le('template name length');
  if (nameLen < 1 || nameLen > TEMPLATE_NAME_MAX) r.fail(`template name length ${nameLen} out of range`, nameAt);
  const nameBytes = r.bytesN(nameLen, 'template name');
  if (!plausibleTemplateName(nameBytes)) r.fail('template name has invalid characters', nameAt + 4);
  const template = String.fromCharCode(...nameBytes);
  // Template data: the 'ima' template has a fixed layout and no total length; every other template is length-prefixed.
  let data: Uint8Array;
  let hashed: Uint8Array;
  let fields: ImaField[] | undefined;
  if (template === 'ima') {
    const dataAt = r.offset;
    const digest = r.bytesN(IMA_DIGEST_LEN, 'ima digest');
    const nLen = r.u32le('ima name length');
    if (nLen > EVENT_NAME_MAX) r.fail(`ima file name length ${nLen} exceeds ${EVENT_NAME_MAX}`, dataAt + IMA_DIGEST_LEN);
    const name = r.bytesN(nLen, 'ima file name');
    data = r.bytes.subarray(dataAt, r.offset);
    const padded = new Uint8Array(IMA_NAME_PAD);
    padded.set(name);
    hashed = concat(digest, padded);
    fields = [
      { id: 'd', hex: toHex(digest), digest: toHex(digest) },
      { id: 'n', hex: toHex(name), name: text(name) },
    ];
  } else {
    const len = r.u32le('template data length');
    const sub = r.sub(len, `IMA entry ${index} template data`);
    data = sub.bytes;
    hashed = data;
    const ids = TEMPLATES[template];
    fields = ids ? readFields(sub, ids) : undefined;
  }
  // Digest to extend: the template hash, or all-0xFF when the entry was invalidated (template hash all zero).
  const invalidated = templateHash.every((b) => b === 0);
  const own = invalidated ? new Uint8Array(thSize).fill(0xff) : templateHash;
  const digests: EventDigest[] = [{ alg: thAlg, digest: own }];
  for (const a of extra) digests.push({ alg: a, digest: bankDigest(a, mode, own, invalidated, hashed) });
  const decoded: ImaDecoded = { template, templateHash: toHex(templateHash), invalidated };
  if (!invalidated) decoded.templateHashValid = bytesEqual(hash(thAlg, hashed), templateHash);
  if (fields) {
    decoded.fields = fields;
    const d = fields.find((f) => f.digest !== undefined && (f.id === 'd' || f.id === 'd-ng' || f.id === 'd-ngv2'));
    const n = fields.find((f) => f.name !== undefined);
    if (d?.digest !== undefined) decoded.fileDigest = d.digest;
    if (d?.algo !== undefined) decoded.fileDigestAlgo = d.algo;
    if (n?.name !== undefined) decoded.fileName = n.name;
  }
  return { index, pcr, type: 0, typeName: template, digests, data, decoded, offset: r.base + start };
}

// The digest the kernel extends into another bank (see ImaOptions.extraBankMode).
function bankDigest(alg: number, mode: 'per-bank' | 'sha1-padded', own: Uint8Array, invalidated: boolean, hashed: Uint8Array): Uint8Array {
  const size = digestSize(alg)!;
  if (mode === 'sha1-padded') {
    const out = new Uint8Array(size);
    out.set(own.subarray(0, Math.min(own.length, size)));
    return out;
  }
  return invalidated ? new Uint8Array(size).fill(0xff) : hash(alg, hashed);
}

// Fields of a known template: each a u32 length then its bytes; the count must match and nothing may follow.
function readFields(r: Reader, ids: string[]): ImaField[] {
  const out: ImaField[] = [];
  for (const id of ids) {
    const len = r.u32le(`${id} length`);
    const at = r.offset;
    const b = r.bytesN(len, id);
    out.push(decodeField(id, b, r, at));
  }
  r.end();
  return out;
}

// Decodes d-ng ("[type:]algo:\0" + digest), n-ng (NUL-terminated name) and keeps the rest as hex.
function decodeField(id: string, b: Uint8Array, r: Reader, at: number): ImaField {
  const f: ImaField = { id, hex: toHex(b) };
  if (id === 'd-ng' || id === 'd-ngv2' || id === 'd-modsig') {
    if (id === 'd-modsig' && b.length === 0) return f;
    const nul = b.indexOf(0);
    if (nul < 1 || b[nul - 1] !== 0x3a) r.fail(`${id}: missing "algo:" prefix`, at);
    const prefix = String.fromCharCode(...b.subarray(0, nul - 1));
    const parts = prefix.split(':');
    const algo = parts[parts.length - 1]!;
    if (id === 'd-ngv2' && parts.length !== 2) r.fail(`${id}: expected "type:algo:" prefix`, at);
    if (id !== 'd-ngv2' && parts.length !== 1) r.fail(`${id}: expected "algo:" prefix`, at);
    const digest = b.subarray(nul + 1);
    const size = ALGO_SIZES[algo];
    if (size !== undefined && digest.length !== size) r.fail(`${id}: ${algo} digest is ${digest.length} bytes`, at);
    f.algo = algo;
    f.digest = toHex(digest);
    if (parts.length === 2) f.digestType = parts[0]!;
  } else if (id === 'n-ng') {
    if (b.length > EVENT_NAME_MAX + 1) r.fail(`n-ng: name length ${b.length} exceeds ${EVENT_NAME_MAX + 1}`, at);
    f.name = text(b[b.length - 1] === 0 ? b.subarray(0, b.length - 1) : b);
  }
  return f;
}

// File names are bytes; show them as UTF-8 when valid, else as hex with a marker.
function text(b: Uint8Array): string {
  return tryUtf8Decode(b) ?? `hex:${toHex(b)}`;
}
