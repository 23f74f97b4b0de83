/** AIBOM v1 JSON → CBOR encoding (spec/aibom-v1.md §CBOR): byte fields become CBOR byte strings. */
import { encodeCbor } from './cbor.js';
import { cvmToCbor } from './cvm-evidence.js';
import { arr, bytesField, obj, type Obj } from './json.js';

const BYTE_FIELDS = ['attest', 'signature', 'akPublic'];

/** Converts a v1 JSON document object to its CBOR encoding (byte fields become CBOR byte strings). */
export function aibomToCbor(doc: Obj): Uint8Array {
  const ev = obj(doc.evidence, 'evidence');
  const tpm = obj(ev.tpm, 'evidence.tpm');
  const b = (v: unknown, p: string): Uint8Array => bytesField(v, p);
  const outTpm: Obj = { ...tpm };
  for (const f of BYTE_FIELDS) if (tpm[f] !== undefined) outTpm[f] = b(tpm[f], `evidence.tpm.${f}`);
  if (tpm.akCertificates !== undefined || ev.cvm === undefined) outTpm.akCertificates = arr(tpm.akCertificates, 'evidence.tpm.akCertificates').map((c, i) =>
    typeof c === 'string' && c.includes('-----BEGIN') ? c : b(c, `evidence.tpm.akCertificates[${i}]`),
  );
  const outEv: Obj = { ...ev, tpm: outTpm };
  if (ev.bootEventLog !== undefined) outEv.bootEventLog = b(ev.bootEventLog, 'evidence.bootEventLog');
  if (ev.cvm !== undefined) outEv.cvm = cvmToCbor(obj(ev.cvm, 'evidence.cvm'));
  return encodeCbor({ ...doc, statement: b(doc.statement, 'statement'), evidence: outEv });
}
