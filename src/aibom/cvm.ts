/**
 * AIBOM v1 confidential-VM evidence (`evidence.cvm`, spec/aibom-v1.md §1 and spec/confidential-vms.md §AIBOM):
 * the HCL report and the VCEK (SEV-SNP) or TD quote (TDX). The platform step verifies the hardware chain and the
 * runtime-data binding and hands HCLAkPub to the quote step as the AK; `confidentialVm` policy rules
 * (spec/policy.md) pin the hardware claims.
 */
import { PolicyError, VerificationError } from '../errors.js';
import { checkRuntimeBinding } from '../tpm/cvm.js';
import { parseHclReport } from '../tpm/hcl.js';
import { describeKey, type KeyMaterial } from '../tpm/keys.js';
import { decodeTcb, parseSnpReport, snpClaims, verifySnpSignature } from '../tpm/snp.js';
import { checkVcekMatchesReport, verifyVcek } from '../tpm/snp-vcek.js';
import { verifyTdxEvidence } from '../tpm/tdx.js';
import type { Check } from '../tpm/quote.js';
import type { TdxCheckId } from '../tpm/check-ids.js';
import type { AibomCheckId } from './check-ids.js';
import type { CvmEvidence } from './cvm-evidence.js';
import type { Ctx } from './report.js';

function deny(ctx: Ctx, id: AibomCheckId, msg: string): never {
  ctx.rep.fail(id, new PolicyError('CVM_POLICY_MISMATCH', msg));
}

/** Applies the confidentialVm policy rules to verified hardware claims. */
function checkCvmPolicy(ctx: Ctx, platform: 'sev-snp' | 'tdx', claims: Record<string, unknown>, tcb?: Record<string, number | undefined>): void {
  const p = ctx.policy.confidentialVm;
  if (!p) return ctx.rep.skip('policy.confidentialVm', 'no confidentialVm policy: the hardware measurements are reported, not pinned', 'info');
  if (p.platforms && !p.platforms.includes(platform)) deny(ctx, 'policy.confidentialVm', `platform ${platform} is not allowed`);
  const rules = platform === 'sev-snp' ? p.snp : p.tdx;
  let n = 0;
  for (const [k, allowed] of Object.entries(rules ?? {})) {
    if (k === 'allowDebug' || k === 'minTcb') continue;
    const actual = claims[k === 'products' ? 'product' : k];
    n++;
    if (!(allowed as unknown[]).includes(actual)) deny(ctx, 'policy.confidentialVm', `${k} ${String(actual).slice(0, 96)} is not allowed`);
  }
  for (const [k, min] of Object.entries(p.snp?.minTcb ?? {})) {
    n++;
    if (platform !== 'sev-snp' || (tcb?.[k] ?? -1) < min) deny(ctx, 'policy.confidentialVm', `reported TCB ${k} ${tcb?.[k] ?? 'absent'} is below ${min}`);
  }
  ctx.rep.pass('policy.confidentialVm', `${platform} claims satisfy ${n} confidentialVm rule${n === 1 ? '' : 's'}`);
}

/** Runs one hardware check: pass, or fail with its own code. */
async function check<T>(ctx: Ctx, id: AibomCheckId, f: () => Promise<[T, string]> | [T, string]): Promise<T> {
  try {
    const [v, detail] = await f();
    ctx.rep.pass(id, detail);
    return v;
  } catch (e) {
    if (e instanceof VerificationError || e instanceof PolicyError) ctx.rep.fail(id, e);
    throw e;
  }
}

