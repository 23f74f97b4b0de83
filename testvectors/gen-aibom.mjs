#!/usr/bin/env node
// gen-aibom.mjs [OUTDIR] [DEMODIR|-] — AIBOMs made by the project's reference-runner core (src/runner) on a freshly
// manufactured swtpm: a deterministic mini fine-tune is measured exactly as the original aicert server did (PCR 14
// inputs, PCR 8 outputs, PCR 15 TLS root), quoted twice (original: no nonce; v1: sha256(D ‖ nonce) after the
// aibom_statement event), and emitted as attestation.json + AIBOM v1 (JSON, CBOR). Then every attacker mutation is
// built and judged independently (tpm2_checkquote, python3 hashlib replay, openssl verify) into OUTDIR/manifest.json
// (schema: testvectors/aibom/README.md). DEMODIR receives the shipped example. Outputs are replaced only on success.
// Needs: swtpm swtpm-tools tpm2-tools libtss2-tcti-swtpm0 openssl python3 xxd jq; only 127.0.0.1 is used.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bashLib, caSetup, issueAk, runOk, swtpmSession } from './lib/aibom-bridge.mjs';
import { buildCases } from './lib/aibom-cases.mjs';
import { judgeCase } from './lib/aibom-judge.mjs';
import { makeInputs, sha256hex, train } from './lib/aibom-train.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = resolve(process.argv[2] ?? join(ROOT, 'testvectors/aibom'));
const DEMO = process.argv[3] === '-' ? undefined : resolve(process.argv[3] ?? join(ROOT, 'testvectors/demo'));
const say = (m) => process.stderr.write(`[gen-aibom ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
for (const t of ['swtpm', 'swtpm_setup', 'tpm2_quote', 'tpm2_checkquote', 'openssl', 'python3', 'xxd', 'jq']) runOk('bash', ['-c', `command -v ${t}`]);

const T0 = Date.now();
const WORK = mkdtempSync(join(tmpdir(), 'aicert-gen-aibom-'));
const K = join(WORK, 'keys'), STAGE = join(WORK, 'out'), RUN = join(WORK, 'run');
[K, STAGE, RUN, join(STAGE, 'ca')].forEach((d) => mkdirSync(d, { recursive: true }));
let session;
const cleanup = async () => { await session?.stop(); rmSync(WORK, { recursive: true, force: true }); };
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => cleanup().then(() => process.exit(143)));

try {
  // ---- 1. the measuring core, bundled from src/runner (node_modules/.cache so cbor-x resolves)
  const bundle = join(ROOT, 'node_modules/.cache/aicert-gen-aibom');
  runOk('npx', ['tsup', 'src/runner/index.ts', '--no-config', '--format', 'esm', '--platform', 'node', '--target', 'node20', '-d', bundle, '--silent'], { cwd: ROOT });
  const R = await import(pathToFileURL(join(bundle, 'index.js')).href + `?t=${Date.now()}`);

  // ---- 2. fresh swtpm; EK; AK persisted at 0x81000003 like the original; a second AK for the wrong-key certificate
  session = await swtpmSession(join(K, 'tpm'));
  say(`swtpm on 127.0.0.1:${session.port}`);
  const tpm = await R.Tpm.open(session.tcti, { workDir: K });
  await tpm.startup();
  const caps = await tpm.run('tpm2_getcap', ['properties-fixed']);
  const prop = (p) => new RegExp(`${p}:\\s*\\n\\s*raw: (0x[0-9A-Fa-f]+)`).exec(caps)?.[1] ?? '0x0';
  const tpmProps = { mfr: `id:${prop('TPM2_PT_MANUFACTURER').slice(2)}`, model: 'id:73777470', version: `id:${prop('TPM2_PT_FIRMWARE_VERSION_1').slice(2)}` };
  await tpm.createEk();
  const ak = await tpm.persistAk(await tpm.createAk('ak', 'rsa'), '0x81000003');
  const other = await tpm.createAk('ak-other', 'rsa');
  writeFileSync(join(K, 'ak.pem'), ak.pem);
  writeFileSync(join(K, 'ak-other.pem'), other.pem);

  // ---- 3. throwaway CA (lib/ca.sh) and AK certificates: good, expired, other key, wrong EKU
  caSetup(K, tpmProps);
  const vmid = randomUUID();
  const subj = `/O=aicert demo/CN=${vmid}.TrustedVM.aicert.test`; // Azure-like CN that does not claim to be Azure
  const der = (pem) => runOk('openssl', ['x509', '-in', pem, '-outform', 'DER'], { encoding: 'buffer' });
  const leaf = (name, akPem, ext, past = false) => (issueAk(K, 'intermediate', akPem, subj, ext, join(K, `${name}.pem`), { past }), der(join(K, `${name}.pem`)));
  const certs = {
    good: leaf('leaf', join(K, 'ak.pem'), 'ext_ak'),
    expired: leaf('leaf-expired', join(K, 'ak.pem'), 'ext_ak', true),
    otherKey: leaf('leaf-other', join(K, 'ak-other.pem'), 'ext_ak'),
    wrongEku: leaf('leaf-eku', join(K, 'ak.pem'), 'ext_ak_wrong_eku'),
  };
  const rootPem = readFileSync(join(K, 'root.pem'), 'utf8'), intPem = readFileSync(join(K, 'intermediate.pem'), 'utf8');
  cpSync(join(K, 'root.pem'), join(STAGE, 'ca/root.pem'));
  cpSync(join(K, 'untrusted-root.pem'), join(STAGE, 'ca/untrusted-root.pem'));
  // The runner's TLS root (the original's Caddy root CA), bound into PCR 15.
  runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(K, 'tls.key'),
    '-subj', '/CN=aicert demo runner TLS root', '-days', '1825', '-out', join(K, 'tls.pem')], { stdio: 'ignore' });
  const tlsPem = readFileSync(join(K, 'tls.pem'), 'utf8');

  // ---- 4. the fine-tune: inputs, deterministic training, outputs
  const startedOn = new Date().toISOString();
  const inputs = makeInputs(join(RUN, 'in'));
  const result = train(inputs, join(RUN, 'outputs'));
  const finishedOn = new Date().toISOString();

  // ---- 5. measure exactly as the original: config, base image, model, dataset, axolotl image, timing, compute; TLS; outputs
  const m = new R.Measurer(tpm);
  const pyConfig = Object.fromEntries(inputs.config.entries.map(([k, v]) => [k, v && typeof v === 'object' && 'float' in v ? new R.PyFloat(v.float) : v]));
  await m.inputs({
    config: pyConfig, configSha256: inputs.config.sha256, images: inputs.images,
    model: inputs.model, dataset: inputs.dataset,
    modelResolved: `sha1:${inputs.model.hash}`, datasetResolved: `sha1:${inputs.dataset.hash}`,
    finetuneSeconds: Math.round(result.seconds * 1e6) / 1e6, totalFlos: [result.totalFlos],
  });
  if (!(await m.tls(tlsPem))) throw new Error('PCR 15 was not zero on a fresh TPM');
  await m.outputs(result.files);
  const ALL = Array.from({ length: 24 }, (_, i) => i), LOW = ALL.slice(0, 14);

  // ---- 6. original quote (no qualification), then the v1 statement, its event, and the bound quote
  const qLegacy = await tpm.quote(ak, ALL), qLegacy13 = await tpm.quote(ak, LOW);
  const statement = R.buildStatement(m.log[14], m.log[8][0], { invocationId: vmid, startedOn, finishedOn });
  const D = sha256hex(statement);
  const nonce = randomBytes(32).toString('hex');
  await m.statement(D);
  const qual = R.v1Qualification(statement, nonce);
  const qV1 = await tpm.quote(ak, ALL, qual), qV113 = await tpm.quote(ak, LOW, qual);
  const pcrs = await tpm.pcrRead(ALL);

  // ---- 7. documents
  const legacy = R.buildLegacyAttestation({ caCert: tlsPem, eventLog: m.log[14], outputEventLog: [m.log[8][0]], quote: qLegacy, certChain: [certs.good, intPem, rootPem] });
  const v1In = { statement, quote: qV1, pcrs, akPublic: ak.public, akCertificates: [certs.good, intPem], appEventLog: m.log, tlsCertificate: tlsPem, nonceHex: nonce };
  const v1 = R.buildAibomV1(v1In);
  const v1Cbor = R.encodeAibomV1Cbor(v1In);
  const legacyPcrs = Object.fromEntries(ALL.map((i) => [i, pcrs[i]])); // PCRs other than 8 are unchanged by the statement event
  const GOLDEN = [0, 1, 2, 3, 4, 12, 13];
  const measurements = { measurements: Object.fromEntries(GOLDEN.map((i) => [String(i), legacyPcrs[i]])) };
  const containers = Object.fromEntries(inputs.images.map((i) => [i.name, i.id]));
  const J = (o) => JSON.stringify(o, null, 2) + '\n';
  writeFileSync(join(STAGE, 'measurements.json'), J(measurements));
  writeFileSync(join(STAGE, 'containers.json'), J(containers));
  cpSync(join(RUN, 'outputs'), join(STAGE, 'outputs'), { recursive: true });
  for (const [f, b] of [['attestation.json', J(legacy)], ['aibom.json', J(v1)], ['aibom.cbor', v1Cbor], ['statement.intoto.json', statement]]) writeFileSync(join(STAGE, f), b);
  await tpm.run('tpm2_shutdown', ['-c']).catch(() => undefined);
  await session.stop();
  session = undefined;

  // ---- 8. cases, judged independently
  const offsets = {};
  const pcrOffset = (i) => (offsets[i] ??= Number(bashLib(['common', 'tpmstruct'], 'pcrfile_digest_offset "$1"', [String(i)]).trim()));
  const clockOff = (msg) => { writeFileSync(join(K, 'a.msg'), msg); return Number(bashLib(['common', 'tpmstruct'], 'attest_offsets "$1"', [join(K, 'a.msg')]).trim().split(' ')[1]); };
  const replay14 = (list) => list.reduce((p, s) => createHash('sha256').update(p).update(createHash('sha256').update(s).digest()).digest(), Buffer.alloc(32)).toString('hex');
  const generatedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ctx = {
    legacy, v1, v1Cbor, certs, outputs: [...result.files].sort((a, b) => (a.path < b.path ? -1 : 1)),
    q13: { legacy: qLegacy13, v1: qV113 }, otherNonce: randomBytes(32).toString('hex'),
    sigFlipOffset: qV1.signature.length - 17, clockOffsetLegacy: clockOff(qLegacy.message), clockOffsetV1: clockOff(qV1.message),
    pcrOffset, replay14,
    measurementsPcr0Bad: { measurements: { ...measurements.measurements, 0: sha256hex('a different firmware') } },
    containersOther: { ...containers, '@local/axolotl:latest': `sha256:${sha256hex('some other axolotl build')}` },
  };
  const env = { STAGE, K, generatedAt, pcrFileTemplates: { all: qV1.pcrFile, '0-13': qV113.pcrFile }, pcrOffset, akPem: join(K, 'ak.pem'), intPem, rootPem };
  const cases = [];
  for (const c of buildCases(ctx)) cases.push(judgeCase(c, env));
  const wrong = cases.filter((c) => c.facts.derived_exit !== c.expected.exit);
  for (const c of cases) say(`${c.name.padEnd(30)} expect ${c.expected.exit}  independent ${c.facts.derived_exit}  checkquote ${c.facts.checkquote?.verdict ?? '-'}`);
  if (wrong.length) throw new Error(`independent facts disagree with the expected exit for: ${wrong.map((c) => c.name).join(', ')}`);

  // ---- 9. manifest, demo, move into place
  const tool = (cmd, args) => runOk(cmd, args).split('\n')[0].trim();
  const manifest = {
    schema: 'aicert-testvectors-aibom/1', generator: 'testvectors/gen-aibom.mjs', generated_at: generatedAt, elapsed_ms: Date.now() - T0,
    tools: { node: process.version, swtpm: tool('swtpm', ['--version']), 'tpm2-tools': tool('tpm2_quote', ['--version']), openssl: tool('openssl', ['version']), python3: tool('python3', ['--version']) },
    tpm: { manufacturer: prop('TPM2_PT_MANUFACTURER'), ak_handle: '0x81000003', ak_subject_cn: `${vmid}.TrustedVM.aicert.test` },
    nonce, statement_sha256: D, v1_qualification: qual, pcr_selection: 'sha256:0-23',
    pcrs: { legacy: Object.fromEntries(ALL.map((i) => [String(i), legacyPcrs[i]])), v1: Object.fromEntries(ALL.map((i) => [String(i), pcrs[i]])) },
    documents: { legacy: 'attestation.json', v1_json: 'aibom.json', v1_cbor: 'aibom.cbor', statement: 'statement.intoto.json' },
    outputs: ctx.outputs.map((o) => ({ path: `outputs/${o.path}`, sha256: o.sha256 })),
    trust_anchors: ['ca/root.pem'], untrusted_roots: ['ca/untrusted-root.pem'],
    default_args: ['--trust-root', 'ca/root.pem', '--measurements', 'measurements.json', '--containers', 'containers.json', '--at', generatedAt],
    cases,
  };
  writeFileSync(join(STAGE, 'manifest.json'), J(manifest));
  cpSync(join(ROOT, 'testvectors/lib/aibom-README.md'), join(STAGE, 'README.md'));
  place(STAGE, OUT);
  if (DEMO) writeDemo({ STAGE, DEMO, generatedAt, J, legacy, v1, v1Cbor, measurements, containers, inputs, nonce, D });
  say(`${cases.length} cases in ${Date.now() - T0} ms -> ${relative(process.cwd(), join(OUT, 'manifest.json'))}`);
} finally {
  await cleanup();
}

/** Replaces DIR's contents with SRC's (refuses a non-empty DIR that holds no manifest.json). */
function place(src, dir) {
  if (existsSync(dir) && readdirSync(dir).length && !existsSync(join(dir, 'manifest.json')) && !existsSync(join(dir, 'policy.json'))) {
    throw new Error(`${dir} is not empty and was not made by this generator; refusing to replace it`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(src, dir, { recursive: true });
}

/** The shipped example: both documents, policy files, the trust root and the weights, with a short manifest. */
function writeDemo(o) {
  const d = join(o.STAGE, '..', 'demo');
  mkdirSync(d, { recursive: true });
  for (const f of ['attestation.json', 'aibom.json', 'aibom.cbor', 'measurements.json', 'containers.json']) cpSync(join(o.STAGE, f), join(d, f));
  cpSync(join(o.STAGE, 'ca/root.pem'), join(d, 'trust-root.pem'));
  cpSync(join(o.STAGE, 'outputs'), join(d, 'weights'), { recursive: true });
  const repoRef = (r) => `${r.repo.replace(/^https:\/\/huggingface\.co\/(datasets\/)?/, '')}@${r.hash}`;
  const policy = {
    _type: 'https://aicert.dev/policy/v1',
    description: 'aicert demo: golden values of the swtpm run that made this example (spec/policy.md)',
    pcrs: { sha256: Object.fromEntries(Object.entries(o.measurements.measurements).map(([k, v]) => [k, [v]])) },
    containers: Object.fromEntries(Object.entries(o.containers).map(([k, v]) => [k, [v]])),
    baseModels: [repoRef(o.inputs.model)],
    datasets: [repoRef(o.inputs.dataset)],
    requiredEvents: ['axolotl_configuration', `input_image:${o.inputs.images[0].name}`, 'input_resource:model', 'input_resource:dataset',
      `input_image:${o.inputs.images[1].name}`, 'timing', 'compute_consumed', 'outputs'],
    platformSubjects: ['.TrustedVM.aicert.test'],
  };
  writeFileSync(join(d, 'policy.json'), o.J(policy));
  const weights = [];
  const walk = (p) => (statSync(p).isDirectory() ? readdirSync(p).sort().forEach((n) => walk(join(p, n))) : weights.push(p));
  walk(join(d, 'weights'));
  const demoCommands = [
    'npx aicert-verify testvectors/demo/aibom.json --trust-root testvectors/demo/trust-root.pem --policy testvectors/demo/policy.json --model testvectors/demo/weights',
    'npx aicert-verify testvectors/demo/attestation.json --trust-root testvectors/demo/trust-root.pem --measurements testvectors/demo/measurements.json --containers testvectors/demo/containers.json --model testvectors/demo/weights',
    'npx aicert export --format cyclonedx testvectors/demo/aibom.json --trust-root testvectors/demo/trust-root.pem --policy testvectors/demo/policy.json',
  ];
  writeFileSync(join(d, 'README.md'), [
    '# aicert demo: a fine-tune attested on swtpm', '',
    `Made by \`npm run vectors:aibom\` (testvectors/gen-aibom.mjs) on ${o.generatedAt}: a tiny deterministic fine-tune measured by`,
    'the reference runner core on a software TPM, with an AK certificate from a throwaway CA (`trust-root.pem`).',
    '`aibom.json` / `aibom.cbor` are AIBOM v1 (quote bound to the statement and a nonce); `attestation.json` is the',
    'original aicert format from the same run (no nonce). `weights/` holds the outputs the documents bind.', '',
    '```sh', ...demoCommands, '```', '',
    'The AK certificate is valid for five years from the date above; pass `--at` with that date to verify later.', '',
  ].join('\n'));
  writeFileSync(join(d, 'demo.json'), o.J({
    schema: 'aicert-demo/1', generator: 'testvectors/gen-aibom.mjs', generated_at: o.generatedAt,
    verify_at: o.generatedAt, nonce: o.nonce, statement_sha256: o.D,
    files: Object.fromEntries(readdirSync(d).filter((f) => statSync(join(d, f)).isFile()).sort().map((f) => [f, sha256hex(readFileSync(join(d, f)))])),
    weights: weights.map((p) => ({ path: relative(d, p), sha256: sha256hex(readFileSync(p)) })),
    commands: demoCommands,
  }));
  place(d, o.DEMO);
}
