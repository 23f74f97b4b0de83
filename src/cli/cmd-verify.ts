/**
 * `aicert verify` = `aicert-verify` (spec/cli.md §aicert-verify): verifies an original aicert attestation.json or an
 * AIBOM v1 (JSON or CBOR, auto-detected). Exit 0 valid, 1 a check failed or could not run, 2 malformed input or bad
 * usage. Human output: verify-report.ts. `--json`: {valid, checks, claims, warnings, unchecked, artifacts?, error?}.
 */
import { verifyAibom } from '../aibom/verify.js';
import { MalformedInputError } from '../errors.js';
import type { VerifyAibomOptions, VerifyAibomResult } from '../aibom/types.js';
import { modelVerifier, type LocalArtifactReport } from '../node/model-verifier.js';
import { globMatcher } from '../node/glob.js';
import { createProgressBar } from '../node/progress.js';
import { parse, printJson, readInput, usageError } from './io.js';
import { safe } from './text.js';
import { flagWords } from './flag-words.js';
import { printVerifyReport } from './verify-report.js';
import { VERIFY_FLAGS, verifyOptionsFrom } from './verify-options.js';
import { stderr } from '../node/stderr.js';

/** The ID card rows (kept here for the commands that print one). */
export { idCard } from './verify-report.js';

const USAGE =
  'aicert-verify ATTESTATION [--trust-root PEM]... [--measurements FILE] [--containers FILE] [--policy FILE] ' +
  '[--nonce HEX] [--at ISO8601] [--model PATH]... [--ignore GLOB]... [--hf ORG/NAME@REV [--hf-endpoint URL]] ' +
  '[--allow-unchecked-platform] [--allow-simulation] [--trust-store azure|gce|amd|intel]... [--no-require-aik-eku] ' +
  '[--amd-roots PEM]... [--intel-root PEM]... [--json]';

const HELP = `usage: ${USAGE}

Verifies an AI model certificate: the original aicert attestation.json or an AIBOM v1 (JSON or CBOR).
  --trust-root PEM            trust anchor for the AK certificate chain (repeatable; replaces the Azure vTPM root 2023)
  --measurements FILE         golden PCR values, original format {"measurements": {"<pcr>": "<hex>"}}
  --containers FILE           expected container ids, original format {"<image>": "sha256:<hex>"}
  --policy FILE               aicert policy (spec/policy.md)
  --nonce HEX                 the quote must carry this nonce (original: raw qualifying data; AIBOM v1: its binding)
  --at ISO8601                time at which certificates must be valid (default now)
  --model PATH                output file or directory to check against the bound digests (repeatable); a
                              Hugging Face cache snapshot or a downloaded repository folder works as is
  --ignore GLOB               more files that are not outputs (repeatable; README.md, .gitattributes, LICENSE*
                              and the like already are): listed, not checked. '*' within a name, '**' across folders
  --hf ORG/NAME@REV           compare the bound digests with that Hub commit's tree (REV: the 40-hex commit;
                              datasets/ORG/NAME@REV for a dataset); LFS weights are not downloaded. HF_TOKEN if gated
  --hf-endpoint URL           the Hub to ask (default $HF_ENDPOINT, else https://huggingface.co)
  --trust-store NAME          named anchors: azure, gce (AK certificates), amd, intel (confidential-VM hardware roots)
  --amd-roots PEM             AMD ARK and ASK certificates a confidential VM's VCEK must chain to (repeatable)
  --intel-root PEM            Intel SGX root a TDX PCK chain must end at (repeatable). Without any trust option the
                              embedded AMD/Intel public roots are used; with --trust-root/--trust-store, only those named
  --allow-unchecked-platform  accept that no golden PCR values / container ids were given (still listed as not checked)
  --allow-simulation          accept original documents made in simulation mode (NO hardware evidence at all)
  --json                      one JSON document (spec/cli.schema.json): {"valid", "checks", "claims", "warnings",
                              "unchecked", "artifacts"?, "error"?: {"code", "message"}}
  --version                   print the version
Exit: 0 valid, 1 a check failed or could not run, 2 malformed input or bad usage.

Example:
  aicert-verify aibom.json --trust-root ca.pem --policy policy.json --nonce 9f2c… \\
      --model ~/.cache/huggingface/hub/models--org--name/snapshots/<rev>`;

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      ...VERIFY_FLAGS,
      model: { type: 'string', multiple: true },
      ignore: { type: 'string', multiple: true },
      hf: { type: 'string' },
      'hf-endpoint': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw usageError(`${positionals.length ? 'exactly one' : 'an'} ATTESTATION is required`, USAGE);
  const opts: VerifyAibomOptions = verifyOptionsFrom(o, USAGE);
  if (o.ignore?.length && !o.model?.length && o.hf === undefined) throw usageError('--ignore needs --model or --hf', USAGE);
  let ignore: ((n: string) => boolean) | undefined;
  try {
    ignore = o.ignore?.length ? globMatcher(o.ignore) : undefined;
  } catch (e) {
    throw usageError(`--ignore: ${(e as Error).message}`, USAGE);
  }
  let local: LocalArtifactReport | undefined;
  // progress on stderr while --model hashes, only on a terminal
  const bar = createProgressBar(process.stderr);
  if (o.model?.length) opts.artifacts = modelVerifier(o.model, { ignore, onProgress: (d, t) => bar.update(d, t), onReport: (r) => (local = r) });
  // --hf: bound outputs against a pinned Hub commit (spec/hub.md), loaded only when asked for
  const hub = o.hf !== undefined || o['hf-endpoint'] !== undefined ? await import('../node/hub-verify.js') : undefined;
  if (hub && o.hf === undefined) throw new MalformedInputError('--hf-endpoint needs --hf ORG/NAME@<40-hex commit>', { path: 'hf-endpoint' });
  const hubRun = hub?.hubFromCli(o.hf!, o['hf-endpoint'], process.env, ignore);
  if (hubRun && o.model?.length) throw usageError('give --model or --hf, not both', USAGE);
  if (hubRun) opts.artifacts = hubRun.artifacts;
  const doc = readInput(positionals[0]!, 'attestation');
  let r: VerifyAibomResult;
  try {
    r = await verifyAibom(doc, opts);
  } finally {
    bar.done();
  }
  if (o.json) {
    for (const x of r.warnings) stderr`aicert verify: warning: ${x}\n`;
    const hubReport = hubRun?.report();
    printJson({ ...verifyJson(r, local), ...(hubReport ? { hub: hubReport } : {}) });
  } else {
    const hubReport = hubRun?.report();
    // hub lines escape their untrusted parts themselves (escaping the line again would double every backslash)
    for (const line of hubReport ? hub!.hubReportLines(hubReport) : []) process.stdout.write(flagWords(line) + '\n');
    printVerifyReport(r, local, (s) => void process.stdout.write(s + '\n'));
  }
  return r.valid ? 0 : 1;
}

/** The --json document (spec/cli.md §JSON): the same content as the human report, error included on failure. */
export function verifyJson(r: VerifyAibomResult, local: LocalArtifactReport | undefined): Record<string, unknown> {
  const checks = r.checks.map((c) => ({ ...c, detail: flagWords(c.detail) }));
  const doc: Record<string, unknown> = { valid: r.valid, checks, claims: r.claims, warnings: r.warnings.map(flagWords), unchecked: r.unchecked };
  if (local) doc.artifacts = local;
  if (r.error) doc.error = { code: r.error.code, message: flagWords(r.error.message) };
  else if (!r.valid) doc.error = { code: 'UNCHECKED', message: `could not check ${r.unchecked.join(', ')}` };
  return doc;
}
