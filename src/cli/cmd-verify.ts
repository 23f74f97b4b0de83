/**
 * `aicert verify` = `aicert-verify` (cli-contract.md): verifies an original aicert attestation.json or an AIBOM v1
 * (JSON or CBOR, auto-detected). Exit 0 valid, 1 a check failed or could not run, 2 malformed input or bad usage.
 * Human output: one ✓/✗/– line per check with its reason, then the ID card. `--json`: {valid, checks, claims}.
 */
import { statSync } from 'node:fs';
import { verifyAibom } from '../aibom/verify.js';
import type { ArtifactReport, ArtifactVerifier, Claims, VerifyAibomOptions, VerifyAibomResult } from '../aibom/types.js';
import { hashFile } from '../node/hashing.js';
import { verifyArtifacts } from '../node/artifacts.js';
import { tryFromHex } from '../util/bytes.js';
import { parse, printChecks, printJson, readInput, UsageError } from './io.js';
import { readTrustStores } from './quote-inputs.js';

const USAGE =
  'aicert-verify ATTESTATION [--trust-root PEM]... [--measurements FILE] [--containers FILE] [--policy FILE] ' +
  '[--nonce HEX] [--at ISO8601] [--model PATH]... [--hf ORG/NAME@REV [--hf-endpoint URL]] [--allow-unchecked-platform] [--allow-simulation] ' +
  '[--trust-store azure|gce]... [--no-require-aik-eku] [--json]';

const HELP = `usage: ${USAGE}

Verifies an AI model certificate: the original aicert attestation.json or an AIBOM v1 (JSON or CBOR).
  --trust-root PEM            trust anchor for the AK certificate chain (repeatable; replaces the Azure vTPM root 2023)
  --measurements FILE         golden PCR values, original format {"measurements": {"<pcr>": "<hex>"}}
  --containers FILE           expected container ids, original format {"<image>": "sha256:<hex>"}
  --policy FILE               aicert policy (spec/policy.md)
  --nonce HEX                 the quote must carry this nonce (original: raw qualifying data; AIBOM v1: its binding)
  --at ISO8601                time at which certificates must be valid (default now)
  --model PATH                output file or directory to check against the bound digests (repeatable)
  --hf ORG/NAME@REV           compare the bound digests with that Hub commit's tree (REV: the 40-hex commit;
                              datasets/ORG/NAME@REV for a dataset); LFS weights are not downloaded. HF_TOKEN if gated
  --hf-endpoint URL           the Hub to ask (default $HF_ENDPOINT, else https://huggingface.co)
  --allow-unchecked-platform  accept that no golden PCR values / container ids were given (still listed as not checked)
  --allow-simulation          accept original documents made in simulation mode (NO hardware evidence at all)
  --json                      {"valid", "checks": [{"id", "ok", "detail"}], "claims"}
Exit: 0 valid, 1 a check failed or could not run, 2 malformed input or bad usage.`;

/** --model through the Node hashing path; a single file whose name is not bound may still match by content. */
function modelVerifier(paths: string[]): ArtifactVerifier {
  return async (expected) => {
    const bound = expected.map((e) => ({ name: e.name, digest: { sha256: e.sha256 } }));
    const r = await verifyArtifacts(bound, paths);
    const rep: ArtifactReport = {
      ok: r.ok,
      matched: r.matched.map((m) => m.name),
      missing: r.missing,
      extra: [],
      mismatched: r.mismatched.map((m) => m.name),
    };
    // in-toto matches subjects by digest: a given file under another name passes when its content is bound.
    const byDigest = new Map(expected.map((e) => [e.sha256.toLowerCase(), e.name]));
    for (const x of r.extra) {
      const single = paths.find((p) => p === x.path && statSync(p).isFile());
      const name = single ? byDigest.get((await hashFile(single)).sha256) : undefined;
      if (name) {
        rep.matched.push(`${x.path} (as ${name})`);
        rep.missing = rep.missing.filter((n) => n !== name);
      } else rep.extra.push(x.path);
    }
    // A directory stands for the whole model: a bound file missing from it fails (r.requireAll).
    rep.ok = rep.matched.length > 0 && rep.mismatched.length === 0 && rep.extra.length === 0 && (!r.requireAll || rep.missing.length === 0);
    return rep;
  };
}

const short = (h: string | undefined, n = 16): string => (h ? (h.length > n ? `${h.slice(0, n)}…` : h) : '');