/** Platform step for confidential VMs: hardware chain → report → runtime data → HCLAkPub (the quote step's AK). */
export async function stepCvm(ctx: Ctx, cvm: CvmEvidence): Promise<KeyMaterial> {
  const at = ctx.opts.at ?? new Date();
  const hcl = parseHclReport(cvm.hclReport);
  let reportData: Uint8Array;
  let claims: Record<string, unknown>;
  let platform: 'sev-snp' | 'tdx';
  let tcb: Record<string, number | undefined> | undefined;
  if (hcl.reportType === 'snp') {
    platform = 'sev-snp';
    if (!cvm.vcek) ctx.rep.fail('cvm.snp.vcek.chain', new VerificationError('SNP_VCEK_MISSING', 'SEV-SNP evidence without a VCEK/VLEK certificate'));
    const report = parseSnpReport(hcl.hwReport);
    const vcek = await check(ctx, 'cvm.snp.vcek.chain', async () => {
      const v = await verifyVcek(cvm.vcek!, cvm.vcekChain, at);
      return [v, `${v.kind.toUpperCase()} chains to the pinned ARK-${v.product}`];
    });
    await check(ctx, 'cvm.snp.vcek.tcb', () => [undefined, checkVcekMatchesReport(vcek, report)]);
    await check(ctx, 'cvm.snp.report.signature', async () => {
      if (!(await verifySnpSignature(report, vcek.key))) throw new VerificationError('SNP_REPORT_SIGNATURE_INVALID', `SNP report signature does not verify with the ${vcek.kind.toUpperCase()}`);
      return [undefined, 'ECDSA P-384/SHA-384 report signature verifies'];
    });
    const allowDebug = ctx.policy.confidentialVm?.snp?.allowDebug === true;
    await check(ctx, 'cvm.snp.policy.debug', () => {
      if (report.policy.debug && !allowDebug) throw new PolicyError('SNP_DEBUG_GUEST', 'the guest policy allows debugging (host can read guest memory)');
      return [undefined, report.policy.debug ? 'debug guest allowed by the policy' : 'guest policy forbids debugging'];
    });
    reportData = report.reportData;
    claims = { ...snpClaims(report, vcek.product === 'Turin'), product: vcek.product };
    tcb = decodeTcb(report.reportedTcb, vcek.product === 'Turin') as unknown as Record<string, number | undefined>;
  } else if (hcl.reportType === 'tdx') {
    platform = 'tdx';
    if (!cvm.tdQuote) ctx.rep.fail('cvm.tdx', new VerificationError('TDX_QUOTE_MISSING', 'TDX evidence without the TD quote'));
    let tdx;
    try {
      tdx = await verifyTdxEvidence(hcl.hwReport, cvm.tdQuote!, { at });
    } catch (e) {
      if (e instanceof VerificationError) {
        const prior = (e.details?.checks as Check<TdxCheckId>[] | undefined) ?? [];
        for (const c of prior.slice(0, -1)) ctx.rep.checks.push({ ...c, id: `cvm.${c.id}` });
        ctx.rep.fail(`cvm.${prior.at(-1)?.id ?? 'tdx'}`, e);
      }
      throw e;
    }
    for (const c of tdx.checks) {
      if (c.ok === null) ctx.rep.skip(`cvm.${c.id}`, c.detail, 'info');
      else ctx.rep.checks.push({ ...c, id: `cvm.${c.id}` });
    }
    ctx.warnings.push(...tdx.warnings);
    reportData = tdx.reportData;
    claims = tdx.claims;
  } else {
    return ctx.rep.fail('cvm', new VerificationError('HCL_REPORT_TYPE_UNSUPPORTED', `HCL report type ${hcl.reportType} has no hardware root aicert can check`));
  }
  await check(ctx, 'cvm.runtime-data', () => [undefined, checkRuntimeBinding(hcl, reportData)]);
  const ak = await check(ctx, 'cvm.ak', () => {
    if (!hcl.akPub) throw new VerificationError('HCL_AK_MISSING', 'the runtime data carries no HCLAkPub key');
    return [hcl.akPub, `HCLAkPub ${describeKey(hcl.akPub)} is bound by the hardware report`];
  });
  checkCvmPolicy(ctx, platform, claims, tcb);
  const product = typeof claims.product === 'string' ? `, ${claims.product}` : '';
  const vmId = (hcl.claims['vm-configuration'] as Record<string, unknown> | undefined)?.vmUniqueId;
  ctx.claims.platform = {
    akSubject: 'HCLAkPub (runtime data of the HCL report)',
    akIssuer: platform === 'sev-snp' ? 'AMD VCEK/VLEK' : 'Intel TDX quoting enclave (PCK)',
    anchor: platform === 'sev-snp' ? `AMD ARK${product.replace(', ', '-')}` : 'Intel SGX Root CA',
    description: `Azure confidential VM (${platform === 'sev-snp' ? 'AMD SEV-SNP' : 'Intel TDX'}${product})`,
    ...(typeof vmId === 'string' && /^[0-9a-f-]{36}$/i.test(vmId) ? { azureVmId: vmId.toLowerCase() } : {}),
    hardware: { type: platform, ...claims },
  };
  return ak;
}
