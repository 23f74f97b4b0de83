/**
 * Steps 5–6: the boot event log replays to the quoted PCRs (when present), and the app events replay to the quoted
 * PCR 14 (inputs) and PCR 8 (outputs); PCR 15 binds the TLS certificate; v1's last PCR 8 event is the statement
 * digest. spec/aibom-v1.md §5; replay rules: TCG PC Client PFP r1.06 §3.3.3 (via src/eventlog/verify.ts).
 */
import { MalformedInputError, VerificationError } from '../../errors.js';
import { parseAicertJson } from '../../eventlog/aicert-json.js';
import { extendsPcr } from '../../eventlog/replay.js';
import { iterEvents } from '../../eventlog/store.js';
import { parseTcgLog } from '../../eventlog/tcg.js';
import { verifyLog } from '../../eventlog/verify.js';
import { bytesEqual, toHex, utf8 } from '../../util/bytes.js';
import { extend, hash, TPM_ALG } from '../../util/hash.js';
import type { Ctx } from '../report.js';

/** PCRs that hold app events (never judged by the boot log). */
export const APP_PCRS = [8, 14, 15];

/** Step 5: a boot log, when present, must replay to the quoted values of every PCR it extends (except app PCRs). */
export function stepBootLog(ctx: Ctx): void {
  const ev = ctx.ev!;
  if (ev.simulation) return ctx.rep.skip('bootlog', 'simulation mode: no boot event log', 'simulation');
  if (!ev.bootEventLog) return ctx.rep.skip('bootlog', 'the document has no boot event log; boot PCRs are judged by golden values only', 'info');
  const log = parseTcgLog(ev.bootEventLog);
  // Every PCR the log extends, and every PCR a bootEvents rule judges even when the log has no event for it.
  const ruled = Object.keys(ctx.policy.bootEvents ?? {}).map(Number);
  // One undecoded pass over the events: the PCRs they extend and how many extend each.
  const perPcr = new Map<number, number>();
  for (const e of iterEvents(log, false)) if (extendsPcr(e)) perPcr.set(e.pcr, (perPcr.get(e.pcr) ?? 0) + 1);
  const pcrs = [...new Set([...perPcr.keys(), ...ruled])].filter((p) => !APP_PCRS.includes(p)).sort((a, b) => a - b);
  if (APP_PCRS.some((p) => perPcr.has(p))) ctx.warnings.push('the boot event log extends PCR 8/14/15, which AIBOM reserves for app events');
  try {
    const verified = verifyLog(log, ctx.quoted!, { pcrs });
    ctx.boot = { log, verified };
  } catch (e) {
    if (e instanceof VerificationError) ctx.rep.fail('bootlog', new VerificationError(e.code, `boot event log: ${e.message}`, e.details));
    throw e;
  }
  const n = pcrs.reduce((sum, p) => sum + (perPcr.get(p) ?? 0), 0);
  ctx.rep.pass('bootlog', `${n} boot events (${log.format}) replay to the quoted PCRs ${pcrs.join(',')}`);
}

/** The quoted sha256 value of a PCR, or PCR_NOT_QUOTED. */
function quotedSha256(ctx: Ctx, id: string, pcr: number): Uint8Array {
  const v = ctx.quoted!.get(TPM_ALG.SHA256)?.get(pcr);
  if (!v) ctx.rep.fail(id, new VerificationError('PCR_NOT_QUOTED', `PCR ${pcr} (sha256) is not covered by the quote, so its events prove nothing`));
  return v!;
}

/** Replays one list of app strings against the quoted PCR. */
function replayApp(ctx: Ctx, id: string, pcr: 14 | 8, strings: string[], what: string): void {
  quotedSha256(ctx, id, pcr);
  let log;
  try {
    log = parseAicertJson(strings, { pcr });
  } catch (e) {
    if (e instanceof MalformedInputError) throw new MalformedInputError(`${what}s: ${e.message}`, { path: `pcr${pcr}` });
    throw e;
  }
  try {
    verifyLog(log, ctx.quoted!, { pcrs: [pcr] });
  } catch (e) {
    if (e instanceof VerificationError) ctx.rep.fail(id, new VerificationError(e.code, `${what}s: the ${strings.length} events do not replay to the quoted PCR ${pcr} (tampered, reordered, added or dropped event)`, e.details));
    throw e;
  }
  ctx.rep.pass(id, `${strings.length} ${what}${strings.length === 1 ? '' : 's'} replay to the quoted PCR ${pcr}`);
}

/** Step 6: app events (PCR 14 inputs, PCR 8 outputs), the statement event (v1) and the TLS certificate (PCR 15). */
export function stepAppLog(ctx: Ctx): void {
  const ev = ctx.ev!;
  if (ev.simulation) return ctx.rep.skip('applog', 'simulation mode: app events are not bound to any PCR', 'simulation');
  replayApp(ctx, 'applog.pcr14', 14, ev.app.pcr14, 'input event');
  replayApp(ctx, 'applog.pcr8', 8, ev.app.pcr8, 'output event');
  if (ev.format === 'aibom-v1') {
    // The statement digest is the last PCR 8 event, and nowhere else.
    const f = ctx.facts!;
    const last = f.events.filter((e) => e.pcr === 8).at(-1);
    const count = f.events.filter((e) => e.type === 'aibom_statement').length;
    const d = ctx.claims.statementDigest;
    if (!last || last.type !== 'aibom_statement' || count !== 1 || f.statementDigest !== d) {
      ctx.rep.fail('binding.statement', new VerificationError('BINDING_MISMATCH', `the last PCR 8 event must be the only aibom_statement event and carry sha256:${d}`));
    }
    ctx.rep.pass('binding.statement', 'the statement digest is the last event extended into PCR 8');
  }
  // PCR 15: sha256(0^32 ‖ sha256(certificate PEM)) when a certificate is present.
  const pcr15 = quotedSha256(ctx, 'applog.pcr15', 15);
  const pem = ev.tlsCertificate ?? '';
  if (pem) {
    const certHash = hash(TPM_ALG.SHA256, utf8(pem));
    const want = extend(TPM_ALG.SHA256, new Uint8Array(32), certHash);
    if (!bytesEqual(want, pcr15)) ctx.rep.fail('applog.pcr15', new VerificationError('PCR_REPLAY_MISMATCH', 'the TLS certificate is not the one extended into PCR 15'));
    ctx.claims.tlsCertificateSha256 = toHex(certHash);
    return ctx.rep.pass('applog.pcr15', `TLS certificate (sha256 ${toHex(certHash).slice(0, 16)}…) is bound through PCR 15`);
  }
  if (pcr15.every((b) => b === 0)) return ctx.rep.pass('applog.pcr15', 'no TLS certificate, and PCR 15 is empty');
  ctx.warnings.push(`PCR 15 holds ${toHex(pcr15)} but the document carries no TLS certificate`);
  ctx.rep.skip('applog.pcr15', 'PCR 15 is extended but the document carries no TLS certificate to compare', 'info');
}
