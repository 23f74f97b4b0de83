// The attacker's mutations for gen-aibom.mjs. Each case is one document (original attestation.json, AIBOM v1 JSON or
// CBOR) plus the CLI arguments that differ from the defaults, and the exit code aicert-verify must give.
// Expected codes are hints for the first failing check; the exit code is what the manifest pins.
import { Encoder, decode as cborDecode } from 'cbor-x';

const cborEncode = (v) => new Encoder({ useRecords: false, variableMapSize: true, tagUint8Array: false }).encode(v);

const clone = (o) => JSON.parse(JSON.stringify(o));
const json = (o) => Buffer.from(JSON.stringify(o, null, 2) + '\n');
const flipBit = (buf, off, bit = 0) => {
  const b = Buffer.from(buf);
  b[off] ^= 1 << bit;
  return b;
};
const flipHexChar = (h, i) => h.slice(0, i) + (h[i] === '0' ? '1' : '0') + h.slice(i + 1);
const b64 = (b) => Buffer.from(b).toString('base64');
const unb64 = (s) => Buffer.from(s, 'base64');

/** Replaces `from` with `to` (exactly once) inside event string N of a list. */
function editEvent(list, n, from, to) {
  const s = list[n];
  if (!s.includes(from)) throw new Error(`event ${n} has no '${from}'`);
  return list.map((x, i) => (i === n ? s.replace(from, to) : x));
}

