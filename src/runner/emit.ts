/**
 * Emits the two documents of a measured run: the original aicert `attestation.json` (spec/aibom-v1.md §7) and our
 * AIBOM v1 (spec/aibom-v1.md) in JSON and CBOR. The v1 statement is derived from the measured event strings, so its
 * claims equal what PCR 14 / PCR 8 say by construction.
 * in-toto Statement v1: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
 * SLSA provenance v1: https://slsa.dev/spec/v1.0/provenance
 */
import { createHash } from 'node:crypto';
import { writeCbor } from '../util/cbor-write.js';
import { readJson } from '../util/json.js';
import type { QuoteResult } from './tpm.js';
import { cvmEvidence, type CvmEvidenceInput } from './hcl.js';

const b64 = (b: Uint8Array | string): string =>
  Buffer.from(typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('base64');

/** AK certificate chain element: DER bytes or PEM text. */
export type CertInput = Uint8Array | string;

/** The original `attestation.json` (bytes as {"base64": …}; cert_chain: AK DER first, then PEMs). */
export function buildLegacyAttestation(i: {
  caCert: string;
  eventLog: readonly string[];
  outputEventLog: readonly string[];
  quote: QuoteResult;
  certChain: readonly CertInput[];
}): Record<string, unknown> {
  return {
    ca_cert: i.caCert,
    event_log: [...i.eventLog],
    output_event_log: [...i.outputEventLog],
    remote_attestation: {
      quote: {
        message: { base64: b64(i.quote.message) },
        signature: { base64: b64(i.quote.signature) },
        pcr: { base64: b64(i.quote.pcrFile) },
      },
      cert_chain: i.certChain.map((c) => ({ base64: b64(c) })),
    },
  };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown, what: string): Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${what}: not an object`);
  return v as Obj;
};
const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new TypeError(`${what}: not a string`);
  return v;
};

/** Hex digest from `sha1:<hex>`, `sha256:<hex>` or the original's quirk `sha1:b'<hex>\n'`. */
export function digestFromResolved(v: string): { alg: string; hex: string } {
  const m = /^(sha1|sha256):(?:b'([0-9a-f]+)(?:\\n)?'|([0-9a-f]+))\s*$/.exec(v);
  if (!m) throw new TypeError(`unrecognized resolved hash: ${v}`);
  return { alg: m[1]!, hex: (m[2] ?? m[3])! };
}

/** Run metadata that is not in the events. */
export interface RunMeta {
  invocationId: string;
  startedOn: string;
  finishedOn: string;
}

/** Builds the exact in-toto Statement bytes from the PCR 14 input events and the PCR 8 outputs event. */
export function buildStatement(inputEvents: readonly string[], outputsEvent: string, meta: RunMeta): Uint8Array {
  const deps: Obj[] = [];
  const byproducts: Obj[] = [];
  let config: unknown;
  let configSha: string | undefined;
  let flos = 0;
  let flosSeen = false;
  // Walk the input events in order; each contributes one dependency or byproduct.
  for (const [n, s] of inputEvents.entries()) {
    // Our own measured strings, still read strictly (spec/strict-encodings.md §JSON): what is hashed is what is read.
    const ev = obj(readJson(s, `event ${n}`), `event ${n}`);
    // The launch event binds the VM, not an input of the build.
    if (ev.event_type === 'launch') continue;
    const content = obj(ev.content, `event ${n}.content`);
    const spec = obj(content.spec, `event ${n}.content.spec`);
    switch (ev.event_type) {
      case 'axolotl_configuration':
        config = spec.config_file;
        configSha = str(obj(content.resolved, 'config.resolved').hash, 'config.resolved.hash');
        break;
      case 'input_image': {
        const id = digestFromResolved(str(obj(content.resolved, 'image.resolved').id, 'image.resolved.id'));
        deps.push({ name: str(spec.image_name, 'image_name'), digest: { sha256: id.hex }, annotations: { role: 'image' } });
        break;
      }
      case 'input_resource': {
        const r = obj(spec.resource_proto, 'resource_proto');
        const role = str(r.resource_type, 'resource_type');
        const commit = digestFromResolved(str(obj(content.resolved, 'resource.resolved').hash, 'resource.resolved.hash'));
        const d: Obj = {
          name: role === 'model' ? 'base_model' : 'dataset',
          uri: str(r.repo, 'repo'),
          digest: { gitCommit: commit.hex },
          annotations: role === 'model' ? { role: 'model' } : { role: 'dataset', path: str(r.path, 'path') },
        };
        deps.push(d);
        break;
      }
      case 'timing':
        byproducts.push({ name: 'timing', annotations: { finetune_time: spec.finetune_time } });
        break;
      case 'compute_consumed':
        flos += Number(spec.total_flos);
        flosSeen = true;
        break;
      case 'training_sandbox':
        byproducts.push({ name: 'sandbox', annotations: { ...spec } });
        break;
      default:
        throw new TypeError(`unexpected input event type ${String(ev.event_type)}`);
    }
  }
  if (flosSeen) byproducts.push({ name: 'compute', annotations: { total_flos: flos } });
  if (configSha === undefined) throw new TypeError('no axolotl_configuration event');
  // Order: base model, dataset, images (in measurement order), config.
  const rank = (d: Obj) => (d.name === 'base_model' ? 0 : d.name === 'dataset' ? 1 : 2);
  deps.sort((a, b) => rank(a) - rank(b));
  deps.push({ name: 'config', digest: { sha256: configSha }, annotations: { role: 'config' } });
  const outs = obj(readJson(outputsEvent, 'outputs event'), 'outputs event');
  if (outs.event_type !== 'outputs' || !Array.isArray(outs.content)) throw new TypeError('not an outputs event');
  const subject = outs.content.map((o, n) => ({
    name: str(obj(obj(o, `outputs[${n}]`).spec, 'spec').path, 'path'),
    digest: { sha256: str(obj(obj(o, `outputs[${n}]`).resolved, 'resolved').hash, 'hash') },
  }));
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject,
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://aicert.dev/finetune/axolotl/v1',
        externalParameters: { config },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: 'https://aicert.dev/runner/v1' },
        metadata: { invocationId: meta.invocationId, startedOn: meta.startedOn, finishedOn: meta.finishedOn },
        byproducts,
      },
    },
  };
  return new Uint8Array(Buffer.from(JSON.stringify(statement, null, 2) + '\n', 'utf8'));
}

/** Inputs of an AIBOM v1 document. */
export interface AibomV1Input {
  statement: Uint8Array;
  quote: QuoteResult;
  /** sha256 PCR values that were quoted, index → hex. */
  pcrs: Record<number, string>;
  akPublic?: Uint8Array;
  /** Leaf first. */
  akCertificates: readonly CertInput[];
  appEventLog: { 14: readonly string[]; 8: readonly string[] };
  tlsCertificate?: string;
  bootEventLog?: Uint8Array;
  /** Confidential VMs: the HCL report and VCEK or TD quote (src/runner/hcl.ts). */
  cvm?: CvmEvidenceInput;
  nonceHex: string;
}

/** AIBOM v1 as a JSON-ready object (bytes as base64 strings). */
export function buildAibomV1(i: AibomV1Input): Record<string, unknown> {
  return v1Model(i, (b) => b64(b));
}

/** AIBOM v1 CBOR encoding: the same data model with byte strings as CBOR byte strings (src/util/cbor-write.ts). */
export function encodeAibomV1Cbor(i: AibomV1Input): Uint8Array {
  // Plain major-type-2 byte strings (no tag 64), shortest heads, definite lengths (spec/strict-encodings.md §CBOR writer).
  return writeCbor(v1Model(i, (b) => (typeof b === 'string' ? b : new Uint8Array(b))));
}

/** The v1 data model with a byte encoder (base64 for JSON, raw for CBOR); PEM certificates stay text. */
function v1Model(i: AibomV1Input, bytes: (b: Uint8Array) => unknown): Record<string, unknown> {
  const pcrs: Record<string, string> = {};
  for (const k of Object.keys(i.pcrs).map(Number).sort((a, b) => a - b)) pcrs[String(k)] = i.pcrs[k]!;
  const tpm: Record<string, unknown> = {
    attest: bytes(i.quote.message),
    signature: bytes(i.quote.signature),
    pcrs: { sha256: pcrs },
  };
  if (i.akPublic) tpm.akPublic = bytes(i.akPublic);
  tpm.akCertificates = i.akCertificates.map((c) => (typeof c === 'string' ? c : bytes(c)));
  const evidence: Record<string, unknown> = { tpm };
  if (i.cvm) evidence.cvm = cvmEvidence(i.cvm, bytes);
  if (i.bootEventLog) evidence.bootEventLog = bytes(i.bootEventLog);
  evidence.appEventLog = { '14': [...i.appEventLog[14]], '8': [...i.appEventLog[8]] };
  if (i.tlsCertificate !== undefined) evidence.tlsCertificate = i.tlsCertificate;
  evidence.nonce = i.nonceHex;
  return { _type: 'https://aicert.dev/aibom/v1', statement: bytes(i.statement), evidence };
}

/** qualifyingData of a v1 quote: sha256(D ‖ nonce), D = sha256(statement bytes). */
export function v1Qualification(statement: Uint8Array, nonceHex: string): string {
  if (!/^([0-9a-f]{2})+$/.test(nonceHex)) throw new TypeError('nonce must be lowercase hex');
  const d = createHash('sha256').update(statement).digest();
  return createHash('sha256').update(d).update(Buffer.from(nonceHex, 'hex')).digest('hex');
}
