/**
 * `aicert policy from-log LOG [--pcrs LIST] > policy.json`: writes an aicert policy (spec/policy.md) from a
 * known-good event log: each chosen PCR's replayed value as its golden value, and its exact event digests as golden
 * boot events. Exit 0 written, 2 malformed log or bad usage.
 */
import { parseEventLog } from '../eventlog/detect.js';
import { policyFromLog, policyToJson } from '../aibom/policy.js';
import { MAX_LARGE_INPUT_BYTES, parse, printJson, readInput, UsageError } from './io.js';
import { stderr } from '../node/stderr.js';

const USAGE = 'aicert policy from-log LOG [--pcrs LIST] [--description TEXT]';
const HELP = `usage: ${USAGE}

Writes a policy (JSON, on stdout) from a known-good event log (any format aicert eventlog reads).
  --pcrs LIST          PCRs to pin, e.g. 0-7 or 0,1,2,3,4,7 (default: every PCR the log extends)
  --description TEXT   a note stored in the policy
Use it as: aicert-verify ATTESTATION --policy policy.json`;

/** Parses `0-7,9,11-13` into sorted unique PCR indices (0..23). */
export function parsePcrList(s: string): number[] {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^\s*(\d{1,2})(?:\s*-\s*(\d{1,2}))?\s*$/.exec(part);
    if (!m) throw new UsageError(`--pcrs: bad item '${part}'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > 23 || b > 23 || b < a) throw new UsageError(`--pcrs: bad range '${part}' (PCRs are 0..23)`);
    for (let p = a; p <= b; p++) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    { pcrs: { type: 'string' }, description: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const [sub, log, ...rest] = positionals;
  if (sub !== 'from-log' || !log || rest.length) throw new UsageError(`usage: ${USAGE}`);
  const pcrs = o.pcrs !== undefined ? parsePcrList(o.pcrs) : undefined;
  const parsed = parseEventLog(readInput(log, 'event log', MAX_LARGE_INPUT_BYTES));
  const policy = policyFromLog(parsed, pcrs);
  if (o.description !== undefined) policy.description = o.description;
  for (const w of parsed.warnings) stderr`aicert policy: warning: ${w}\n`;
  printJson(policyToJson(policy));
  return 0;
}
