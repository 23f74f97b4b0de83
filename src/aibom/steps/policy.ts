/**
 * Step 7: the policy (spec/policy.md). Golden PCR values and boot events judge the platform; container ids, base
 * models, datasets and required events judge the inputs. Missing platform rules are reported as "not checked" and
 * keep the verdict invalid unless allowUncheckedPlatform.
 */
import { PolicyError, type PolicyCode } from '../../errors.js';
import { toHex } from '../../util/bytes.js';
import { hashAlgByName } from '../../util/hash.js';
import type { AppEvent } from '../events.js';
import { isObj } from '../json.js';
import { parsePlatformSubject, subjectMatches, type Policy } from '../policy.js';
import type { AibomCheckId } from '../check-ids.js';
import { APP_PCRS, type Ctx } from '../report.js';

const deny = (ctx: Ctx, id: AibomCheckId, code: PolicyCode, msg: string): never => ctx.rep.fail(id, new PolicyError(code, msg));

/** Golden PCR values: every listed PCR is quoted and holds an allowed value. */
function checkPcrs(ctx: Ctx, pcrs: NonNullable<Policy['pcrs']>): void {
  const judged: string[] = [];
  for (const [bank, m] of Object.entries(pcrs)) {
    const alg = hashAlgByName(bank)!;
    for (const [k, allowed] of Object.entries(m)) {
      const v = ctx.quoted!.get(alg)?.get(Number(k));
      if (!v) deny(ctx, 'policy.pcrs', 'PCR_NOT_QUOTED', `policy sets PCR ${k} (${bank}) but the quote does not cover it`);
      if (!allowed.includes(toHex(v!))) deny(ctx, 'policy.pcrs', 'PCR_VALUE_NOT_ALLOWED', `PCR ${k} (${bank}) = ${toHex(v!).slice(0, 16)}… is not a golden value`);
      judged.push(k);
    }
  }
  ctx.rep.pass('policy.pcrs', `PCRs ${[...new Set(judged)].sort((a, b) => +a - +b).join(',')} hold golden values`);
}

/** Golden boot events: the verified boot log's events of each listed PCR match the rule. */
function checkBootEvents(ctx: Ctx, rules: NonNullable<Policy['bootEvents']>): void {
  if (!ctx.boot) deny(ctx, 'policy.bootEvents', 'BOOT_LOG_REQUIRED', 'the policy sets golden boot events but no boot event log was verified');
  // Only events of PCRs whose replay matched the quote, and only in the banks that were compared, prove anything.
  const { events, pcrs: verdicts } = ctx.boot!.verified;
  for (const [k, rule] of Object.entries(rules)) {
    const verdict = verdicts.find((v) => v.pcr === Number(k));
    if (!verdict) deny(ctx, 'policy.bootEvents', 'PCR_NOT_QUOTED', `policy sets boot events for PCR ${k}, whose boot events were not verified against the quote (PCRs ${APP_PCRS.join(', ')} hold app events)`);
    const evs = events.filter((e) => e.pcr === Number(k));
    for (const [bank, golden] of Object.entries(rule.digests)) {
      const alg = hashAlgByName(bank)!;
      if (!verdict!.banks.includes(alg)) deny(ctx, 'policy.bootEvents', 'PCR_NOT_QUOTED', `policy sets ${bank} boot events for PCR ${k}, but the quote does not cover that bank, so the log's ${bank} digests are unverified`);
      const got = evs.map((e) => e.digests.find((d) => d.alg === alg)).map((d) => (d ? toHex(d.digest) : ''));
      if (rule.match === 'subset') {
        const bad = got.findIndex((g) => !golden.includes(g));
        if (bad >= 0) deny(ctx, 'policy.bootEvents', 'BOOT_EVENT_NOT_ALLOWED', `PCR ${k}: event ${evs[bad]!.index} (${evs[bad]!.typeName}) has no golden ${bank} digest`);
        continue;
      }
      const bad = got.findIndex((g, i) => g !== golden[i]);
      if (bad >= 0) deny(ctx, 'policy.bootEvents', 'BOOT_EVENT_NOT_ALLOWED', `PCR ${k}: event ${evs[bad]!.index} (${evs[bad]!.typeName}) differs from golden event #${bad}`);
      if (got.length !== golden.length) deny(ctx, 'policy.bootEvents', 'BOOT_EVENT_NOT_ALLOWED', `PCR ${k}: ${got.length} events, the policy expects ${golden.length}`);
    }
  }
  ctx.rep.pass('policy.bootEvents', `boot events of PCRs ${Object.keys(rules).join(',')} match the golden digests`);
}

/** `<event_type>` or `<event_type>:<qualifier>` (image_name for input_image, resource_type for input_resource). */
function labels(e: AppEvent): string[] {
  const spec = isObj(e.content) && isObj(e.content.spec) ? e.content.spec : {};
  const rp = isObj(spec.resource_proto) ? spec.resource_proto : {};
  const q = e.type === 'input_image' ? spec.image_name : e.type === 'input_resource' ? rp.resource_type : undefined;
  return typeof q === 'string' ? [e.type, `${e.type}:${q}`] : [e.type];
}

