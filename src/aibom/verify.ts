/**
 * verifyAibom: a pipeline of named steps (spec/aibom-v1.md §5): 1 parse, 2 AK chain, 3 quote, 4 nonce/binding,
 * 5 boot log, 6 app log, 7 policy, 8 claims, 9 artifacts. Each step adds checks or fails; the pipeline stops at the
 * first failure and reports every check it ran. `valid` only when nothing failed and every check that could not
 * run was optional (freshness, artifacts) or explicitly waived (allowUncheckedPlatform, allowSimulation).
 */
import { PolicyError, VerificationError } from '../errors.js';
import { decodeEvents, readFacts } from './events.js';
import { parseAibom } from './parse.js';
import { mergePolicies, parseContainers, parsePolicy, policyFromMeasurements, type Policy } from './policy.js';
import { Report, type Ctx } from './report.js';
import { stepArtifacts, stepClaims } from './steps/claims.js';
import { stepAppLog, stepBootLog } from './steps/logs.js';
import { stepBinding, stepChain, stepQuote } from './steps/platform.js';
import { stepPolicy } from './steps/policy.js';
import type { VerifyAibomFailure, VerifyAibomOptions, VerifyAibomResult } from './types.js';
import { lowerHex } from './json.js';

/** Step 1: parse the document and decode its app events (structure only; nothing is trusted yet). */
function stepParse(ctx: Ctx, doc: Uint8Array | string | object): void {
  const ev = parseAibom(doc);
  ctx.ev = ev;
  ctx.warnings.push(...ev.warnings);
  const strict = ev.format === 'aibom-v1';
  const events = [...decodeEvents(14, ev.app.pcr14, strict, ctx.warnings), ...decodeEvents(8, ev.app.pcr8, strict, ctx.warnings)];
  try {
    ctx.facts = readFacts(events, ctx.warnings);
  } catch (e) {
    if (e instanceof VerificationError) ctx.rep.fail('document', e);
    throw e;
  }
  const what = ev.format === 'aibom-v1' ? 'AIBOM v1' : 'original aicert attestation.json';
  ctx.rep.pass('document', `${what}${ev.simulation ? ' (simulation mode)' : ''}: ${ev.app.pcr14.length} input and ${ev.app.pcr8.length} output events`);
}

const STEPS: { id: string; run: (ctx: Ctx) => void | Promise<void> }[] = [
  { id: 'ak.certificate', run: stepChain },
  { id: 'quote', run: stepQuote },
  { id: 'binding', run: stepBinding },
  { id: 'bootlog', run: stepBootLog },
  { id: 'applog', run: stepAppLog },
  { id: 'policy', run: stepPolicy },
  { id: 'claims', run: stepClaims },
  { id: 'artifacts', run: stepArtifacts },
];

/** Validates the options and builds the effective policy. Bad option values are TypeError / MalformedInputError. */
function prepare(options: VerifyAibomOptions): { policy: Policy; nonce?: Uint8Array } {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.at !== undefined && (!(options.at instanceof Date) || Number.isNaN(options.at.getTime()))) throw new TypeError('options.at must be a valid Date');
  const parts: Policy[] = [];
  if (options.policy !== undefined) parts.push(parsePolicy(options.policy as Parameters<typeof parsePolicy>[0]));
  if (options.measurements !== undefined) parts.push(policyFromMeasurements(options.measurements));
  if (options.containers !== undefined) parts.push({ containers: parseContainers(options.containers) });
  let nonce: Uint8Array | undefined;
  if (typeof options.nonce === 'string') nonce = lowerHex(options.nonce.toLowerCase().replace(/^0x/, ''), 'nonce');
  else if (options.nonce instanceof Uint8Array) nonce = options.nonce.slice();
  else if (options.nonce !== undefined) throw new TypeError('options.nonce must be hex or a Uint8Array');
  return { policy: mergePolicies(parts), ...(nonce ? { nonce } : {}) };
}

/**
 * Verifies an AIBOM (v1 JSON/CBOR) or an original aicert attestation.json. Resolves with the report; a failed check
 * gives `valid: false` with the error. Malformed documents or options throw MalformedInputError (exit code 2).
 */
export async function verifyAibom(doc: Uint8Array | string | object, options: VerifyAibomOptions = {}): Promise<VerifyAibomResult> {
  const { policy, nonce } = prepare(options);
  const ctx: Ctx = { opts: options, rep: new Report(options), warnings: [], claims: {}, policy, ...(nonce ? { nonce } : {}) };
  let error: VerifyAibomFailure | undefined;
  try {
    stepParse(ctx, doc instanceof Uint8Array ? doc.slice() : doc);
    for (const step of STEPS) await step.run(ctx);
  } catch (e) {
    if (!(e instanceof VerificationError || e instanceof PolicyError)) throw e;
    const last = ctx.rep.checks.at(-1);
    if (!last || last.ok !== false) ctx.rep.checks.push({ id: 'verify', ok: false, detail: e.message });
    error = { name: e.name, code: e.code, message: e.message };
  }
  const report = { checks: ctx.rep.checks, claims: ctx.claims, warnings: [...new Set(ctx.warnings)] };
  // Valid only with no failure, no failed check and nothing left unchecked.
  if (error === undefined && ctx.rep.blocking.length === 0 && ctx.rep.checks.every((c) => c.ok !== false)) {
    return { valid: true, ...report, unchecked: [] };
  }
  return { valid: false, ...report, unchecked: ctx.rep.blocking, ...(error ? { error } : {}) };
}
