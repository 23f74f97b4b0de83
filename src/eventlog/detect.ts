/**
 * Event-log format auto-detection. Each format is tried only when its positive signature is present; a format
 * that parses with a strong signature wins over weak ones; anything else is "unrecognised" (with every format's
 * reason) or "ambiguous". Nothing is guessed.
 */
import { MalformedInputError } from '../errors.js';
import { TPM_ALG, digestSize } from '../util/hash.js';
import { parseAicertJson } from './aicert-json.js';
import { parseCelCbor } from './cel-cbor.js';
import { parseCelJson, parseCelJsonSeq } from './cel-json.js';
import { parseCelTlv } from './cel-tlv.js';
import { CEL_CCMR_TYPE } from './cel-ccmr.js';
import { isImaAscii, parseImaAscii } from './ima-ascii.js';
import { parseImaLog, plausibleTemplateName, type ImaOptions } from './ima.js';
import { MAX_PCR, TCG_EV } from './names.js';
import { parseTcgLog, type TcgParseOptions } from './tcg.js';
import type { EventLog } from './types.js';

/** Options for parseEventLog. */
export interface ParseEventLogOptions {
  /** Passed to parseTcgLog. */
  tcg?: TcgParseOptions;
  /** Passed to parseImaLog. */
  ima?: ImaOptions;
  /**
   * PCR of an aicert JSON event list (default 14, the original's `event_log`; its `output_event_log` is PCR 8).
   * When it is not given, the result carries a warning saying PCR 14 was assumed.
   */
  aicertPcr?: number;
}

/** Detector names, as used in `reasons`. */
export type DetectorName = 'tcg' | 'cel-json-seq' | 'cel-json' | 'aicert-json' | 'ima' | 'ima-ascii' | 'cel-tlv' | 'cel-cbor';

/** The error parseEventLog throws when no format (or more than one) accepts the input. */
export type UnrecognisedLogError = MalformedInputError & { reasons: Partial<Record<DetectorName, string>> };

interface Detector {
  name: DetectorName;
  /** 'strong' / 'weak' when the signature is present, else the reason it is not. */
  sniff(b: Uint8Array, o: ParseEventLogOptions): 'strong' | 'weak' | string;
  parse(b: Uint8Array, o: ParseEventLogOptions): EventLog;
}

const EV_TYPES = new Set<number>(Object.values(TCG_EV));
const SPEC_ID = 'Spec ID Event';
const le32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));
// First byte that is not JSON whitespace (a UTF-8 BOM is not accepted).
function firstNonWs(b: Uint8Array): number | undefined {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  return undefined;
}
// The first JSON value inside the top-level array: '"' for a string, '{' for an object.
function firstElement(b: Uint8Array): number | undefined {
  const i = b.indexOf(0x5b);
  return i < 0 ? undefined : firstNonWs(b.subarray(i + 1));
}