/** Required events: each exactly once, in the listed order. */
function checkRequired(ctx: Ctx, required: string[]): void {
  const evs = ctx.facts!.events;
  let last = -1;
  for (const r of required) {
    const hits = evs.filter((e) => labels(e).includes(r));
    if (hits.length !== 1) deny(ctx, 'policy.events', 'REQUIRED_EVENT', `required event ${r} occurs ${hits.length} times (exactly once expected)`);
    const pos = evs.indexOf(hits[0]!);
    if (pos < last) deny(ctx, 'policy.events', 'REQUIRED_EVENT_ORDER', `required event ${r} comes before an event the policy lists earlier`);
    last = pos;
  }
  ctx.rep.pass('policy.events', `${required.length} required events occur once each, in order`);
}

/** Step 7. */
export function stepPolicy(ctx: Ctx): void {
  const p = ctx.policy;
  const f = ctx.facts!;
  const sim = ctx.ev!.simulation;
  // Platform: golden PCR values and/or golden boot events.
  if (!p.pcrs && !p.bootEvents) ctx.rep.skip('policy.platform', 'no golden PCR values or boot events (options.measurements or options.policy): the boot stack is unverified', 'platform');
  if (p.pcrs) sim ? ctx.rep.skip('policy.pcrs', 'simulation mode: no quoted PCRs', 'simulation') : checkPcrs(ctx, p.pcrs);
  if (p.bootEvents) sim ? ctx.rep.skip('policy.bootEvents', 'simulation mode: no boot log', 'simulation') : checkBootEvents(ctx, p.bootEvents);
  if (p.platformSubjects && !sim) {
    const subj = ctx.chain!.leaf.subject;
    const attrs = ctx.chain!.leaf.subjectAttributes;
    if (!p.platformSubjects.some((s) => subjectMatches(parsePlatformSubject(s, 'policy.platformSubjects'), attrs))) deny(ctx, 'policy.platformSubject', 'PLATFORM_NOT_ALLOWED', `AK certificate subject "${subj}" is not an allowed platform`);
    ctx.rep.pass('policy.platformSubject', `AK certificate subject is an allowed platform`);
  }
  // Containers: every measured image must be listed with its id.
  if (!p.containers) ctx.rep.skip('policy.containers', `no container ids (options.containers or options.policy): ${f.images.length} measured images unverified`, 'platform');
  else {
    for (const img of f.images) {
      const allowed = p.containers[img.name];
      if (!allowed) deny(ctx, 'policy.containers', 'CONTAINER_NOT_ALLOWED', `image ${img.name} is not in the container list`);
      if (!allowed!.includes(img.digest)) deny(ctx, 'policy.containers', 'CONTAINER_NOT_ALLOWED', `image ${img.name} is ${img.digest.slice(0, 19)}…, not an allowed id`);
    }
    ctx.rep.pass('policy.containers', `${f.images.length} measured images have allowed ids`);
  }
  // Inputs: base model and datasets pinned to allowed revisions.
  if (p.baseModels) {
    if (f.models.length !== 1) deny(ctx, 'policy.baseModel', 'BASE_MODEL_NOT_ALLOWED', `${f.models.length} base models measured (exactly one expected)`);
    const m = f.models[0]!;
    if (!p.baseModels.includes(`${m.repo}@${m.revision}`)) deny(ctx, 'policy.baseModel', 'BASE_MODEL_NOT_ALLOWED', `base model ${m.repo}@${m.revision.slice(0, 12)} is not allowed`);
    ctx.rep.pass('policy.baseModel', `base model ${m.repo}@${m.revision.slice(0, 12)} is allowed`);
  }
  if (p.datasets) {
    const bad = f.datasets.find((d) => !p.datasets!.includes(`${d.repo}@${d.revision}`));
    if (bad) deny(ctx, 'policy.datasets', 'DATASET_NOT_ALLOWED', `dataset ${bad.repo}@${bad.revision.slice(0, 12)} is not allowed`);
    ctx.rep.pass('policy.datasets', `${f.datasets.length} dataset${f.datasets.length === 1 ? '' : 's'} allowed`);
  }
  if (p.requiredEvents) checkRequired(ctx, p.requiredEvents);
  // Confinement (runner area): a trainer measured as unconfined is refused unless the policy allows it.
  if (f.sandbox?.backend === 'none') {
    if (!p.allowUnconfinedTraining) deny(ctx, 'policy.sandbox', 'UNCONFINED_TRAINING', 'the trainer ran without a sandbox (the runner\'s unconfined-training mode): it could reach the TPM, the network and the runner\'s keys');
    ctx.rep.pass('policy.sandbox', 'the trainer ran unconfined, which the policy allows');
  } else if (f.sandbox) ctx.rep.pass('policy.sandbox', `the trainer ran in the ${f.sandbox.backend.slice(0, 20)} sandbox`);
}
