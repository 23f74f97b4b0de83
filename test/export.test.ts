/**
 * src/aibom/export.ts and `aicert export`: the in-toto statement (exact bytes for AIBOM v1, synthesized for original
 * documents) and the CycloneDX 1.6 ML-BOM, validated against the official 1.6 JSON schema shipped by
 * @cyclonedx/cyclonedx-library. Inputs are the committed swtpm vectors (testvectors/demo, testvectors/aibom);
 * expected values come from the raw documents, python3 facts in manifest.json and node:crypto, not from export.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { exportCycloneDx, exportInToto } from '../src/aibom/export.js';
import { runCli } from './helpers/cli.js';
import { MalformedInputError } from '../src/errors.js';

const ROOT = resolve(import.meta.dirname, '..');
const DEMO = join(ROOT, 'testvectors/demo');
const VEC = join(ROOT, 'testvectors/aibom');
const read = (p: string) => new Uint8Array(readFileSync(p));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const manifest = JSON.parse(readFileSync(join(VEC, 'manifest.json'), 'utf8')) as Obj;
const v1Bytes = read(join(DEMO, 'aibom.json'));
const legacyBytes = read(join(DEMO, 'attestation.json'));
const v1Doc = JSON.parse(Buffer.from(v1Bytes).toString('utf8')) as Obj;
const legacyDoc = JSON.parse(Buffer.from(legacyBytes).toString('utf8')) as Obj;

/** The official CycloneDX 1.6 schema (and the SPDX/JSF schemas it references) in Ajv, draft-07, with formats. */
function cyclonedxValidator() {
  const dir = join(ROOT, 'node_modules/@cyclonedx/cyclonedx-library/res/schema');
  const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Obj;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  createRequire(import.meta.url)('ajv-formats-draft2019')(ajv); // iri-reference, idn-email
  // bom-1.6 refers to the SNAPSHOT file names relative to its $id.
  ajv.addSchema({ ...load('spdx.SNAPSHOT.schema.json'), $id: 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json' });
  ajv.addSchema({ ...load('jsf-0.82.SNAPSHOT.schema.json'), $id: 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json' });
  return ajv.compile(load('bom-1.6.SNAPSHOT.schema.json'));
}
const validate = cyclonedxValidator();

/** First event of a type in a list of stored event strings, parsed with JSON.parse. */
const event = (list: string[], type: string, pred: (e: Obj) => boolean = () => true) =>
  list.map((s) => JSON.parse(s) as Obj).find((e) => e.event_type === type && pred(e))!;

describe('exportInToto', () => {
  it('AIBOM v1: returns the exact statement bytes the document carries (its sha256 = the python-computed D)', () => {
    const r = exportInToto(v1Bytes);
    expect(r.synthesized).toBe(false);
    expect(Buffer.from(r.bytes).equals(Buffer.from(v1Doc.statement, 'base64'))).toBe(true);
    const pyD = manifest.cases.find((c: Obj) => c.name === 'v1-valid').facts.oracle.binding.statement_sha256;
    expect(sha256(r.bytes)).toBe(pyD);
  });

  it('AIBOM v1 CBOR gives the same bytes as the JSON encoding', () => {
    expect(Buffer.from(exportInToto(read(join(DEMO, 'aibom.cbor'))).bytes).equals(Buffer.from(exportInToto(v1Bytes).bytes))).toBe(true);
  });

  it('original attestation.json: synthesizes a statement from the measured events, and says so', () => {
    const r = exportInToto(legacyBytes);
    expect(r.synthesized).toBe(true);
    expect(r.warnings.join(' ')).toMatch(/synthesized/);
    const st = JSON.parse(Buffer.from(r.bytes).toString('utf8')) as Obj;
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
    // subjects = the output files on disk (hashed here with node:crypto)
    const subjects = Object.fromEntries(st.subject.map((s: Obj) => [s.name, s.digest.sha256]));
    for (const o of manifest.outputs as Obj[]) expect(subjects[o.path.replace(/^outputs\//, '')]).toBe(sha256(read(join(VEC, o.path))));
    // dependencies = what the raw PCR 14 events say
    const model = event(legacyDoc.event_log, 'input_resource', (e) => e.content.spec.resource_proto.resource_type === 'model');
    const dep = st.predicate.buildDefinition.resolvedDependencies.find((d: Obj) => d.name === 'base_model');
    expect(dep.uri).toBe(model.content.spec.resource_proto.repo);
    expect(`sha1:${dep.digest.gitCommit}`).toBe(model.content.resolved.hash);
    const cfg = event(legacyDoc.event_log, 'axolotl_configuration');
    expect(st.predicate.buildDefinition.resolvedDependencies.find((d: Obj) => d.name === 'config').digest.sha256).toBe(cfg.content.resolved.hash);
  });

  it('malformed documents are MalformedInputError', () => {
    expect(() => exportInToto(legacyBytes.subarray(0, 100))).toThrow(MalformedInputError);
    expect(() => exportInToto(read(join(VEC, 'cases/v1-garbage-base64/aibom.json')))).toThrow(MalformedInputError);
  });
});

describe('exportCycloneDx', () => {
  for (const [name, bytes] of [['AIBOM v1', v1Bytes], ['original attestation.json', legacyBytes]] as const) {
    it(`${name}: valid against the official CycloneDX 1.6 JSON schema`, () => {
      const bom = exportCycloneDx(bytes);
      const ok = validate(bom);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });
  }

  it('ML-BOM content: model with hashes, base model as pedigree ancestor, datasets, formulation, attestation reference', () => {
    const bom = exportCycloneDx(v1Bytes, { attestationUrl: 'https://example.org/aibom.json' }) as Obj;
    const st = JSON.parse(Buffer.from(v1Doc.statement, 'base64').toString('utf8')) as Obj;
    const model = bom.metadata.component;
    expect(model.type).toBe('machine-learning-model');
    expect(model.hashes).toEqual([{ alg: 'SHA-256', content: st.subject[0].digest.sha256 }]);
    expect(model.components.map((c: Obj) => [c.name, c.hashes[0].content])).toEqual(st.subject.map((s: Obj) => [s.name, s.digest.sha256]));
    const m = event(v1Doc.evidence.appEventLog['14'], 'input_resource', (e) => e.content.spec.resource_proto.resource_type === 'model');
    expect(model.pedigree.ancestors[0]).toMatchObject({ type: 'machine-learning-model', name: 'aicert-demo/tiny-base', version: m.content.spec.resource_proto.hash });
    const ds = bom.components.filter((c: Obj) => c.type === 'data' && c.data[0].type === 'dataset');
    expect(ds).toHaveLength(1);
    expect(ds[0].data[0].contents.url).toBe(event(v1Doc.evidence.appEventLog['14'], 'input_resource', (e) => e.content.spec.resource_proto.resource_type === 'dataset').content.spec.resource_proto.repo);
    expect(model.modelCard.modelParameters.datasets).toEqual([{ ref: ds[0]['bom-ref'] }]);
    const ref = model.externalReferences.find((r: Obj) => r.type === 'attestation');
    expect(ref).toMatchObject({ url: 'https://example.org/aibom.json', hashes: [{ alg: 'SHA-256', content: sha256(v1Bytes) }] });
    const wf = bom.formulation[0].workflows[0];
    expect(wf.taskTypes).toEqual(['build']);
    expect([wf.uid, wf.timeStart, wf.timeEnd]).toEqual([st.predicate.runDetails.metadata.invocationId, st.predicate.runDetails.metadata.startedOn, st.predicate.runDetails.metadata.finishedOn]);
    expect(wf.inputs.map((i: Obj) => i.resource.ref)).toContain('base-model');
    expect(validate(bom)).toBe(true);
  });

  it('the schema check is live: a broken BOM is rejected', () => {
    const bom = exportCycloneDx(v1Bytes) as Obj;
    expect(validate({ ...bom, metadata: { ...bom.metadata, component: { ...bom.metadata.component, type: 'banana' } } })).toBe(false);
    expect(validate({ ...bom, specVersion: 16 })).toBe(false);
  });
});

describe('aicert export (CLI)', () => {
  // The demo's own trust root and golden values (testvectors/demo/README.md): the documents verify under them.
  const v1Trust = ['--trust-root', join(DEMO, 'trust-root.pem'), '--policy', join(DEMO, 'policy.json')];
  const legacyTrust = ['--trust-root', join(DEMO, 'trust-root.pem'), '--measurements', join(DEMO, 'measurements.json'), '--containers', join(DEMO, 'containers.json')];

  it('--format intoto writes the statement bytes; --format cyclonedx writes a schema-valid BOM', async () => {
    const a = await runCli(['export', '--format', 'intoto', join(DEMO, 'aibom.json'), ...v1Trust]);
    expect(a.code).toBe(0);
    expect(a.out).toBe(Buffer.from(v1Doc.statement, 'base64').toString('utf8'));
    const b = await runCli(['export', '--format', 'cyclonedx', join(DEMO, 'attestation.json'), ...legacyTrust]);
    expect(b.code).toBe(0);
    expect(validate(JSON.parse(b.out))).toBe(true);
    const c = await runCli(['export', '--format', 'intoto', join(DEMO, 'attestation.json'), ...legacyTrust]);
    expect([c.code, c.err]).toEqual([0, expect.stringMatching(/warning: statement synthesized/)]);
  });

  it('a document that does not verify is not exported (exit 1, nothing on stdout); was: exported, unmarked', async () => {
    // The genuine demo under the default (Azure) anchor: its throwaway CA is not trusted.
    const a = await runCli(['export', '--format', 'intoto', join(DEMO, 'aibom.json')]);
    expect([a.code, a.out]).toEqual([1, '']);
    expect(a.err).toMatch(/NOT VALID \(CERT_UNTRUSTED_ROOT/);
    // A forged statement (another base model) under the right trust root: the quote no longer binds it.
    const st = JSON.parse(Buffer.from(v1Doc.statement, 'base64').toString('utf8')) as Obj;
    st.subject = [{ name: 'evil.safetensors', digest: { sha256: 'ab'.repeat(32) } }];
    const file = join(mkdtempSync(join(tmpdir(), 'aicert-export-')), 'forged.json');
    writeFileSync(file, JSON.stringify({ ...v1Doc, statement: Buffer.from(JSON.stringify(st)).toString('base64') }));
    const b = await runCli(['export', '--format', 'cyclonedx', file, ...v1Trust]);
    expect([b.code, b.out]).toEqual([1, '']);
    expect(b.err).toMatch(/NOT VALID/);
  });

  it('--unverified exports, and the output itself says it is unverified (in-toto field, CycloneDX property)', async () => {
    const a = await runCli(['export', '--format', 'intoto', '--unverified', join(DEMO, 'aibom.json')]);
    expect(a.code).toBe(0);
    const st = JSON.parse(a.out) as Obj;
    expect(st['aicert:unverified']).toMatch(/^UNVERIFIED/);
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(a.err).toMatch(/warning: UNVERIFIED/);
    const b = await runCli(['export', '--format', 'cyclonedx', '--unverified', join(DEMO, 'aibom.json')]);
    const bom = JSON.parse(b.out) as Obj;
    expect(validate(bom)).toBe(true);
    expect(bom.metadata.properties).toEqual([{ name: 'aicert:verification', value: expect.stringMatching(/^UNVERIFIED/) }]);
    expect((await runCli(['export', '--format', 'intoto', '--unverified', '--trust-root', join(DEMO, 'trust-root.pem'), join(DEMO, 'aibom.json')])).code).toBe(2);
  });

  it('exit 2 on bad usage and malformed input', async () => {
    expect((await runCli(['export', '--format', 'spdx', join(DEMO, 'aibom.json')])).code).toBe(2);
    expect((await runCli(['export', join(DEMO, 'aibom.json')])).code).toBe(2);
    expect((await runCli(['export', '--format', 'intoto', join(VEC, 'cases/v1-truncated-json/aibom.json')])).code).toBe(2);
    expect((await runCli(['export', '--format', 'cyclonedx', join(VEC, 'cases/v1-cbor-truncated/aibom.cbor')])).code).toBe(2);
  });
});