const DETECTORS: Detector[] = [
  {
    // TCG PC Client: a Spec ID Event03 header (strong), or a plausible TCG_PCR_EVENT first event (weak).
    name: 'tcg',
    sniff(b) {
      if (b.length < 32) return 'shorter than one TCG_PCR_EVENT header';
      const pcr = le32(b, 0);
      const type = le32(b, 4);
      if (type === TCG_EV.EV_NO_ACTION && ascii(b, 32, SPEC_ID.length) === SPEC_ID) return 'strong';
      if (pcr <= MAX_PCR && EV_TYPES.has(type) && le32(b, 28) <= b.length - 32) return 'weak';
      return 'no Spec ID Event03 header and the first event is not a plausible TCG_PCR_EVENT';
    },
    parse: (b, o) => parseTcgLog(b, o.tcg),
  },
  {
    // RFC 7464 JSON text sequence: the record separator 0x1E first.
    name: 'cel-json-seq',
    sniff: (b) => (b[0] === 0x1e ? 'strong' : 'does not start with 0x1E'),
    parse: (b) => parseCelJsonSeq(b),
  },
  {
    // CEL-JSON: a JSON array whose first element is an object (or a record object).
    name: 'cel-json',
    sniff(b) {
      const c = firstNonWs(b);
      if (c === 0x7b) return 'strong';
      return c === 0x5b && firstElement(b) === 0x7b ? 'strong' : 'not a JSON array of objects';
    },
    parse: (b) => parseCelJson(b),
  },
  {
    // aicert JSON: a JSON array whose first element is a string.
    name: 'aicert-json',
    sniff: (b) => (firstNonWs(b) === 0x5b && firstElement(b) === 0x22 ? 'strong' : 'not a JSON array of strings'),
    parse(b, o) {
      const log = parseAicertJson(b, { pcr: o.aicertPcr ?? 14 });
      if (o.aicertPcr === undefined) log.warnings.push('aicert JSON event list: PCR 14 assumed (the original event_log); pass aicertPcr for another PCR');
      return log;
    },
  },
  {
    // IMA: u32 PCR, sha1 template hash, then a template name of 1..15 [a-z0-9_-]; a built-in template name is strong.
    name: 'ima',
    sniff(b, o) {
      const th = digestSize(o.ima?.templateHashAlg ?? TPM_ALG.SHA1) ?? 20;
      if (b.length < th + 9 || le32(b, 0) > MAX_PCR) return 'first u32 is not a PCR index';
      const n = le32(b, 4 + th);
      const name = b.subarray(8 + th, 8 + th + n);
      if (n < 1 || n > 15 || name.length !== n || !plausibleTemplateName(name)) return 'no plausible IMA template name';
      return ['ima', 'ima-ng', 'ima-ngv2', 'ima-sig', 'ima-sigv2', 'ima-buf', 'ima-modsig', 'evm-sig'].includes(ascii(name, 0, n)) ? 'strong' : 'weak';
    },
    parse: (b, o) => parseImaLog(b, o.ima),
  },
  {
    // ASCII IMA list (ascii_runtime_measurements): "PCR template-hash template-name ..." lines (spec/confidential-vms.md §10).
    name: 'ima-ascii',
    sniff: (b) => (isImaAscii(b) ? 'strong' : 'not "PCR template-hash template-name" lines'),
    parse: (b) => parseImaAscii(b),
  },
  {
    // CEL-TLV: a recnum field (type 0, length 0..8) followed by a pcr or nv_index field.
    name: 'cel-tlv',
    sniff(b) {
      if (b.length < 10 || b[0] !== 0) return 'does not start with a recnum TLV';
      const n = be32(b, 1);
      return n <= 8 && (b[5 + n] === 1 || b[5 + n] === 2 || b[5 + n] === CEL_CCMR_TYPE) ? 'weak' : 'does not start with recnum and pcr TLVs';
    },
    parse: (b) => parseCelTlv(b),
  },
  {
    // CEL-CBOR: a CBOR array or map head (major type 4 or 5, definite length), or the self-describe tag.
    name: 'cel-cbor',
    sniff(b) {
      const c = b[0];
      if (c === undefined) return 'empty';
      if (c === 0xd9 && b[1] === 0xd9 && b[2] === 0xf7) return 'weak';
      return (c >= 0x80 && c <= 0x9b) || (c >= 0xa0 && c <= 0xbb) ? 'weak' : 'not a CBOR array or map';
    },
    parse: (b) => parseCelCbor(b),
  },
];

/**
 * Parses an event log of any supported format, detected from positive signatures. Throws MalformedInputError
 * (an UnrecognisedLogError with `reasons`) when no format accepts the input or when two accept it equally.
 */
export function parseEventLog(bytes: Uint8Array, opts: ParseEventLogOptions = {}): EventLog {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('event log must be a Uint8Array');
  const reasons: Partial<Record<DetectorName, string>> = {};
  const ok: { name: DetectorName; strength: 'strong' | 'weak'; log: EventLog }[] = [];
  // Try every format whose signature is present; keep each rejection's reason.
  for (const d of DETECTORS) {
    const s = bytes.length === 0 ? 'empty input' : d.sniff(bytes, opts);
    if (s !== 'strong' && s !== 'weak') {
      reasons[d.name] = s;
      continue;
    }
    try {
      ok.push({ name: d.name, strength: s, log: d.parse(bytes, opts) });
    } catch (e) {
      if (!(e instanceof MalformedInputError)) throw e;
      reasons[d.name] = e.message;
    }
  }
  // One accepting format, or exactly one with a strong signature among several.
  if (ok.length === 1) return ok[0]!.log;
  const strong = ok.filter((x) => x.strength === 'strong');
  if (ok.length > 1 && strong.length === 1) return strong[0]!.log;
  const what = ok.length > 1 ? `ambiguous event log: parses as ${ok.map((x) => x.name).join(' and ')}` : 'unrecognised event log';
  const list = Object.entries(reasons).map(([k, v]) => `${k}: ${v}`).join('; ');
  const err = new MalformedInputError(ok.length > 1 ? what : `${what} (${list})`, { offset: 0 }) as UnrecognisedLogError;
  err.reasons = reasons;
  throw err;
}
