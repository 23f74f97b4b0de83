/**
 * The original aicert event list: a JSON array of JSON strings. Each string's UTF-8 bytes are hashed with SHA-256
 * and extended into one PCR (the original extended `event_log` into PCR 14 and `output_event_log` into PCR 8),
 * starting from zero. The stored strings are hashed verbatim: they are never parsed and re-serialized.
 */
import { MalformedInputError } from '../errors.js';
import { utf8 } from '../util/bytes.js';
import { LONE_SURROGATE, readJson } from '../util/json.js';
import { TPM_ALG, hash } from '../util/hash.js';
import type { EventLog, LogEvent } from './types.js';

/** Options for parseAicertJson. */
export interface AicertJsonOptions {
  /** The PCR every event is extended into (0..23). */
  pcr: number;
}

/** The `decoded` value of an aicert event. */
export interface AicertJsonDecoded {
  /** The stored string, exactly as hashed. */
  string: string;
  /** `event_type` of the string parsed as JSON, when it is a JSON object with a string event_type (untrusted). */
  eventType?: string;
  /** The string parsed as JSON, when it is JSON (for display; never re-serialized for hashing). */
  json?: unknown;
}

// Lone UTF-16 surrogates cannot be encoded as UTF-8: the original (Python) could not have hashed them (LONE_SURROGATE).

// aicert event list: spec/eventlog-formats.md and https://github.com/mithril-security/aicert
/** Parses an aicert JSON event list (bytes of the JSON array, or the already-parsed array of strings). */
export function parseAicertJson(input: Uint8Array | string[], opts: AicertJsonOptions): EventLog {
  if (!opts || !Number.isInteger(opts.pcr) || opts.pcr < 0 || opts.pcr > 23) throw new TypeError('opts.pcr must be an integer 0..23');
  let items: unknown[];
  if (input instanceof Uint8Array) {
    // Bytes: the strict reader (spec/strict-encodings.md §JSON) resolves each string's escapes; nesting ≤ 2.
    const v = readJson(input, 'aicert JSON', { maxDepth: 2, maxBytes: Number.MAX_SAFE_INTEGER });
    if (!Array.isArray(v)) throw new MalformedInputError('aicert JSON: expected an array of strings', { path: '$' });
    items = v;
  } else if (Array.isArray(input)) {
    items = input;
  } else {
    throw new TypeError('input must be a Uint8Array or an array of strings');
  }
  const events: LogEvent[] = [];
  items.forEach((s, i) => {
    // Every element must be a string that UTF-8 can encode.
    if (typeof s !== 'string') throw new MalformedInputError(`aicert JSON: element is ${s === null ? 'null' : typeof s}, not a string`, { path: `[${i}]` });
    if (LONE_SURROGATE.test(s)) throw new MalformedInputError('aicert JSON: string has a lone surrogate', { path: `[${i}]` });
    const data = utf8(s);
    events.push({
      index: i,
      pcr: opts.pcr,
      type: 0,
      typeName: 'aicert-json',
      digests: [{ alg: TPM_ALG.SHA256, digest: hash(TPM_ALG.SHA256, data) }],
      data,
      decoded: decode(s),
      offset: i,
    });
  });
  return { format: 'aicert-json', banks: [TPM_ALG.SHA256], events, warnings: [] };
}

// Display-only decoding: the event's own JSON, when it is JSON.
function decode(s: string): AicertJsonDecoded {
  const out: AicertJsonDecoded = { string: s };
  try {
    const j: unknown = readJson(s, 'aicert event', { maxDepth: 64 });
    out.json = j;
    if (j && typeof j === 'object' && typeof (j as Record<string, unknown>).event_type === 'string') {
      out.eventType = (j as Record<string, string>).event_type;
    }
  } catch {
    // Not JSON: the string is still the measured value.
  }
  return out;
}
