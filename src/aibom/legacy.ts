/**
 * The original aicert `attestation.json` (mithril-security/aicert, server event_log.py attest(); layout in
 * spec/aibom-v1.md §7): bytes as `{"base64": ...}`, a quote made by tpm2_quote
 * (TPMS_ATTEST, TPMT_SIGNATURE, tpm2-tools serialized PCR file), a cert_chain mixing DER and PEM, event_log (PCR 14),
 * output_event_log (PCR 8), ca_cert (PCR 15), or `{"simulation_mode": true}`.
 */
import { MalformedInputError } from '../errors.js';
import { isTpm2ToolsPcrFile, parseTpm2ToolsPcrFile } from '../tpm/pcr-values.js';
import { tryUtf8Decode } from '../util/bytes.js';
import { arr, canonicalBase64, isObj, obj, str, type Obj } from './json.js';
import type { Evidence } from './types.js';

/** True when a parsed document has the original's shape. */
export function isLegacyDocument(v: unknown): v is Obj {
  return isObj(v) && 'remote_attestation' in v && !('_type' in v);
}

/** `{"base64": "..."}` -> bytes (FastAPI custom_encoder form). */
function b64(v: unknown, path: string): Uint8Array {
  const o = obj(v, path);
  return canonicalBase64(str(o.base64, `${path}.base64`), `${path}.base64`);
}

/** A list of JSON strings (the event lists). */
function strings(v: unknown, path: string): string[] {
  return arr(v, path).map((s, i) => str(s, `${path}[${i}]`));
}

/** cert_chain entries: DER stays bytes; PEM (text in base64) is passed on as text. */
function certEntry(v: unknown, path: string): Uint8Array | string {
  const bytes = b64(v, path);
  if (bytes[0] === 0x30) return bytes;
  const text = tryUtf8Decode(bytes);
  if (text === undefined || !text.includes('-----BEGIN CERTIFICATE-----')) throw new MalformedInputError('certificate is neither DER nor PEM', { path });
  return text;
}

/** Parses an original document (already JSON-parsed) into normalised evidence. */
export function parseLegacy(doc: Obj): Evidence {
  const warnings: string[] = [];
  const app = {
    pcr14: strings(doc.event_log ?? [], 'event_log'),
    pcr8: strings(doc.output_event_log ?? [], 'output_event_log'),
  };
  if (doc.event_log === undefined) warnings.push('event_log absent: treated as empty');
  if (doc.output_event_log === undefined) warnings.push('output_event_log absent: treated as empty');
  const ca = doc.ca_cert === undefined ? '' : str(doc.ca_cert, 'ca_cert');
  const ra = obj(doc.remote_attestation, 'remote_attestation');
  if (ra.simulation_mode !== undefined) {
    if (ra.simulation_mode !== true) throw new MalformedInputError('simulation_mode must be true when present', { path: 'remote_attestation.simulation_mode' });
    return { format: 'aicert-legacy', simulation: true, app, tlsCertificate: ca, warnings };
  }
  const q = obj(ra.quote, 'remote_attestation.quote');
  const attest = b64(q.message, 'remote_attestation.quote.message');
  const signature = b64(q.signature, 'remote_attestation.quote.signature');
  const pcrFile = b64(q.pcr, 'remote_attestation.quote.pcr');
  if (!isTpm2ToolsPcrFile(pcrFile)) throw new MalformedInputError('not a tpm2-tools serialized PCR file', { path: 'remote_attestation.quote.pcr' });
  const { values } = parseTpm2ToolsPcrFile(pcrFile);
  const chain = arr(ra.cert_chain, 'remote_attestation.cert_chain').map((c, i) => certEntry(c, `remote_attestation.cert_chain[${i}]`));
  if (chain.length === 0) throw new MalformedInputError('cert_chain is empty', { path: 'remote_attestation.cert_chain' });
  if (!(chain[0] instanceof Uint8Array)) warnings.push('cert_chain[0] (the AK certificate) is PEM; the original stores DER from NV 0x01C101D0');
  return {
    format: 'aicert-legacy',
    simulation: false,
    tpm: { attest, signature, pcrs: values, akCertificates: chain },
    app,
    tlsCertificate: ca,
    warnings,
  };
}
