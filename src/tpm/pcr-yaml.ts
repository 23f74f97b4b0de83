/**
 * The YAML that `tpm2_pcrread` and `tpm2_quote` print (tpm2-tools lib/tpm2_util.c pcr printing): a bank line
 * `  sha256:` followed by `    N : 0xHEX` lines, optionally under a `pcrs:` key next to `quoted:`, `signature:`
 * and `calcDigest:`. Values are read as text and left-padded to the bank's digest size, since the tools print them
 * as hex integers and YAML parsers drop the leading zeros. Spec: spec/confidential-vms.md §PCR YAML.
 */
import { MalformedInputError } from '../errors.js';
import { fromHex } from '../util/bytes.js';
import { digestSize, hashAlgByName } from '../util/hash.js';
import type { PcrValues } from './pcr-values.js';

const BANK = /^(\s*)(sha1|sha256|sha384|sha512|sm3_256|sha3_256|sha3_384|sha3_512)\s*:\s*$/i;
const VALUE = /^\s+(\d{1,2})\s*:\s*0x([0-9a-fA-F]+)\s*$/;
const KEY = /^\s*[A-Za-z_][\w-]*\s*:/;
const MAX_LINES = 4096;

/** True when the text looks like tpm2-tools PCR YAML (a bank line followed by an `N : 0x…` line). */
export function isPcrYaml(text: string): boolean {
  return /^\s*(sha1|sha256|sha384|sha512|sm3_256)\s*:\s*\r?\n\s+\d{1,2}\s*:\s*0x[0-9a-fA-F]/im.test(text);
}

/** Parses tpm2-tools PCR YAML into PCR values (MalformedInputError with the line's offset otherwise). */
export function parsePcrYaml(text: string): PcrValues {
  const out: PcrValues = new Map();
  let bank: { alg: number; size: number; indent: number; map: Map<number, Uint8Array> } | undefined;
  let offset = 0;
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw new MalformedInputError(`PCR YAML has more than ${MAX_LINES} lines`, { path: 'pcrs' });
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    const at = offset;
    offset += raw.length + 1;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const b = BANK.exec(line);
    if (b) {
      const alg = hashAlgByName(b[2]!)!;
      if (out.has(alg)) throw new MalformedInputError(`bank ${b[2]} listed twice`, { path: 'pcrs', offset: at });
      bank = { alg, size: digestSize(alg)!, indent: b[1]!.length, map: new Map() };
      out.set(alg, bank.map);
      continue;
    }
    const v = VALUE.exec(line);
    if (v && bank && /^\s*/.exec(line)![0].length > bank.indent) {
      const pcr = Number(v[1]);
      const hex = v[2]!.replace(/^0+(?=.)/, '');
      if (pcr > 23) throw new MalformedInputError(`PCR index ${pcr} out of range`, { path: 'pcrs', offset: at });
      if (bank.map.has(pcr)) throw new MalformedInputError(`PCR ${pcr} listed twice`, { path: 'pcrs', offset: at });
      if (hex.length > 2 * bank.size) throw new MalformedInputError(`PCR ${pcr} value longer than the digest`, { path: 'pcrs', offset: at });
      bank.map.set(pcr, fromHex(hex.padStart(2 * bank.size, '0')));
      continue;
    }
    // Other keys (`pcrs:`, `quoted:`, `signature:`, `alg:` ...) end the current bank; anything else is malformed.
    if (KEY.test(line)) {
      bank = undefined;
      continue;
    }
    throw new MalformedInputError(`unexpected PCR YAML line ${JSON.stringify(line.slice(0, 60))}`, { path: 'pcrs', offset: at });
  }
  if (![...out.values()].some((m) => m.size > 0)) throw new MalformedInputError('PCR YAML lists no PCR values', { path: 'pcrs' });
  for (const [alg, m] of out) if (m.size === 0) out.delete(alg);
  return out;
}
