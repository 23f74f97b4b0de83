/**
 * Step 5 of verifyAibom: the binary TCG boot event log replays to the quoted PCRs. Imported by the logs step only for
 * documents that carry a boot log. spec/aibom-v1.md §5; replay rules: TCG PC Client PFP r1.06 §3.3.3.
 */
import { VerificationError } from '../../errors.js';
import { extendsPcr } from '../../eventlog/replay.js';
import { iterEvents } from '../../eventlog/store.js';
import { parseTcgLog } from '../../eventlog/tcg.js';
import { verifyLog } from '../../eventlog/verify.js';
import { APP_PCRS, type Ctx } from '../report.js';

/** A boot log must replay to the quoted values of every PCR it extends (except app PCRs). */
export function replayBootLog(ctx: Ctx, bytes: Uint8Array): void {
  const log = parseTcgLog(bytes);
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
