/**
 * ASCII IMA measurement lists (/sys/kernel/security/ima/ascii_runtime_measurements; keylime's transport form):
 * `PCR template-hash template-name field…` per line. Each line is re-encoded as the binary entry the kernel would
 * have written (Documentation/security/IMA-templates.rst) and read by parseImaLog, so the template hash is checked
 * against the template data exactly as for binary lists. Templates: ima, ima-ng, ima-ngv2, ima-sig, ima-sigv2,
 * ima-buf. Spec: spec/confidential-vms.md §10.
 */
import { MalformedInputError } from '../errors.js';
import { concat, tryFromHex, tryUtf8Decode, utf8 } from '../util/bytes.js';
import { TPM_ALG } from '../util/hash.js';
import { parseImaLog } from './ima.js';
import type { EventLog } from './types.js';

const LINE = /^(\d{1,2}) ([0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128}) ([a-z0-9_-]{1,15}) (.*)$/;
const HASH_BY_LEN: Record<number, number> = { 40: TPM_ALG.SHA1, 64: TPM_ALG.SHA256, 96: TPM_ALG.SHA384, 128: TPM_ALG.SHA512 };
const MAX_BYTES = 256 * 1024 * 1024;

/** True when the input starts with an ASCII IMA line. */
export function isImaAscii(b: Uint8Array): boolean {
  const nl = b.subarray(0, 4096).indexOf(0x0a);
  const first = tryUtf8Decode(b.subarray(0, nl < 0 ? Math.min(b.length, 4096) : nl));
  return first !== undefined && LINE.test(first);
}

const u32le = (n: number): Uint8Array => new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]);
/** A length-prefixed template field. */
const field = (b: Uint8Array): Uint8Array => concat(u32le(b.length), b);

/** d-ng field: `[type:]algo:` NUL digest, from the ASCII `algo:hex` form. */
function dng(s: string, at: number, v2: boolean): Uint8Array {
  const i = s.lastIndexOf(':');
  const prefix = s.slice(0, i);
  const digest = tryFromHex(s.slice(i + 1));
  if (i < 1 || !digest || prefix.split(':').length !== (v2 ? 2 : 1)) throw new MalformedInputError(`IMA ASCII: bad digest field "${s.slice(0, 40)}"`, { offset: at });
  return concat(utf8(`${prefix}:`), new Uint8Array([0]), digest);
}

/** One line -> the binary entry's template data. */
function templateData(template: string, rest: string, at: number): Uint8Array {
  const sp = rest.indexOf(' ');
  const first = sp < 0 ? rest : rest.slice(0, sp);
  let name = sp < 0 ? '' : rest.slice(sp + 1);
  if (template === 'ima') {
    const d = tryFromHex(first);
    if (!d || d.length !== 20) throw new MalformedInputError('IMA ASCII: ima template digest must be 20 bytes', { offset: at });
    const n = utf8(name);
    return concat(d, u32le(n.length), n);
  }
  const v2 = template === 'ima-ngv2' || template === 'ima-sigv2';
  const parts = [field(dng(first, at, v2))];
  // ima-sig / ima-buf: the last space-separated word is the hex signature / buffer (possibly empty for ima-sig).
  let extra: Uint8Array | undefined;
  if (template === 'ima-sig' || template === 'ima-sigv2' || template === 'ima-buf') {
    const k = name.lastIndexOf(' ');
    const tail = k < 0 ? undefined : tryFromHex(name.slice(k + 1));
    if (tail !== undefined) [name, extra] = [name.slice(0, k), tail];
    else if (template === 'ima-buf') throw new MalformedInputError('IMA ASCII: ima-buf line without a hex buffer', { offset: at });
    else extra = new Uint8Array();
  } else if (template !== 'ima-ng' && template !== 'ima-ngv2') {
    throw new MalformedInputError(`IMA ASCII: template ${template} cannot be rebuilt from its ASCII form`, { offset: at });
  }
  parts.push(field(concat(utf8(name), new Uint8Array([0]))));
  if (extra) parts.push(field(extra));
  return concat(...parts);
}

/** Parses an ASCII IMA list into an EventLog (format 'ima-ascii'); blank lines are refused, a final newline is not. */
export function parseImaAscii(bytes: Uint8Array): EventLog {
  if (bytes.length > MAX_BYTES) throw new MalformedInputError('IMA ASCII list too large', { offset: 0 });
  const text = tryUtf8Decode(bytes);
  if (text === undefined) throw new MalformedInputError('IMA ASCII: not UTF-8', { offset: 0 });
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const entries: Uint8Array[] = [];
  let thLen: number | undefined;
  let at = 0;
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) throw new MalformedInputError(`IMA ASCII: line ${entries.length + 1} is not "PCR template-hash template-name fields"`, { offset: at });
    const [, pcr, th, template, rest] = m as unknown as [string, string, string, string, string];
    if (thLen !== undefined && th.length !== thLen) throw new MalformedInputError('IMA ASCII: template hash length changes between lines', { offset: at });
    thLen = th.length;
    const name = utf8(template);
    const data = templateData(template, rest, at);
    entries.push(concat(u32le(Number(pcr)), tryFromHex(th)!, u32le(name.length), name, template === 'ima' ? data : field(data)));
    at += new TextEncoder().encode(line).length + 1;
  }
  const log = parseImaLog(concat(...entries), { templateHashAlg: HASH_BY_LEN[thLen!]! });
  return { ...log, format: 'ima-ascii', events: log.events.map((e, i) => ({ ...e, offset: i })) };
}
