/**
 * AIBOM v1 documents (spec/aibom-v1.md): `{"_type": "https://aicert.dev/aibom/v1", "statement": <exact in-toto
 * Statement bytes>, "evidence": {...}}` in JSON (bytes as canonical base64) or CBOR (bytes as byte strings).
 * Unknown fields are ignored (in-toto rule); unknown major versions are refused.
 */
import { hashAlgByName, hashName } from '../util/hash.js';
import { MalformedInputError } from '../errors.js';
import { pcrValuesFromJson } from '../tpm/pcr-values.js';
import { MAX_PEM_TEXT } from '../tpm/pem.js';
import { encodeCbor } from './cbor.js';
import { arr, bytesField, canonicalBase64, isObj, lowerHex, obj, optStr, parseStrictJson, str, type Obj } from './json.js';
import type { Evidence } from './types.js';
import { toBase64 } from '../util/bytes.js';
import { cvmToCbor, parseCvmEvidence } from './cvm.js';

export const AIBOM_V1_TYPE = 'https://aicert.dev/aibom/v1';
export const INTOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
const TYPE_RE = /^https:\/\/aicert\.dev\/aibom\/v(\d+)(?:\.(\d+))?$/;

/** True when a parsed document claims to be an AIBOM (any version). */
export function isAibomDocument(v: unknown): v is Obj {
  return isObj(v) && typeof v._type === 'string' && v._type.startsWith('https://aicert.dev/aibom/');
}

/** Refuses every major version but 1. */
function checkVersion(t: string): void {
  const m = TYPE_RE.exec(t);
  if (!m) throw new MalformedInputError(`unrecognised _type "${t.slice(0, 80)}"`, { path: '_type' });
  if (m[1] !== '1') throw new MalformedInputError(`unsupported AIBOM major version ${m[1]} (this verifier reads v1)`, { path: '_type' });
}

/** The statement: exact bytes, strict JSON, in-toto Statement v1 with an SLSA provenance v1 predicate. */
export function parseStatement(bytes: Uint8Array): Obj {
  const s = obj(parseStrictJson(bytes, 'statement'), 'statement');
  if (s._type !== INTOTO_STATEMENT_V1) throw new MalformedInputError(`statement _type is not ${INTOTO_STATEMENT_V1}`, { path: 'statement._type' });
  if (s.predicateType !== SLSA_PROVENANCE_V1) throw new MalformedInputError(`predicateType is not ${SLSA_PROVENANCE_V1}`, { path: 'statement.predicateType' });
  arr(s.subject, 'statement.subject').forEach((x, i) => {
    const o = obj(x, `statement.subject[${i}]`);
    str(o.name, `statement.subject[${i}].name`);
    obj(o.digest, `statement.subject[${i}].digest`);
  });
  const p = obj(s.predicate, 'statement.predicate');
  const bd = obj(p.buildDefinition, 'statement.predicate.buildDefinition');
  str(bd.buildType, 'statement.predicate.buildDefinition.buildType');
  arr(bd.resolvedDependencies ?? [], 'statement.predicate.buildDefinition.resolvedDependencies');
  const rd = obj(p.runDetails, 'statement.predicate.runDetails');
  str(obj(rd.builder, 'statement.predicate.runDetails.builder').id, 'statement.predicate.runDetails.builder.id');
  return s;
}

/** Largest PEM text accepted in one akCertificates entry (certificates are at most 64 KiB of DER each). */
const B64_LINE = /^[A-Za-z0-9+/]{64}$/;
const B64_LAST = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * PEM certificate text in RFC 7468 §3 strict form (64-column base64 lines, LF, nothing outside the blocks) with
 * canonical base64 bodies (unused bits zero), so no two texts give one DER. Checked line by line: linear in the
 * text, bounded, no backtracking regular expression over the whole text.
 */
function canonicalPem(text: string, path: string): string {
  const bad = (why: string): never => {
    throw new MalformedInputError(`PEM text is not in strict RFC 7468 form (${why})`, { path });
  };
  if (text.length > MAX_PEM_TEXT) bad(`larger than ${MAX_PEM_TEXT} characters`);
  const lines = text.split('\n');
  if (lines.pop() !== '') bad('it must end with a line feed');
  let i = 0;
  while (i < lines.length) {
    if (lines[i++] !== '-----BEGIN CERTIFICATE-----') bad('text outside the blocks');
    const body: string[] = [];
    while (i < lines.length && lines[i] !== '-----END CERTIFICATE-----') body.push(lines[i++]!);
    if (i++ >= lines.length) bad('no END line');
    if (body.length === 0) bad('empty block');
    body.forEach((l, k) => {
      if (l.length > 64 || !(k === body.length - 1 ? B64_LAST : B64_LINE).test(l)) bad(`line ${k + 1} of a block is not 64-column base64`);
    });
    canonicalBase64(body.join(''), path);
  }
  return text;
}

