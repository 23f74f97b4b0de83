/** Steps 8–9: the ID card (v1: the statement must equal the measured events) and the outputs the caller holds. */
import { VerificationError } from '../../errors.js';
import { checkArtifacts } from '../artifacts.js';
import { checkStatement, claimsFromFacts } from '../claims.js';
import type { Ctx } from '../report.js';
import type { ArtifactReport } from '../types.js';

/** Step 8: claims from the measured events; for v1 the signed-over statement must state exactly the same. */
export function stepClaims(ctx: Ctx): void {
  const ev = ctx.ev!;
  const f = ctx.facts!;
  const base = { ...ctx.claims, ...claimsFromFacts(f), format: ev.format, ...(ev.simulation ? { simulation: true } : {}) };
  if (f.models.length > 1) ctx.warnings.push(`${f.models.length} model resources measured; no single base model`);
  if (ev.format === 'aibom-v1') {
    try {
      ctx.claims = checkStatement(ev.statement!, f, base);
    } catch (e) {
      if (e instanceof VerificationError) ctx.rep.fail('claims', e);
      throw e;
    }
    return ctx.rep.pass('claims', `the statement states exactly the measured inputs and ${f.outputs?.length ?? 0} outputs`);
  }
  ctx.claims = base;
  ctx.rep.pass('claims', `read from ${f.events.length} measured events${ev.simulation ? ' (NOT attested: simulation mode)' : ''}`);
}

/** Step 9: every given artifact matches a bound output digest. */
export async function stepArtifacts(ctx: Ctx): Promise<void> {
  const a = ctx.opts.artifacts;
  const outputs = ctx.claims.outputs ?? [];
  if (!a) return ctx.rep.skip('artifacts', `no options.artifacts given: ${outputs.length} bound output digests not compared with any weights`, 'info');
  let rep: ArtifactReport;
  try {
    rep = typeof a === 'function' ? await a(outputs) : await checkArtifacts(outputs, a);
  } catch (e) {
    // a verifier callback that could not judge (e.g. a lying Hub, spec/hub.md §6) fails this check with its own code
    if (e instanceof VerificationError) ctx.rep.fail('artifacts', e);
    throw e;
  }
  const n = rep.matched.length;
  if (!rep.ok) {
    const parts = [
      rep.mismatched.length ? `mismatched: ${rep.mismatched.join(', ')}` : '',
      rep.extra.length ? `not bound: ${rep.extra.join(', ')}` : '',
      n === 0 && !rep.mismatched.length && !rep.extra.length ? 'no file given' : '',
    ].filter(Boolean);
    const code = rep.mismatched.length || rep.extra.length ? 'ARTIFACT_MISMATCH' : 'ARTIFACT_MISSING';
    ctx.rep.fail('artifacts', new VerificationError(code, `model files do not match the bound outputs (${parts.join('; ')})`, { ...rep }));
  }
  if (rep.missing.length) ctx.warnings.push(`bound outputs not given: ${rep.missing.join(', ')}`);
  ctx.rep.pass('artifacts', `${n} file${n === 1 ? '' : 's'} match bound output digests${rep.missing.length ? ` (${rep.missing.length} bound outputs not given)` : ''}`);
}
