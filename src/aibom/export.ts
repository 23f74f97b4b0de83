/**
 * Standard exports of an AIBOM: the in-toto Statement (the exact signed-over bytes of an AIBOM v1, or one synthesized
 * from an original attestation's measured events) and a CycloneDX 1.6 ML-BOM. Exports describe; they verify nothing
 * (run verifyAibom first). in-toto Statement v1: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
 * CycloneDX 1.6: https://cyclonedx.org/docs/1.6/json/ (machine-learning-model, pedigree, data, formulation).
 */
import { toHex, utf8 } from '../util/bytes.js';
import { hash, TPM_ALG } from '../util/hash.js';
import { claimsFromFacts } from './claims.js';
import { decodeEvents, readFacts } from './events.js';
import { isObj, type Obj } from './json.js';
import { parseAibom } from './parse.js';
import type { Claims, Evidence, PinnedRepo } from './types.js';

const sha256hex = (b: Uint8Array): string => toHex(hash(TPM_ALG.SHA256, b));

/** What an export is made from: the parsed evidence, the statement and the claims its events state. */
interface Source {
  ev: Evidence;
  statement: Obj;
  statementBytes: Uint8Array;
  synthesized: boolean;
  claims: Claims;
  docSha256: string;
  warnings: string[];
}

/** in-toto export: exact bytes (v1) or a synthesized, unsigned statement (original documents). */
export interface InTotoExport {
  bytes: Uint8Array;
  statement: Obj;
  synthesized: boolean;
  warnings: string[];
}

/** Options for the CycloneDX export. */
export interface CycloneDxOptions {
  /**
   * Where the AIBOM document is published (externalReference type attestation; its sha256 is pinned there too).
   * Default: a relative reference `aibom.json` / `attestation.json` (the document next to the BOM).
   */
  attestationUrl?: string;
  /** metadata.timestamp; default the statement's finishedOn, when present. */
  timestamp?: string;
  /** Name of the model component; default derived from the first output. */
  modelName?: string;
}

/** Reads a document and gathers everything the exports need. */
function source(doc: Uint8Array | string | object): Source {
  const ev = parseAibom(doc);
  const warnings = [...ev.warnings];
  const events = [...decodeEvents(14, ev.app.pcr14, ev.format === 'aibom-v1', warnings), ...decodeEvents(8, ev.app.pcr8, ev.format === 'aibom-v1', warnings)];
  const claims = claimsFromFacts(readFacts(events, warnings));
  const docBytes = doc instanceof Uint8Array ? doc : utf8(typeof doc === 'string' ? doc : JSON.stringify(doc));
  if (ev.statementBytes && ev.statement) {
    return { ev, statement: ev.statement, statementBytes: ev.statementBytes, synthesized: false, claims, docSha256: sha256hex(docBytes), warnings };
  }
  const statement = synthesize(claims);
  warnings.push('statement synthesized from the measured events of an original attestation; it is not what the TPM quote binds');
  return { ev, statement, statementBytes: utf8(JSON.stringify(statement, null, 2) + '\n'), synthesized: true, claims, docSha256: sha256hex(docBytes), warnings };
}

const pinnedDep = (name: string, r: PinnedRepo, role: string): Obj => ({
  name,
  uri: r.uri,
  digest: { gitCommit: r.revision },
  annotations: role === 'dataset' && r.path ? { role, path: r.path } : { role },
});