/** Builds every case. ctx: base documents, offsets and paths prepared by gen-aibom.mjs. */
export function buildCases(ctx) {
  const { legacy, v1, v1Cbor, q13 } = ctx;
  const L = (name, description, expect, doc, extra = {}) => ({ name, format: 'legacy', file: 'attestation.json', description, expect, doc, ...extra });
  const V = (name, description, expect, doc, extra = {}) => ({ name, format: 'v1-json', file: 'aibom.json', description, expect, doc, ...extra });
  const C = (name, description, expect, doc, extra = {}) => ({ name, format: 'v1-cbor', file: 'aibom.cbor', description, expect, doc, ...extra });
  const ok = { exit: 0, code: null };
  const fail = (code) => ({ exit: 1, code });
  const bad = { exit: 2, code: 'MALFORMED_INPUT' };
  const cases = [];
  const both = (name, description, expect, mutL, mutV, extra = {}) => {
    cases.push(L(`legacy-${name}`, description, expect, mutL(clone(legacy)), extra));
    cases.push(V(`v1-${name}`, description, expect, mutV(clone(v1)), extra));
  };
  const setL = (f) => (d) => (f(d), json(d));
  const setV = (f) => (d) => (f(d), json(d));
  const idxOf = (list, type) => list.findIndex((s) => JSON.parse(s).event_type === type);
  const datasetIdx = (list) => list.findIndex((s) => s.includes('"resource_type": "dataset"'));

  // ---- genuine documents
  cases.push(L('legacy-valid', 'Genuine original-format attestation.json from swtpm.', ok, json(legacy)));
  cases.push(V('v1-valid', 'Genuine AIBOM v1 (JSON) from the same run.', ok, json(v1)));
  cases.push(C('v1-cbor-valid', 'Genuine AIBOM v1, CBOR encoding.', ok, Buffer.from(v1Cbor)));
  cases.push(V('v1-valid-nonce', 'Genuine AIBOM v1 with --nonce equal to evidence.nonce (freshness checked).', ok, json(v1), { args: { nonce: v1.evidence.nonce } }));
  both('valid-model', 'Genuine document; --model points at the real outputs.', ok, (d) => json(d), (d) => json(d), { args: { model: 'outputs' } });
  both('model-mismatch', 'Genuine document; one weights file on disk has one bit flipped.', fail('ARTIFACT_MISMATCH'), (d) => json(d), (d) => json(d),
    { args: { model: 'CASE/outputs' }, outputsMutation: true });

  // ---- app event log: tampered, reordered, dropped (the quote stays genuine; the replay no longer matches)
  both('event-tampered', 'Dataset repo in the PCR 14 input_resource event rewritten.', fail('PCR_REPLAY_MISMATCH'),
    setL((d) => (d.event_log = editEvent(d.event_log, datasetIdx(d.event_log), 'tiny-instruct', 'tiny-instruX'))),
    setV((d) => (d.evidence.appEventLog['14'] = editEvent(d.evidence.appEventLog['14'], datasetIdx(d.evidence.appEventLog['14']), 'tiny-instruct', 'tiny-instruX'))));
  const swap = (l) => { const a = [...l]; [a[2], a[3]] = [a[3], a[2]]; return a; };
  both('event-reordered', 'PCR 14 events 2 and 3 (model, dataset) swapped.', fail('PCR_REPLAY_MISMATCH'),
    setL((d) => (d.event_log = swap(d.event_log))), setV((d) => (d.evidence.appEventLog['14'] = swap(d.evidence.appEventLog['14']))));
  const drop = (l) => l.filter((_, i) => i !== idxOf(l, 'compute_consumed'));
  both('event-dropped', 'The compute_consumed event removed from PCR 14.', fail('PCR_REPLAY_MISMATCH'),
    setL((d) => (d.event_log = drop(d.event_log))), setV((d) => (d.evidence.appEventLog['14'] = drop(d.evidence.appEventLog['14']))));
  const outHash = ctx.outputs[0].sha256;
  both('output-tampered', 'Hash of the first output rewritten in the PCR 8 outputs event.', fail('PCR_REPLAY_MISMATCH'),
    setL((d) => (d.output_event_log = editEvent(d.output_event_log, 0, outHash, flipHexChar(outHash, 0)))),
    setV((d) => (d.evidence.appEventLog['8'] = editEvent(d.evidence.appEventLog['8'], 0, outHash, flipHexChar(outHash, 0)))));
  // The attacker also rewrites the quoted PCR 14 so the replay matches: the quote's PCR digest then breaks.
  both('event-and-pcr-forged', 'Dataset event rewritten AND the PCR 14 value set to the forged replay.', fail('PCR_DIGEST_MISMATCH'),
    setL((d) => {
      d.event_log = editEvent(d.event_log, datasetIdx(d.event_log), 'tiny-instruct', 'tiny-instruX');
      const pf = unb64(d.remote_attestation.quote.pcr.base64);
      Buffer.from(ctx.replay14(d.event_log), 'hex').copy(pf, ctx.pcrOffset(14));
      d.remote_attestation.quote.pcr.base64 = b64(pf);
    }),
    setV((d) => {
      d.evidence.appEventLog['14'] = editEvent(d.evidence.appEventLog['14'], datasetIdx(d.evidence.appEventLog['14']), 'tiny-instruct', 'tiny-instruX');
      d.evidence.tpm.pcrs.sha256['14'] = ctx.replay14(d.evidence.appEventLog['14']);
    }));

  // ---- v1 statement and binding
  cases.push(V('v1-statement-tampered', 'Statement bytes changed (first subject digest); D no longer matches the aibom_statement event.', fail('BINDING_MISMATCH'),
    setV((d) => (d.statement = b64(Buffer.from(unb64(d.statement).toString('utf8').replace(outHash, flipHexChar(outHash, 0))))))(clone(v1))));
  cases.push(V('v1-nonce-field-tampered', 'evidence.nonce replaced: qualifyingData != sha256(D ‖ nonce).', fail('NONCE_MISMATCH'),
    setV((d) => (d.evidence.nonce = ctx.otherNonce))(clone(v1))));
  cases.push(V('v1-wrong-nonce', 'Genuine document, but the verifier expects another nonce (--nonce).', fail('NONCE_MISMATCH'), json(v1), { args: { nonce: ctx.otherNonce } }));
  cases.push(L('legacy-wrong-nonce', 'Genuine original document (no nonce in its quote) checked with --nonce.', fail('NONCE_MISMATCH'), json(legacy), { args: { nonce: ctx.otherNonce } }));

  // ---- AK certificate chain
  both('untrusted-root', 'Genuine document checked against a different trust root.', fail('CERT_UNTRUSTED_ROOT'), json, json,
    { args: { trustRoot: 'ca/untrusted-root.pem' }, certCode: 'CERT_UNTRUSTED_ROOT' });
  const withLeaf = (leafDer, code) => [
    setL((d) => (d.remote_attestation.cert_chain[0] = { base64: b64(leafDer) })),
    setV((d) => (d.evidence.tpm.akCertificates[0] = b64(leafDer))),
  ];
  both('ak-cert-expired', 'AK certificate replaced by one valid 2020-01-01..2021-01-01 (same key, same issuer).', fail('CERT_EXPIRED'),
    ...withLeaf(ctx.certs.expired), { certCode: 'CERT_EXPIRED' });
  both('ak-cert-other-key', 'AK certificate (valid chain) that certifies a different TPM key.', fail('AK_KEY_MISMATCH'),
    ...withLeaf(ctx.certs.otherKey), { certCode: 'AK_KEY_MISMATCH' });
  both('ak-cert-no-aik-eku', 'AK certificate with EKU serverAuth instead of tcg-kp-AIKCertificate (2.23.133.8.3).', fail('CERT_EKU_MISSING'),
    ...withLeaf(ctx.certs.wrongEku), { certCode: 'CERT_EKU_MISSING' });

  // ---- quote bytes
  const q = (d) => d.remote_attestation.quote;
  both('signature-tampered', 'One bit of the TPMT_SIGNATURE flipped.', fail('SIGNATURE_INVALID'),
    setL((d) => (q(d).signature.base64 = b64(flipBit(unb64(q(d).signature.base64), ctx.sigFlipOffset)))),
    setV((d) => (d.evidence.tpm.signature = b64(flipBit(unb64(d.evidence.tpm.signature), ctx.sigFlipOffset)))));
  both('attest-tampered', 'One bit of TPMS_ATTEST clockInfo.clock flipped (signature no longer covers it).', fail('SIGNATURE_INVALID'),
    setL((d) => (q(d).message.base64 = b64(flipBit(unb64(q(d).message.base64), ctx.clockOffsetLegacy + 7)))),
    setV((d) => (d.evidence.tpm.attest = b64(flipBit(unb64(d.evidence.tpm.attest), ctx.clockOffsetV1 + 7)))));
  both('pcr-value-tampered', 'Quoted PCR 0 value changed (PCR digest no longer matches).', fail('PCR_DIGEST_MISMATCH'),
    setL((d) => (q(d).pcr.base64 = b64(flipBit(unb64(q(d).pcr.base64), ctx.pcrOffset(0) + 31)))),
    setV((d) => (d.evidence.tpm.pcrs.sha256['0'] = flipHexChar(d.evidence.tpm.pcrs.sha256['0'], 63))));
  both('quote-pcrs-0-13', 'A genuine quote over sha256:0-13 only: PCRs 8, 14 and 15 are not covered.', fail('PCR_NOT_QUOTED'),
    setL((d) => (d.remote_attestation.quote = { message: { base64: b64(q13.legacy.message) }, signature: { base64: b64(q13.legacy.signature) }, pcr: { base64: b64(q13.legacy.pcrFile) } })),
    setV((d) => {
      d.evidence.tpm.attest = b64(q13.v1.message);
      d.evidence.tpm.signature = b64(q13.v1.signature);
      d.evidence.tpm.pcrs.sha256 = Object.fromEntries(Object.entries(d.evidence.tpm.pcrs.sha256).filter(([k]) => Number(k) <= 13));
    }), { pcrTemplate: '0-13' });

  // ---- policy
  both('pcr0-mismatch', 'Genuine document; the golden PCR 0 in measurements.json differs from the quoted value.', fail('POLICY_PCR_MISMATCH'), json, json,
    { args: { measurements: 'CASE/measurements.json' }, caseFiles: { 'measurements.json': json(ctx.measurementsPcr0Bad) } });
  both('unknown-container', 'Genuine document; containers.json does not know the measured axolotl image id.', fail('POLICY_CONTAINER_UNKNOWN'), json, json,
    { args: { containers: 'CASE/containers.json' }, caseFiles: { 'containers.json': json(ctx.containersOther) } });
  cases.push(L('legacy-simulation-mode', 'remote_attestation = {"simulation_mode": true}: no quote at all.', fail('SIMULATION_MODE'),
    setL((d) => (d.remote_attestation = { simulation_mode: true }))(clone(legacy))));

  // ---- malformed input (exit 2)
  const lj = json(legacy), vj = json(v1);
  cases.push(L('legacy-truncated-json', 'attestation.json cut in half.', bad, lj.subarray(0, lj.length >> 1)));
  cases.push(V('v1-truncated-json', 'aibom.json cut in half.', bad, vj.subarray(0, vj.length >> 1)));
  cases.push(C('v1-cbor-truncated', 'aibom.cbor cut in half.', bad, Buffer.from(v1Cbor).subarray(0, v1Cbor.length >> 1)));
  cases.push(L('legacy-garbage-base64', 'quote.message.base64 is not base64.', bad, setL((d) => (q(d).message.base64 = 'not*base64!!'))(clone(legacy))));
  cases.push(V('v1-garbage-base64', 'evidence.tpm.attest is not base64.', bad, setV((d) => (d.evidence.tpm.attest = 'not*base64!!'))(clone(v1))));
  cases.push(C('v1-cbor-event-tampered', 'CBOR document with the dataset event rewritten.', fail('PCR_REPLAY_MISMATCH'), (() => {
    const d = cborDecode(Buffer.from(v1Cbor));
    d.evidence.appEventLog['14'] = editEvent(d.evidence.appEventLog['14'], datasetIdx(d.evidence.appEventLog['14']), 'tiny-instruct', 'tiny-instruX');
    return Buffer.from(cborEncode(d));
  })()));
  return cases;
}
