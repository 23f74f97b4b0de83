/**
 * Steps 2–4: the AK certificate chain, the quote (signature, type, PCR digest) with the AK bound to the certificate,
 * and the nonce/binding of the quote's qualifyingData. spec/aibom-v1.md §5 and spec/verification.md §2–3.
 */
import { VerificationError } from '../../errors.js';
import { verifyAkChain } from '../../tpm/akcert.js';
import { describeKey, loadAkPublic, materialFromSpki, sameKey, type AkKey } from '../../tpm/keys.js';
import { attributesFromCertificate, verifyQuote } from '../../tpm/quote.js';
import { formatSelection } from '../../tpm/pcr-selection.js';
import { formatFirmwareVersion } from '../../tpm/attest.js';
import { concat, constantTimeEqual, toHex } from '../../util/bytes.js';
import { hash, TPM_ALG } from '../../util/hash.js';
import type { QuoteCheckId } from '../../tpm/check-ids.js';
import type { Check } from '../../tpm/quote.js';
import type { Ctx } from '../report.js';

const SIM = 'simulation mode: the document carries no TPM evidence';

/** Step 2: the AK certificate chains to a configured trust anchor and is fit to be an AK certificate. */
export async function stepChain(ctx: Ctx): Promise<void> {
  const ev = ctx.ev!;
  if (ev.simulation) {
    if (!ctx.opts.allowSimulation) ctx.rep.fail('simulation', new VerificationError('SIMULATION_MODE', `${SIM}; never valid unless simulation is explicitly allowed`));
    ctx.warnings.push('SIMULATION MODE accepted: nothing about the platform, the inputs or the outputs is attested by hardware');
    ctx.rep.skip('ak.certificate', SIM, 'simulation');
    return;
  }
  const tpm = ev.tpm!;
  // Confidential VMs: the hardware chain vouches for the AK (spec/confidential-vms.md §AIBOM).
  if (ev.cvm) {
    // The hardware verifiers load only for documents that need them.
    const { stepCvm } = await import('../cvm.js');
    ctx.cvmAk = await stepCvm(ctx, ev.cvm);
    return;
  }
  try {
    ctx.chain = await verifyAkChain(tpm.akCertificates, {
      ...(ctx.opts.trustAnchors ? { trustAnchors: ctx.opts.trustAnchors } : {}),
      ...(ctx.opts.intermediates ? { intermediates: ctx.opts.intermediates } : {}),
      ...(ctx.opts.anchorRules ? { anchorRules: ctx.opts.anchorRules } : {}),
      ...(ctx.opts.requireAikEku === false ? { requireAikEku: false } : {}),
      ...(ctx.opts.at ? { at: ctx.opts.at } : {}),
    });
  } catch (e) {
    if (e instanceof VerificationError) ctx.rep.fail('ak.certificate', e);
    throw e;
  }
  const c = ctx.chain;
  ctx.warnings.push(...c.warnings.map((w) => `AK chain: ${w}`));
  const azure = c.leaf.platform?.azure;
  ctx.claims.platform = {
    akSubject: c.leaf.subject,
    akIssuer: c.leaf.issuer,
    anchor: c.anchor.subject,
    description: azure ? `Azure Trusted Launch VM (${azure.cn})` : c.leaf.subject,
    ...(azure?.vmId ? { azureVmId: azure.vmId } : {}),
  };
  ctx.rep.pass('ak.certificate', `${c.leaf.subject || '(empty subject)'} chains to ${c.anchor.subject} (${c.path.length} certificates, valid at ${(ctx.opts.at ?? new Date()).toISOString()})`);
}