/**
 * Largest boot event log a document may carry (spec/aibom-v1.md): real firmware logs are tens of KiB; the cap keeps a
 * hostile log from costing parse and replay time and memory before the quote has judged anything.
 */
export const MAX_BOOT_EVENT_LOG = 4 * 1024 * 1024;

/** App event lists by PCR: only "14" and "8" are defined; any other key is refused (it could not be checked). */
function appLog(v: unknown): { pcr14: string[]; pcr8: string[] } {
  const o = obj(v, 'evidence.appEventLog');
  for (const k of Object.keys(o)) if (k !== '14' && k !== '8') throw new MalformedInputError(`app events for PCR ${k.slice(0, 8)} are not defined in v1`, { path: `evidence.appEventLog.${k}` });
  const list = (k: string): string[] => arr(o[k] ?? [], `evidence.appEventLog.${k}`).map((s, i) => str(s, `evidence.appEventLog.${k}[${i}]`));
  return { pcr14: list('14'), pcr8: list('8') };
}

/** Parses a v1 document (already decoded from JSON or CBOR). */
export function parseV1(doc: Obj): Evidence {
  checkVersion(str(doc._type, '_type'));
  const statementBytes = bytesField(doc.statement, 'statement');
  const statement = parseStatement(statementBytes);
  const ev = obj(doc.evidence, 'evidence');
  const tpm = obj(ev.tpm, 'evidence.tpm');
  const pcrsJson = obj(tpm.pcrs, 'evidence.tpm.pcrs');
  // Canonical lowercase hex for every PCR value (no two texts for one value), then the shared PCR parser.
  for (const [bank, m] of Object.entries(pcrsJson)) {
    const alg = hashAlgByName(bank);
    if (alg === undefined || hashName(alg) !== bank) throw new MalformedInputError(`bank name must be a canonical lowercase name such as sha256`, { path: `evidence.tpm.pcrs.${bank}` });
    for (const [k, h] of Object.entries(obj(m, `evidence.tpm.pcrs.${bank}`))) {
      if (String(Number(k)) !== k) throw new MalformedInputError('PCR index must be a canonical decimal', { path: `evidence.tpm.pcrs.${bank}.${k}` });
      lowerHex(h, `evidence.tpm.pcrs.${bank}.${k}`);
    }
  }
  const pcrs = pcrValuesFromJson(pcrsJson, 'evidence.tpm.pcrs');
  const certs = arr(tpm.akCertificates ?? (ev.cvm !== undefined ? [] : undefined), 'evidence.tpm.akCertificates').map((c, i) =>
    typeof c === 'string' && c.includes('-----BEGIN') ? canonicalPem(c, `evidence.tpm.akCertificates[${i}]`) : bytesField(c, `evidence.tpm.akCertificates[${i}]`),
  );
  // Confidential VMs: the hardware report vouches for the AK instead of a certificate (spec/confidential-vms.md).
  const cvm = ev.cvm !== undefined ? parseCvmEvidence(ev.cvm) : undefined;
  if (certs.length === 0 && !cvm) throw new MalformedInputError('no AK certificate', { path: 'evidence.tpm.akCertificates' });
  const tls = optStr(ev.tlsCertificate, 'evidence.tlsCertificate');
  const nonce = lowerHex(ev.nonce, 'evidence.nonce');
  if (nonce.length < 16 || nonce.length > 64) throw new MalformedInputError('nonce must be 16..64 bytes', { path: 'evidence.nonce' });
  return {
    format: 'aibom-v1',
    simulation: false,
    tpm: {
      attest: bytesField(tpm.attest, 'evidence.tpm.attest'),
      signature: bytesField(tpm.signature, 'evidence.tpm.signature'),
      pcrs,
      ...(tpm.akPublic !== undefined ? { akPublic: bytesField(tpm.akPublic, 'evidence.tpm.akPublic') } : {}),
      akCertificates: certs,
    },
    ...(cvm ? { cvm } : {}),
    ...(ev.bootEventLog !== undefined ? { bootEventLog: bytesField(ev.bootEventLog, 'evidence.bootEventLog', MAX_BOOT_EVENT_LOG) } : {}),
    app: appLog(ev.appEventLog),
    ...(tls !== undefined ? { tlsCertificate: tls } : {}),
    nonce,
    statementBytes,
    statement,
    warnings: [],
  };
}

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

/** Converts a decoded CBOR v1 document to the JSON form (byte strings become canonical base64). */
export function aibomToJson(doc: Obj): Obj {
  const conv = (v: unknown): unknown =>
    v instanceof Uint8Array ? toBase64(v) : Array.isArray(v) ? v.map(conv) : isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)])) : v;
  return conv(doc) as Obj;
}
