/**
 * AIBOM v1 confidential-VM evidence (`evidence.cvm`, spec/aibom-v1.md §1 and spec/confidential-vms.md §AIBOM):
 * the HCL report and the VCEK (SEV-SNP) or TD quote (TDX). The platform step verifies the hardware chain and the
 * runtime-data binding and hands HCLAkPub to the quote step as the AK; `confidentialVm` policy rules
 * (spec/policy.md) pin the hardware claims.
 */
import { PolicyError, VerificationError } from '../errors.js';
import { verifyCvmHardware } from '../tpm/cvm.js';
import { checkCvmRules } from '../tpm/cvm-rules.js';
import { parseHclReport } from '../tpm/hcl.js';
import type { KeyMaterial } from '../tpm/keys.js';
import type { Check } from '../tpm/quote.js';
import { resolveHardwareRoots } from '../tpm/trust-hardware.js';
import type { CvmEvidence } from './cvm-evidence.js';
import type { AibomCheckId } from './check-ids.js';
import type { Ctx } from './report.js';

/** Records the checks of a shared CVM step under `cvm.` (the rules' `policy`/`measurement.pinned` under `policy.confidentialVm`). */
function record(ctx: Ctx, checks: Check[]): void {
  for (const c of checks) {
    // The shared step's ids, renamed into verifyAibom's closed set (src/aibom/check-ids.ts lists each).
    const id = (c.id === 'policy' ? 'policy.confidentialVm' : c.id === 'measurement.pinned' ? 'policy.confidentialVm.measurement' : c.id === 'cvm' ? 'cvm' : `cvm.${c.id.replace(/^hcl\./, '')}`) as AibomCheckId;
    if (c.ok === null) ctx.rep.skip(id, c.detail, 'info');
    else ctx.rep.checks.push({ ...c, id });
  }
}

/** Runs a shared step; on failure records its checks (the failed one last) and rethrows. */
async function shared<T>(ctx: Ctx, f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof VerificationError || e instanceof PolicyError) {
      const prior = (e.details?.checks as Check[] | undefined) ?? [];
      record(ctx, prior.length ? prior : [{ id: 'cvm', ok: false, detail: e.message }]);
    }
    throw e;
  }
}

/** The hardware roots from the trust configuration (src/tpm/trust-hardware.ts): configured trust names them. */
function rootsOf(ctx: Ctx) {
  const o = ctx.opts;
  return resolveHardwareRoots({
    ...(o.amdRoots ? { amdRoots: o.amdRoots } : {}),
    ...(o.intelRoots ? { intelRoots: o.intelRoots } : {}),
    trustConfigured: o.trustAnchors !== undefined || o.anchorRules !== undefined,
  });
}

/** Platform step for confidential VMs: hardware chain → report → runtime data → HCLAkPub (the quote step's AK), then the rules. */
export async function stepCvm(ctx: Ctx, cvm: CvmEvidence): Promise<KeyMaterial> {
  const hcl = parseHclReport(cvm.hclReport);
  const hw = await shared(ctx, () => verifyCvmHardware(hcl, cvm, { ...(ctx.opts.at ? { at: ctx.opts.at } : {}), roots: rootsOf(ctx) }));
  record(ctx, hw.checks);
  ctx.warnings.push(...hw.warnings);
  // Debug, VMPL, the pinned launch measurement and the other confidentialVm pins.
  record(ctx, await shared(ctx, () => checkCvmRules(hw.platform, hw.claims, hw.tcb, ctx.policy.confidentialVm)));
  const { platform, claims } = hw;
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
  return hw.ak;
}