/** An in-toto Statement v1 + SLSA provenance v1 with the layout of AIBOM v1, from event claims. */
function synthesize(c: Claims): Obj {
  const deps: Obj[] = [];
  if (c.baseModel) deps.push(pinnedDep('base_model', c.baseModel, 'model'));
  for (const d of c.datasets ?? []) deps.push(pinnedDep('dataset', d, 'dataset'));
  for (const i of c.images ?? []) deps.push({ name: i.name, digest: { [i.digest.split(':')[0]!]: i.digest.split(':')[1] }, annotations: { role: 'image' } });
  if (c.configSha256) deps.push({ name: 'config', digest: { sha256: c.configSha256 }, annotations: { role: 'config' } });
  const byproducts: Obj[] = [];
  if (c.timing?.finetuneSeconds !== undefined) byproducts.push({ name: 'timing', annotations: { finetune_time: c.timing.finetuneSeconds } });
  if (c.compute) byproducts.push({ name: 'compute', annotations: { total_flos: c.compute.totalFlos.reduce((a, b) => a + b, 0) } });
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: (c.outputs ?? []).map((o) => ({ name: o.name, digest: { sha256: o.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://aicert.dev/finetune/axolotl/v1', externalParameters: { config: c.config ?? null }, resolvedDependencies: deps },
      runDetails: { builder: { id: 'https://aicert.dev/runner/original-aicert' }, byproducts },
    },
  };
}

/** The in-toto statement of a document. */
export function exportInToto(doc: Uint8Array | string | object): InTotoExport {
  const s = source(doc);
  return { bytes: s.statementBytes, statement: s.statement, synthesized: s.synthesized, warnings: s.warnings };
}

/** Deterministic RFC 4122 version-5-style UUID from bytes (sha256 truncated). */
function uuidFrom(b: Uint8Array): string {
  const h = hash(TPM_ALG.SHA256, b).slice(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = toHex(h);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** `ORG/REPO` → purl pkg:huggingface/ORG/REPO@rev (purl-spec type huggingface). */
function hfPurl(r: PinnedRepo): string {
  const [org, name] = r.repo.includes('/') ? r.repo.split('/', 2) : ['', r.repo];
  return `pkg:huggingface/${org ? `${encodeURIComponent(org)}/` : ''}${encodeURIComponent(name!)}@${r.revision}`;
}

const prop = (name: string, value: unknown): Obj => ({ name: `aicert:${name}`, value: String(value) });

/** A CycloneDX 1.6 ML-BOM describing the fine-tuned model, its base model, datasets, images and training run. */
export function exportCycloneDx(doc: Uint8Array | string | object, opts: CycloneDxOptions = {}): Obj {
  const s = source(doc);
  const c = s.claims;
  const st = s.statement;
  const subjects = (Array.isArray(st.subject) ? st.subject : []).filter(isObj);
  const outputs = subjects.map((x) => ({ name: String(x.name), sha256: String(isObj(x.digest) ? x.digest.sha256 : '') }));
  const rd = isObj(st.predicate) && isObj(st.predicate.runDetails) ? st.predicate.runDetails : {};
  const md = isObj(rd.metadata) ? rd.metadata : {};
  const datasets = (c.datasets ?? []).map((d, i) => ({
    type: 'data',
    'bom-ref': `dataset-${i}`,
    name: d.repo,
    version: d.revision,
    purl: hfPurl(d),
    data: [{ type: 'dataset', name: d.path ?? d.repo, contents: { url: d.uri } }],
    externalReferences: [{ type: 'vcs', url: d.uri }],
  }));
  const images = (c.images ?? []).map((im, i) => ({
    type: 'container',
    'bom-ref': `image-${i}`,
    name: im.name,
    ...(im.digest.startsWith('sha256:') ? { hashes: [{ alg: 'SHA-256', content: im.digest.slice(7) }] } : {}),
  }));
  const config = c.configSha256
    ? [{
        type: 'data', 'bom-ref': 'config', name: 'axolotl configuration',
        hashes: [{ alg: 'SHA-256', content: c.configSha256 }],
        data: [{ type: 'configuration', name: 'axolotl configuration', contents: { attachment: { contentType: 'application/json', content: JSON.stringify(c.config ?? null) } } }],
      }]
    : [];
  const first = outputs[0];
  const model: Obj = {
    type: 'machine-learning-model',
    'bom-ref': 'model',
    name: opts.modelName ?? (first ? first.name.replace(/^.*\//, '').replace(/\.[^.]+$/, '') : 'fine-tuned model'),
    ...(first ? { hashes: [{ alg: 'SHA-256', content: first.sha256 }] } : {}),
    components: outputs.map((o, i) => ({ type: 'file', 'bom-ref': `output-${i}`, name: o.name, hashes: [{ alg: 'SHA-256', content: o.sha256 }] })),
    ...(c.baseModel
      ? { pedigree: { ancestors: [{ type: 'machine-learning-model', 'bom-ref': 'base-model', name: c.baseModel.repo, version: c.baseModel.revision, purl: hfPurl(c.baseModel), externalReferences: [{ type: 'vcs', url: c.baseModel.uri }] }] } }
      : {}),
    modelCard: { modelParameters: { datasets: datasets.map((d) => ({ ref: d['bom-ref'] })) } },
    externalReferences: [{
      type: 'attestation',
      url: opts.attestationUrl ?? (s.ev.format === 'aibom-v1' ? 'aibom.json' : 'attestation.json'),
      comment: s.ev.format === 'aibom-v1' ? 'AIBOM v1: TPM-quoted in-toto statement (verify with aicert-verify)' : 'original aicert attestation.json (TPM quote without nonce)',
      hashes: [{ alg: 'SHA-256', content: s.docSha256 }],
    }],
    properties: [prop('format', s.ev.format), ...(s.synthesized ? [] : [prop('statement_sha256', sha256hex(s.statementBytes))])],
  };
  const inputs = [...(c.baseModel ? ['base-model'] : []), ...datasets.map((d) => d['bom-ref']), ...images.map((i) => i['bom-ref']), ...config.map((x) => x['bom-ref'])];
  const workflow: Obj = {
    'bom-ref': 'training-run',
    uid: typeof md.invocationId === 'string' ? md.invocationId : `sha256:${sha256hex(s.statementBytes)}`,
    name: 'fine-tune',
    description: `builder ${String(isObj(rd.builder) ? rd.builder.id : 'unknown')}`,
    taskTypes: ['build'],
    ...(typeof md.startedOn === 'string' ? { timeStart: md.startedOn } : {}),
    ...(typeof md.finishedOn === 'string' ? { timeEnd: md.finishedOn } : {}),
    inputs: inputs.map((ref) => ({ resource: { ref } })),
    outputs: [{ resource: { ref: 'model' } }],
    properties: [
      ...(c.timing?.finetuneSeconds !== undefined ? [prop('finetune_seconds', c.timing.finetuneSeconds)] : []),
      ...(c.compute ? [prop('total_flos', c.compute.totalFlos.reduce((a, b) => a + b, 0))] : []),
    ],
  };
  const timestamp = opts.timestamp ?? (typeof md.finishedOn === 'string' ? md.finishedOn : undefined);
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${uuidFrom(utf8(s.docSha256))}`,
    version: 1,
    metadata: {
      ...(timestamp ? { timestamp } : {}),
      tools: { components: [{ type: 'application', name: 'aicert', version: '0.1.0' }] },
      component: model,
    },
    components: [...datasets, ...images, ...config],
    formulation: [{ 'bom-ref': 'formulation', workflows: [workflow] }],
  };
}
