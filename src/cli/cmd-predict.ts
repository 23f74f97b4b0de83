/**
 * `aicert predict --uki FILE.efi [--boot-flow ovmf|azure] [--json] [--pcrs FILE]`: golden PCR 4/9/11 values and
 * the expected events for a Unified Kernel Image (see spec/uki-prediction.md). With --pcrs (the `aicert eventlog`
 * format, {"<bank>": {"<pcr>": "<hex>"}}) it compares the prediction and exits 1 naming each mismatching PCR.
 * Exit codes follow spec/cli.md: 0 ok, 1 mismatch, 2 malformed input or usage.
 */
import { predictPcrs, type BootFlow, type PcrPrediction } from '../eventlog/predict.js';
import type { EventDigest } from '../eventlog/types.js';
import { toHex } from '../util/bytes.js';
import { hashName } from '../util/hash.js';
import { parsePcrsFile } from './cmd-eventlog.js';
import { MAX_LARGE_INPUT_BYTES, parse, printJson, readInput, UsageError } from './io.js';
import { stderrLines } from '../node/stderr.js';
import { safe } from './text.js';

const USAGE = 'aicert predict --uki FILE.efi [--boot-flow ovmf|azure] [--json] [--pcrs FILE]';
const out = (s: string) => process.stdout.write(s + '\n');
const err = stderrLines('');

const FLOWS: Record<string, BootFlow> = { ovmf: 'ovmf', qemu: 'ovmf', azure: 'azure-trusted-launch', 'azure-trusted-launch': 'azure-trusted-launch' };

/** Digests keyed by bank name. */
const byBank = (ds: EventDigest[]) => Object.fromEntries(ds.map((d) => [hashName(d.alg), toHex(d.digest)]));

/** The --json document. */
export function predictionJson(p: PcrPrediction): Record<string, unknown> {
  const pcrs: Record<string, Record<string, string>> = {};
  for (const [alg, bank] of p.pcrs) {
    pcrs[hashName(alg)] = Object.fromEntries([...bank].sort((a, b) => a[0] - b[0]).map(([i, v]) => [String(i), toHex(v)]));
  }
  return {
    bootFlow: p.bootFlow,
    stubVersion: p.stubVersion ?? null,
    stubSectionOrder: p.stubSectionOrder,
    authenticode: { uki: byBank(p.authenticode.uki), kernel: byBank(p.authenticode.kernel) },
    measuredSections: p.measuredSections,
    cmdline: p.cmdline ?? null,
    pcrs,
    events: p.events.map((e) => ({ pcr: e.pcr, type: e.type, typeName: e.typeName, description: e.description, digests: byBank(e.digests) })),
    unverified: p.unverified,
  };
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { uki: { type: 'string' }, 'boot-flow': { type: 'string' }, json: { type: 'boolean' }, pcrs: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (values.help) {
    out(`usage: ${USAGE}`);
    return 0;
  }
  if (!values.uki || positionals.length > 0) throw new UsageError(`--uki FILE is required\nusage: ${USAGE}`);
  const flow = FLOWS[values['boot-flow'] ?? 'ovmf'];
  if (!flow) throw new UsageError(`--boot-flow must be ovmf or azure\nusage: ${USAGE}`);
  const expected = values.pcrs ? parsePcrsFile(readInput(values.pcrs, '--pcrs')) : undefined;
  const p = predictPcrs({ uki: readInput(values.uki, '--uki', MAX_LARGE_INPUT_BYTES), bootFlow: flow });

  // Compare with --pcrs: every given (bank, PCR) must be one this command predicts, and equal to it.
  const bad: string[] = [];
  for (const [alg, pcrs] of expected ?? []) {
    for (const [i, want] of pcrs) {
      const got = p.pcrs.get(alg)?.get(i);
      if (!got) bad.push(`PCR ${i} (${hashName(alg)}): not predicted (aicert predict covers PCRs 4, 9, 11 in sha1/sha256)`);
      else if (toHex(got) !== toHex(want)) bad.push(`PCR ${i} (${hashName(alg)}): predicted ${toHex(got)}, expected ${toHex(want)}`);
    }
  }

  const mismatch = bad.length ? { error: { code: 'PCR_REPLAY_MISMATCH', message: `${bad.length} given PCR value(s) differ from the prediction` } } : {};
  if (values.json) printJson({ ...predictionJson(p), ...(expected ? { match: bad.length === 0, mismatches: bad } : {}), ...mismatch });
  else {
    // the stub version is text from the UKI's .sdmagic section: escaped like every untrusted string
    out(`boot flow: ${p.bootFlow}${p.stubVersion ? `   systemd-stub ${safe(p.stubVersion, 80)}` : ''}`);
    for (const [what, ds] of [['UKI', p.authenticode.uki], ['kernel', p.authenticode.kernel]] as const) {
      for (const d of ds) out(`authenticode ${what.padEnd(6)} ${hashName(d.alg).padEnd(6)} ${toHex(d.digest)}`);
    }
    out('\nexpected events:');
    for (const e of p.events) {
      const sha = e.digests.find((d) => hashName(d.alg) === 'sha256') ?? e.digests[0]!;
      out(`  PCR ${String(e.pcr).padStart(2)}  ${e.typeName.padEnd(32)} ${toHex(sha.digest).slice(0, 16)}…  ${e.description}`);
    }
    out('\npredicted PCRs:');
    for (const [alg, bank] of p.pcrs) for (const [i, v] of [...bank].sort((a, b) => a[0] - b[0])) out(`  ${hashName(alg).padEnd(6)} ${String(i).padStart(2)}: ${toHex(v)}`);
    for (const u of p.unverified) err(`warning: unverified assumption: ${u}`);
    if (expected) out(bad.length === 0 ? '\nall given PCRs match the prediction' : '');
  }
  for (const b of bad) err(`mismatch: ${b}`);
  return bad.length === 0 ? 0 : 1;
}
