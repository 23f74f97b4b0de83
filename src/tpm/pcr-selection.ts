/**
 * TPML_PCR_SELECTION (TPM 2.0 Library Part 2 §10.6.2 and §10.9.7,
 * https://trustedcomputinggroup.org/resource/tpm-library-specification/).
 */
import type { Reader } from './reader.js';
import { MAX } from './constants.js';
import { digestSize, hashName } from '../util/hash.js';

/** One bank of a PCR selection: the hash alg id and the selected PCR indexes, ascending. */
export interface PcrBankSelection {
  hashAlg: number;
  pcrs: number[];
}

/** Reads a TPML_PCR_SELECTION, rejecting unknown banks, oversize bitmaps and a repeated bank. */
export function readPcrSelection(r: Reader): PcrBankSelection[] {
  const at = r.offset;
  const count = r.u32('TPML_PCR_SELECTION.count');
  if (count > MAX.PCR_BANKS) r.fail(`TPML_PCR_SELECTION.count ${count} exceeds ${MAX.PCR_BANKS}`, at);
  const out: PcrBankSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hAt = r.offset;
    const hashAlg = r.u16(`pcrSelections[${i}].hash`);
    if (digestSize(hashAlg) === undefined) r.fail(`pcrSelections[${i}]: unknown hash algorithm ${hashName(hashAlg)}`, hAt);
    if (out.some((s) => s.hashAlg === hashAlg)) r.fail(`pcrSelections[${i}]: bank ${hashName(hashAlg)} selected twice`, hAt);
    const sAt = r.offset;
    const size = r.u8(`pcrSelections[${i}].sizeofSelect`);
    if (size > MAX.PCR_SELECT_BYTES) r.fail(`pcrSelections[${i}].sizeofSelect ${size} exceeds ${MAX.PCR_SELECT_BYTES}`, sAt);
    out.push({ hashAlg, pcrs: bitmapToPcrs(r.bytesN(size, `pcrSelections[${i}].pcrSelect`)) });
  }
  return out;
}

/** Bit i of byte j selects PCR 8j+i. */
export function bitmapToPcrs(bitmap: Uint8Array): number[] {
  const pcrs: number[] = [];
  for (let j = 0; j < bitmap.length; j++) for (let i = 0; i < 8; i++) if (bitmap[j]! & (1 << i)) pcrs.push(8 * j + i);
  return pcrs;
}

/** Compact text form, e.g. `sha256:0-23` or `sha1:0,1,2+sha256:7`. */
export function formatSelection(sel: PcrBankSelection[]): string {
  return sel.map((s) => `${hashName(s.hashAlg)}:${formatRanges(s.pcrs)}`).join('+');
}

function formatRanges(pcrs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < pcrs.length; ) {
    let j = i;
    while (j + 1 < pcrs.length && pcrs[j + 1] === pcrs[j]! + 1) j++;
    parts.push(j > i + 1 ? `${pcrs[i]}-${pcrs[j]}` : j === i + 1 ? `${pcrs[i]},${pcrs[j]}` : `${pcrs[i]}`);
    i = j + 1;
  }
  return parts.join(',') || '(none)';
}

/** Total number of selected PCRs over all banks. */
export function selectionCount(sel: PcrBankSelection[]): number {
  return sel.reduce((n, s) => n + s.pcrs.length, 0);
}
