/**
 * Test fixtures for the AIBOM tests, assembled from REAL swtpm evidence in testvectors/quote (made by
 * testvectors/gen-quote.sh with tpm2-tools). Expected values come from that manifest (tpm2_pcrread) or are computed
 * here with node:crypto, never from the code under test.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const QUOTE_DIR = resolve(import.meta.dirname, '../../testvectors/quote');
export const AIBOM_DIR = resolve(import.meta.dirname, '../../testvectors/aibom');

export interface QuoteManifest {
  generated_at: string;
  nonce: string;
  pcrs: { sha256: Record<string, string> };
  events: { seq: number; pcr: number; file: string; sha256: string }[];
  cases: { name: string; dir: string; kind: string; nonce?: string; expected: { verdict: string; error: string | null } }[];
}

/** The quote vectors' manifest, or undefined (tests skip) when they were not generated. */
export function quoteManifest(): QuoteManifest | undefined {
  const p = resolve(QUOTE_DIR, 'manifest.json');
  if (!existsSync(p)) {
    console.warn(`NOTICE: ${p} absent (run npm run vectors); AIBOM tests on real quotes are skipped.`);
    return undefined;
  }
  return JSON.parse(readFileSync(p, 'utf8')) as QuoteManifest;
}

export const qfile = (rel: string): Buffer => readFileSync(resolve(QUOTE_DIR, rel));
export const b64 = (b: Uint8Array): { base64: string } => ({ base64: Buffer.from(b).toString('base64') });
export const sha256hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Independent PCR replay with node:crypto: sha256(pcr ‖ sha256(event)) from zero. */
export function replayHex(events: (string | Uint8Array)[]): string {
  let pcr = Buffer.alloc(32);
  for (const e of events) pcr = createHash('sha256').update(pcr).update(createHash('sha256').update(e).digest()).digest();
  return pcr.toString('hex');
}

/** Event strings of the quote vectors by PCR, in extension order. */
export function vectorEvents(m: QuoteManifest, pcr: number): string[] {
  return m.events.filter((e) => e.pcr === pcr).map((e) => qfile(e.file).toString('utf8'));
}

/**
 * An original-format attestation.json from a quote-vector case: quote message/signature/tpm2-tools PCR file,
 * cert_chain = [AK cert DER, intermediate PEM, root PEM], event_log = the PCR 14 events, output_event_log = PCR 8,
 * ca_cert = the PEM extended into PCR 15.
 */
export function legacyDoc(m: QuoteManifest, dir = 'ak-rsa', certDir = dir): Record<string, unknown> {
  const d = (f: string): Buffer => qfile(`${dir}/${f}`);
  return {
    ca_cert: vectorEvents(m, 15)[0],
    event_log: vectorEvents(m, 14),
    output_event_log: vectorEvents(m, 8),
    remote_attestation: {
      quote: { message: b64(d('quote.msg')), signature: b64(d('quote.sig')), pcr: b64(d('quote.pcrs')) },
      cert_chain: [b64(qfile(`${certDir}/ak.crt.der`)), b64(qfile('ca/intermediate.pem')), b64(qfile('ca/root.pem'))],
    },
  };
}

/** The original golden-values file for the quoted PCRs (values from tpm2_pcrread in the manifest). */
export const measurementsOf = (m: QuoteManifest, pcrs: number[]): { measurements: Record<string, string> } => ({
  measurements: Object.fromEntries(pcrs.map((p) => [String(p), m.pcrs.sha256[String(p)]!])),
});

/** A minimal well-formed in-toto Statement v1 / SLSA provenance v1 (for v1 parser tests). */
export function statementJson(subjects: { name: string; sha256: string }[], deps: unknown[] = []): string {
  return JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://aicert.dev/finetune/axolotl/v1', externalParameters: {}, resolvedDependencies: deps },
      runDetails: { builder: { id: 'https://aicert.dev/runner/v1' }, metadata: { invocationId: 'test' } },
    },
  });
}

/**
 * An AIBOM v1 document around a quote-vector case. The app events are well-formed aicert events that were NOT
 * extended into this TPM, and the quote was not bound to this statement: such documents must fail at the latest at
 * binding.quote; they exercise steps 1–4 with real quotes, signatures and certificates.
 */
export function v1FromVector(dir: string, certDir = dir): Record<string, unknown> {
  const d = (f: string): Buffer => qfile(`${dir}/${f}`);
  const certPath = existsSync(resolve(QUOTE_DIR, certDir, 'ak.crt.der')) ? `${certDir}/ak.crt.der` : `${certDir.includes('ecc') ? 'ak-ecc' : 'ak-rsa'}/ak.crt.der`;
  const out = JSON.stringify([{ spec: { path: 'model.bin' }, resolved: { hash: 'ab'.repeat(32) } }]);
  return {
    _type: 'https://aicert.dev/aibom/v1',
    statement: Buffer.from(statementJson([{ name: 'model.bin', sha256: 'ab'.repeat(32) }])).toString('base64'),
    evidence: {
      tpm: {
        attest: d('quote.msg').toString('base64'),
        signature: d('quote.sig').toString('base64'),
        pcrs: { sha256: pcrsOfCase(dir) },
        akPublic: d('ak.pub').toString('base64'),
        akCertificates: [qfile(certPath).toString('base64'), existsSync(resolve(QUOTE_DIR, certDir, 'intermediate.der')) ? qfile(`${certDir}/intermediate.der`).toString('base64') : qfile('ca/intermediate.pem').toString('utf8')],
      },
      appEventLog: { '14': [], '8': [`{"event_type": "outputs", "content": ${out.replace(/,/g, ', ').replace(/:/g, ': ')}}`] },
      nonce: '00'.repeat(32),
    },
  };
}

/** PCR values of a case as hex JSON, from its tpm2-tools PCR file (parsed here independently: 132 B selection, u32 count, 532 B digest lists). */
export function pcrsOfCase(dir: string): Record<string, string> {
  const b = qfile(`${dir}/quote.pcrs`);
  const banks = b.readUInt32LE(0);
  const pcrs: number[] = [];
  for (let i = 0; i < banks; i++) {
    const off = 4 + i * 8;
    const size = b[off + 2]!;
    for (let j = 0; j < size; j++) for (let k = 0; k < 8; k++) if (b[off + 3 + j]! & (1 << k)) pcrs.push(8 * j + k);
  }
  const lists = b.readUInt32LE(132);
  const values: string[] = [];
  for (let l = 0; l < lists; l++) {
    const base = 136 + l * 532;
    const n = b.readUInt32LE(base);
    for (let i = 0; i < n; i++) {
      const o = base + 4 + i * 66;
      values.push(b.subarray(o + 2, o + 2 + b.readUInt16LE(o)).toString('hex'));
    }
  }
  return Object.fromEntries(pcrs.map((p, i) => [String(p), values[i]!]));
}