/** Step 3: the quote verifies with the AK, its PCR digest covers the document's PCR values, and the AK is the certified key. */
export async function stepQuote(ctx: Ctx): Promise<void> {
  const ev = ctx.ev!;
  if (ev.simulation) return ctx.rep.skip('quote', SIM, 'simulation');
  const tpm = ev.tpm!;
  const certKey = ctx.cvmAk ?? materialFromSpki(ctx.chain!.leaf.spki);
  const ak: AkKey = tpm.akPublic ? loadAkPublic(tpm.akPublic) : { material: certKey, source: 'certificate' };
  let q;
  try {
    q = await verifyQuote({ attest: tpm.attest, signature: tpm.signature, akPublic: ak, pcrs: tpm.pcrs }, ctx.opts.minRsaBits !== undefined ? { minRsaBits: ctx.opts.minRsaBits } : {});
  } catch (e) {
    if (e instanceof VerificationError) {
      const prior = (e.details?.checks as Check<QuoteCheckId>[] | undefined) ?? [];
      for (const ch of prior.slice(0, -1)) if (ch.id !== 'nonce') ctx.rep.checks.push({ ...ch, id: `quote.${ch.id}` });
      const last = prior[prior.length - 1];
      ctx.rep.fail(`quote.${last?.id ?? 'verify'}`, e);
    }
    throw e;
  }
  // The AK's properties come from the validated certificate (its TCG EKU), never from the document alone.
  for (const ch of attributesFromCertificate(q.checks, ctx.chain?.leaf.eku ?? [])) {
    if (ch.id === 'nonce') continue;
    if (ch.ok === null) {
      // HCLAkPub is bound by the hardware report; any other unproven AK property stays a required, unchecked item.
      const cvm = ch.id === 'ak.attributes' && ctx.cvmAk;
      ctx.rep.skip(`quote.${ch.id}`, cvm ? 'the AK is HCLAkPub, created by the paravisor and bound by the hardware report' : ch.detail, ch.id === 'ak.attributes' && !cvm ? 'required' : 'info');
    }
    else ctx.rep.checks.push({ ...ch, id: `quote.${ch.id}` });
  }
  // The key that verified the quote must be the key the certificate certifies.
  if (!sameKey(certKey, q.ak.material)) {
    ctx.rep.fail('ak.binding', new VerificationError('AK_KEY_MISMATCH', `the AK certificate certifies a different key (${describeKey(certKey)}) than the AK that signed the quote (${describeKey(q.ak.material)})`));
  }
  ctx.rep.pass('ak.binding', `the certified ${describeKey(certKey)} key signed the quote`);
  ctx.quote = q;
  ctx.quoted = q.pcrs!;
  const ci = q.attest.clockInfo;
  ctx.claims.quote = {
    clock: ci.clock.toString(),
    resetCount: ci.resetCount,
    restartCount: ci.restartCount,
    safe: ci.safe,
    firmwareVersion: formatFirmwareVersion(q.attest.firmwareVersion),
    pcrSelection: formatSelection(q.quote.pcrSelect),
  };
}

/** Step 4: original — raw qualifyingData vs --nonce; v1 — qualifyingData = sha256(D ‖ nonce), and nonce vs --nonce. */
export function stepBinding(ctx: Ctx): void {
  const ev = ctx.ev!;
  if (ev.simulation) return ctx.rep.skip('nonce', SIM, 'simulation');
  const extra = ctx.quote!.attest.extraData;
  if (ev.format === 'aicert-legacy') {
    if (extra.length === 0) ctx.warnings.push('the quote carries no nonce (original aicert): it proves nothing about when it was made');
    if (!ctx.nonce) return ctx.rep.skip('nonce', `no options.nonce given, so freshness is unknown (the quote carries ${extra.length} bytes of qualifying data)`, 'info');
    if (!constantTimeEqual(extra, ctx.nonce)) ctx.rep.fail('nonce', new VerificationError('NONCE_MISMATCH', `the quote's qualifying data (${extra.length} bytes) does not equal the expected nonce`));
    return ctx.rep.pass('nonce', `qualifying data equals the expected ${ctx.nonce.length}-byte nonce`);
  }
  // v1: the quote is bound to the statement and the launcher's nonce.
  const d = hash(TPM_ALG.SHA256, ev.statementBytes!);
  const want = hash(TPM_ALG.SHA256, concat(d, ev.nonce!));
  if (!constantTimeEqual(extra, want)) {
    ctx.rep.fail('binding.quote', new VerificationError('BINDING_MISMATCH', 'the quote is not bound to this statement and nonce: qualifyingData != sha256(sha256(statement) ‖ nonce)'));
  }
  ctx.claims.statementDigest = toHex(d);
  ctx.rep.pass('binding.quote', `qualifyingData = sha256(statement digest ${toHex(d).slice(0, 16)}… ‖ nonce)`);
  if (!ctx.nonce) return ctx.rep.skip('nonce', 'no options.nonce given, so freshness is unknown (the document could be an old one)', 'info');
  if (!constantTimeEqual(ev.nonce!, ctx.nonce)) ctx.rep.fail('nonce', new VerificationError('NONCE_MISMATCH', 'the document was bound to a different nonce than the expected one'));
  ctx.rep.pass('nonce', `bound to the expected ${ctx.nonce.length}-byte nonce (fresh)`);
}
