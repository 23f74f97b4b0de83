// Judges one gen-aibom case with tools that share no code with aicert: tpm2_checkquote (signature, PCR digest,
// qualifying data), aibom_oracle.py (python3 hashlib: PCR 14/8/15 replay, v1 binding, claims, policy, artifacts) and
// openssl verify via lib/manifest.sh (AK chain, EKU, key match). The exit code derived from these facts must equal
// the case's expected exit code, else gen-aibom.mjs fails.
import { decode as cborDecode } from 'cbor-x';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIB, certFacts, runOk, runTool } from './aibom-bridge.mjs';

const unb64 = (s) => Buffer.from(s, 'base64');
const isPem = (s) => typeof s === 'string' && s.startsWith('-----BEGIN');

/** Bytes (Buffer/Uint8Array) → base64 strings, recursively (CBOR data model → JSON data model). */
function toJsonModel(v) {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(toJsonModel);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonModel(x)]));
  return v;
}

/** Every regular file below P (sorted). */
function files(p) {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p).sort().flatMap((n) => files(join(p, n)));
}

/** Writes the case, computes its facts, and returns its manifest entry. */
export function judgeCase(c, env) {
  const rel = `cases/${c.name}`;
  const dir = join(env.STAGE, rel);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, c.file), c.doc);
  for (const [f, b] of Object.entries(c.caseFiles ?? {})) writeFileSync(join(dir, f), b);
  if (c.outputsMutation) {
    cpSync(join(env.STAGE, 'outputs'), join(dir, 'outputs'), { recursive: true });
    const w = join(dir, 'outputs/lora-out/adapter_model.safetensors');
    const b = readFileSync(w);
    b[b.length - 1] ^= 1;
    writeFileSync(w, b);
  }
  // CLI arguments (paths relative to the manifest's folder).
  const a = c.args ?? {};
  const p = (x) => x.replace(/^CASE\//, `${rel}/`);
  const args = ['--trust-root', p(a.trustRoot ?? 'ca/root.pem'), '--measurements', p(a.measurements ?? 'measurements.json'),
    '--containers', p(a.containers ?? 'containers.json'), '--at', env.generatedAt];
  if (a.nonce) args.push('--nonce', a.nonce);
  if (a.model) args.push('--model', p(a.model));

  // The document in the JSON data model (CBOR decoded with cbor-x), for the oracle.
  const facts = {};
  let docPath = join(dir, c.file), model;
  if (c.format === 'v1-cbor') {
    try {
      docPath = join(env.K, `${c.name}.twin.json`);
      writeFileSync(docPath, JSON.stringify(toJsonModel(cborDecode(c.doc))));
    } catch (e) {
      facts.oracle = { parse: 'error', error: `cbor-x: ${e.message}`, problems: ['malformed input'] };
    }
  }
  if (!facts.oracle) {
    const input = join(env.K, `${c.name}.oracle.json`);
    model = a.model ? files(join(env.STAGE, p(a.model))) : undefined;
    writeFileSync(input, JSON.stringify({
      doc: docPath, format: c.format === 'legacy' ? 'legacy' : 'v1', nonce: a.nonce ?? null,
      measurements: join(env.STAGE, p(a.measurements ?? 'measurements.json')), containers: join(env.STAGE, p(a.containers ?? 'containers.json')), model,
    }));
    facts.oracle = JSON.parse(runOk('python3', [join(LIB, 'aibom_oracle.py'), input]));
    if (model) facts.oracle.artifacts = Object.fromEntries(Object.entries(facts.oracle.artifacts).map(([k, v]) => [k.slice(env.STAGE.length + 1), v]));
  }
  const o = facts.oracle;
  if (o.parse === 'ok' && !o.simulation_mode) {
    const doc = JSON.parse(readFileSync(docPath, 'utf8'));
    facts.checkquote = checkquote(c, doc, o, env, a.nonce);
    facts.cert = certOf(c, doc, env, join(env.STAGE, p(a.trustRoot ?? 'ca/root.pem')));
    if (c.certCode && !facts.cert?.openssl_confirms) throw new Error(`${c.name}: openssl facts do not confirm ${c.certCode}`);
  }
  // The exit code the facts imply: 2 malformed; 1 any failed fact; 0 all facts hold.
  const reasons = [...(o.problems ?? [])];
  if (facts.checkquote && facts.checkquote.verdict !== 'valid') reasons.push(`tpm2_checkquote: ${facts.checkquote.error ?? 'invalid'}`);
  const ct = facts.cert;
  if (ct && !(ct.openssl_ok && ct.key_matches_ak && ct.eku.includes('2.23.133.8.3'))) {
    reasons.push(`AK certificate: ${!ct.openssl_ok ? ct.openssl_verify : !ct.key_matches_ak ? 'certifies another key' : 'no AIK EKU'}`);
  }
  facts.reasons = reasons;
  facts.derived_exit = o.parse !== 'ok' ? 2 : reasons.length ? 1 : 0;
  const filesJson = Object.fromEntries(files(dir).map((f) => [f.slice(dir.length + 1), { sha256: runOk('sha256sum', [f]).slice(0, 64), size: statSync(f).size }]));
  return { name: c.name, format: c.format, file: `${rel}/${c.file}`, args, description: c.description, expected: c.expect, facts, files: filesJson };
}