/** The ID card: what the certificate says about the model, one fact per line. */
export function idCard(c: Claims): string[] {
  const out: string[] = [];
  const row = (k: string, v: string | undefined): void => void (v && out.push(`  ${k.padEnd(12)} ${v}`));
  if (c.simulation) row('WARNING', 'simulation mode: nothing below is attested by hardware');
  row('Base model', c.baseModel && `${c.baseModel.repo} @ ${short(c.baseModel.revision, 12)}`);
  for (const d of c.datasets ?? []) row('Dataset', `${d.repo} @ ${short(d.revision, 12)}${d.path ? ` (${d.path})` : ''}`);
  row('Config', c.configSha256 && `sha256 ${short(c.configSha256)}`);
  for (const i of c.images ?? []) row('Image', `${i.name}  ${short(i.digest, 23)}`);
  for (const o of c.outputs ?? []) row('Output', `${o.name}  sha256 ${short(o.sha256)}`);
  row('Compute', c.compute && `${c.compute.totalFlos.map((f) => f.toExponential(3)).join(' + ')} FLOPs`);
  const t = c.timing;
  row('Timing', t && [t.finetuneSeconds !== undefined ? `${t.finetuneSeconds} s fine-tuning` : '', t.startedOn ? `${t.startedOn} → ${t.finishedOn ?? '?'}` : ''].filter(Boolean).join(', '));
  row('Platform', c.platform && `${c.platform.description} (AK chains to ${c.platform.anchor})`);
  row('Quote', c.quote && `TPM clock ${c.quote.clock} ms, boot #${c.quote.resetCount}, ${c.quote.pcrSelection}, firmware ${c.quote.firmwareVersion}`);
  row('TLS cert', c.tlsCertificateSha256 && `sha256 ${short(c.tlsCertificateSha256)} (bound via PCR 15)`);
  row('Statement', c.statementDigest && `sha256 ${short(c.statementDigest)}${c.builderId ? ` by ${c.builderId}` : ''}`);
  return out;
}

/** Human report: checks, ID card, warnings, verdict. */
function printHuman(r: VerifyAibomResult): void {
  const w = (s: string): void => void process.stdout.write(s + '\n');
  printChecks(r.checks, w);
  const card = idCard(r.claims);
  if (card.length) {
    w('');
    w(r.valid ? 'ID card' : 'ID card (NOT verified: do not rely on it)');
    card.forEach(w);
  }
  if (r.warnings.length) {
    w('');
    for (const x of r.warnings) w(`! ${x}`);
  }
  w('');
  if (r.valid) w('VALID');
  else if (r.error) w(`NOT VALID: ${r.error.code}: ${r.error.message}`);
  else w(`NOT VALID: could not check ${r.unchecked.join(', ')} (give --measurements/--containers or --policy, or accept with --allow-unchecked-platform)`);
}

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      'trust-root': { type: 'string', multiple: true },
      'trust-store': { type: 'string', multiple: true },
      'no-require-aik-eku': { type: 'boolean' },
      measurements: { type: 'string' },
      containers: { type: 'string' },
      policy: { type: 'string' },
      nonce: { type: 'string' },
      at: { type: 'string' },
      model: { type: 'string', multiple: true },
      hf: { type: 'string' },
      'hf-endpoint': { type: 'string' },
      'allow-unchecked-platform': { type: 'boolean' },
      'allow-simulation': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`${positionals.length ? 'exactly one' : 'an'} ATTESTATION is required\nusage: ${USAGE}`);
  const opts: VerifyAibomOptions = {};
  if (o.nonce !== undefined) {
    const n = tryFromHex(o.nonce);
    if (!n || n.length === 0) throw new UsageError(`--nonce must be hex, got '${o.nonce}'`);
    opts.nonce = n;
  }
  if (o.at !== undefined) {
    const at = new Date(o.at);
    if (!/^\d{4}-\d\d-\d\d/.test(o.at) || Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO 8601 time, got '${o.at}'`);
    opts.at = at;
  }
  if (o['trust-root']) opts.trustAnchors = o['trust-root'].map((p) => readInput(p, 'trust root'));
  // Named stores whose anchors carry their own EKU rule (spec/confidential-vms.md §7).
  const stores = readTrustStores(o['trust-store']);
  if (stores) opts.anchorRules = stores;
  if (o['no-require-aik-eku']) opts.requireAikEku = false;
  if (o.measurements) opts.measurements = readInput(o.measurements, 'measurements file');
  if (o.containers) opts.containers = readInput(o.containers, 'containers file');
  if (o.policy) opts.policy = readInput(o.policy, 'policy file');
  if (o['allow-unchecked-platform']) opts.allowUncheckedPlatform = true;
  if (o['allow-simulation']) opts.allowSimulation = true;
  if (o.model?.length) opts.artifacts = modelVerifier(o.model);
  // --hf: bound outputs against a pinned Hub commit (spec/hub.md), loaded only when asked for
  const hub = o.hf !== undefined || o['hf-endpoint'] !== undefined ? await import('../node/hub-verify.js') : undefined;
  const hubRun = hub?.hubFromCli(o.hf, o['hf-endpoint'], process.env);
  if (hubRun && o.model?.length) throw new UsageError('give --model or --hf, not both');
  if (hubRun) opts.artifacts = hubRun.artifacts;
  const doc = readInput(positionals[0]!, 'attestation');
  const r = await verifyAibom(doc, opts);
  if (o.json) {
    for (const x of r.warnings) process.stderr.write(`aicert verify: warning: ${x}\n`);
    printJson({ valid: r.valid, checks: r.checks, claims: r.claims, ...(hubRun?.report() ? { hub: hubRun.report() } : {}) });
  } else {
    for (const line of hubRun?.report() ? hub!.hubReportLines(hubRun.report()!) : []) process.stdout.write(line + '\n');
    printHuman(r);
  }
  return r.valid ? 0 : 1;
}