/** tpm2_checkquote on the document's quote with the real AK; v1 PCR values are laid into a genuine PCR file template. */
function checkquote(c, doc, o, env, nonceArg) {
  const d = join(env.K, 'cq');
  mkdirSync(d, { recursive: true });
  let msg, sig, pcr;
  if (c.format === 'legacy') {
    const q = doc.remote_attestation.quote;
    [msg, sig, pcr] = [unb64(q.message.base64), unb64(q.signature.base64), unb64(q.pcr.base64)];
  } else {
    const t = doc.evidence.tpm;
    [msg, sig] = [unb64(t.attest), unb64(t.signature)];
    pcr = Buffer.from(env.pcrFileTemplates[c.pcrTemplate ?? 'all']);
    for (const [k, v] of Object.entries(t.pcrs.sha256)) Buffer.from(v, 'hex').copy(pcr, env.pcrOffset(Number(k)));
  }
  writeFileSync(join(d, 'quote.msg'), msg);
  writeFileSync(join(d, 'quote.sig'), sig);
  writeFileSync(join(d, 'quote.pcrs'), pcr);
  // Qualifying data the verifier requires: v1 = sha256(D ‖ evidence.nonce); original = --nonce as raw bytes, else none.
  const q = c.format === 'legacy' ? nonceArg : o.qualification;
  const cmd = ['-u', env.akPem, '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'quote.pcrs', '-g', 'sha256', ...(q ? ['-q', q] : [])];
  const r = runTool('tpm2_checkquote', cmd, { cwd: d });
  const err = (r.stderr.split('\n').find((l) => l.includes('ERROR')) ?? '').trim();
  return { verdict: r.code === 0 ? 'valid' : 'invalid', exit_code: r.code, error: err || null, command: `tpm2_checkquote ${cmd.join(' ').replace(env.akPem, 'ak.pem')}` };
}

/** openssl facts about the document's AK certificate (leaf = first element) against ANCHOR. */
function certOf(c, doc, env, anchor) {
  const list = c.format === 'legacy' ? doc.remote_attestation.cert_chain.map((x) => unb64(x.base64)) : doc.evidence.tpm.akCertificates.map((x) => (isPem(x) ? Buffer.from(x) : unb64(x)));
  const pem = (b) => (b.subarray(0, 10).toString() === '-----BEGIN' ? b.toString() : runOk('openssl', ['x509', '-inform', 'DER'], { input: b, stdio: 'pipe' }));
  const d = join(env.K, `cert-${c.name}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'ak.crt.pem'), pem(list[0]));
  writeFileSync(join(d, 'chain.pem'), list.slice(1).map(pem).join(''));
  cpSync(env.akPem, join(d, 'ak.pem'));
  const f = certFacts(d, anchor, c.certCode ?? '');
  delete f.trust_anchor;
  return f;
}
