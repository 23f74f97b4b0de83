/**
 * AIBOM v1 confidential-VM evidence (`evidence.cvm`, spec/aibom-v1.md §1 and spec/confidential-vms.md §AIBOM):
 * the HCL report and the VCEK (SEV-SNP) or TD quote (TDX). The platform step verifies the hardware chain and the
 * runtime-data binding and hands HCLAkPub to the quote step as the AK; `confidentialVm` policy rules
 * (spec/policy.md) pin the hardware claims.
 */
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';
import { checkRuntimeBinding } from '../tpm/cvm.js';
import { parseHclReport } from '../tpm/hcl.js';
import { describeKey, type KeyMaterial } from '../tpm/keys.js';
import { decodeTcb, parseSnpReport, snpClaims, verifySnpSignature } from '../tpm/snp.js';
import { checkVcekMatchesReport, verifyVcek } from '../tpm/snp-vcek.js';
import { verifyTdxEvidence } from '../tpm/tdx.js';
import type { CertInput } from '../tpm/x509-der.js';
import { toHex } from '../util/bytes.js';
import { arr, bytesField, lowerHex, obj, type Obj } from './json.js';
import type { Ctx } from './report.js';

export interface CvmEvidence {
  hclReport: Uint8Array;
  vcek?: CertInput;
  vcekChain: CertInput[];
  tdQuote?: Uint8Array;
}

/** `evidence.cvm`: hclReport (base64), vcek (PEM or base64 DER), vcekChain [..], tdQuote (base64). */
export function parseCvmEvidence(v: unknown): CvmEvidence {
  const o = obj(v, 'evidence.cvm');
  const cert = (c: unknown, p: string): CertInput => (typeof c === 'string' && c.includes('-----BEGIN') ? c : bytesField(c, p));
  const out: CvmEvidence = {
    hclReport: bytesField(o.hclReport, 'evidence.cvm.hclReport'),
    vcekChain: o.vcekChain === undefined ? [] : arr(o.vcekChain, 'evidence.cvm.vcekChain').map((c, i) => cert(c, `evidence.cvm.vcekChain[${i}]`)),
  };
  if (o.vcek !== undefined) out.vcek = cert(o.vcek, 'evidence.cvm.vcek');
  if (o.tdQuote !== undefined) out.tdQuote = bytesField(o.tdQuote, 'evidence.cvm.tdQuote');
  return out;
}

/** Policy rules for the hardware claims (spec/policy.md §confidentialVm). */
export interface CvmPolicy {
  platforms?: ('sev-snp' | 'tdx')[];
  snp?: { measurement?: string[]; hostData?: string[]; idKeyDigest?: string[]; chipId?: string[]; products?: string[]; vmpl?: number[]; minTcb?: Record<string, number>; allowDebug?: boolean };
  tdx?: Record<string, string[]>;
}

const SNP_HEX = { measurement: 48, hostData: 32, idKeyDigest: 48, chipId: 64 } as const;
const TDX_FIELDS = { mrTd: 48, mrConfigId: 48, mrOwner: 48, mrOwnerConfig: 48, rtmr0: 48, rtmr1: 48, rtmr2: 48, rtmr3: 48, mrSeam: 48, tdAttributes: 8, xfam: 8 } as const;
const TCB_FIELDS = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'];

/** Parses `policy.confidentialVm`; unknown fields are refused like the rest of the policy. */
export function parseCvmPolicy(v: unknown): CvmPolicy {
  const o = obj(v, 'policy.confidentialVm');
  const only = (x: Obj, keys: string[], path: string): void => {
    for (const k of Object.keys(x)) if (!keys.includes(k)) throw new MalformedInputError(`unknown field "${k.slice(0, 40)}"`, { path: `${path}.${k}` });
  };
  only(o, ['platforms', 'snp', 'tdx'], 'policy.confidentialVm');
  const hexes = (x: unknown, path: string, size: number): string[] => arr(x, path).map((h, i) => toHex(lowerHex(h, `${path}[${i}]`, size)));
  const p: CvmPolicy = {};
  if (o.platforms !== undefined) {
    p.platforms = arr(o.platforms, 'policy.confidentialVm.platforms').map((s, i) => {
      if (s !== 'sev-snp' && s !== 'tdx') throw new MalformedInputError('platform must be "sev-snp" or "tdx"', { path: `policy.confidentialVm.platforms[${i}]` });
      return s;
    });
  }
  if (o.snp !== undefined) {
    const s = obj(o.snp, 'policy.confidentialVm.snp');
    only(s, [...Object.keys(SNP_HEX), 'products', 'vmpl', 'minTcb', 'allowDebug'], 'policy.confidentialVm.snp');
    const snp: NonNullable<CvmPolicy['snp']> = {};
    for (const [k, size] of Object.entries(SNP_HEX)) if (s[k] !== undefined) snp[k as keyof typeof SNP_HEX] = hexes(s[k], `policy.confidentialVm.snp.${k}`, size);
    if (s.products !== undefined) snp.products = arr(s.products, 'policy.confidentialVm.snp.products').map((x, i) => (typeof x === 'string' && ['Milan', 'Genoa', 'Turin'].includes(x) ? x : badValue(`policy.confidentialVm.snp.products[${i}]`)));
    if (s.vmpl !== undefined) snp.vmpl = arr(s.vmpl, 'policy.confidentialVm.snp.vmpl').map((x, i) => (Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 3 ? (x as number) : badValue(`policy.confidentialVm.snp.vmpl[${i}]`)));
    if (s.minTcb !== undefined) {
      const t = obj(s.minTcb, 'policy.confidentialVm.snp.minTcb');
      only(t, TCB_FIELDS, 'policy.confidentialVm.snp.minTcb');
      snp.minTcb = Object.fromEntries(Object.entries(t).map(([k, x]) => [k, Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255 ? (x as number) : badValue(`policy.confidentialVm.snp.minTcb.${k}`)]));
    }
    if (s.allowDebug !== undefined) snp.allowDebug = s.allowDebug === true ? true : s.allowDebug === false ? false : badValue('policy.confidentialVm.snp.allowDebug');
    p.snp = snp;
  }
  if (o.tdx !== undefined) {
    const t = obj(o.tdx, 'policy.confidentialVm.tdx');
    only(t, Object.keys(TDX_FIELDS), 'policy.confidentialVm.tdx');
    p.tdx = Object.fromEntries(Object.entries(t).map(([k, x]) => [k, hexes(x, `policy.confidentialVm.tdx.${k}`, TDX_FIELDS[k as keyof typeof TDX_FIELDS])]));
  }
  return p;
}

function badValue(path: string): never {
  throw new MalformedInputError('value not allowed here', { path });
}

function deny(ctx: Ctx, id: string, msg: string): never {
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
async function check<T>(ctx: Ctx, id: string, f: () => Promise<[T, string]> | [T, string]): Promise<T> {
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
        const prior = (e.details?.checks as { id: string; ok: boolean | null; detail: string }[]) ?? [];
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

/** `evidence.cvm` for the CBOR encoding: byte fields become CBOR byte strings, PEM stays text. */
export function cvmToCbor(o: Obj): Obj {
  const b = (v: unknown, p: string): unknown => (typeof v === 'string' && v.includes('-----BEGIN') ? v : bytesField(v, p));
  const out: Obj = { ...o, hclReport: bytesField(o.hclReport, 'evidence.cvm.hclReport') };
  if (o.vcek !== undefined) out.vcek = b(o.vcek, 'evidence.cvm.vcek');
  if (o.vcekChain !== undefined) out.vcekChain = arr(o.vcekChain, 'evidence.cvm.vcekChain').map((c, i) => b(c, `evidence.cvm.vcekChain[${i}]`));
  if (o.tdQuote !== undefined) out.tdQuote = bytesField(o.tdQuote, 'evidence.cvm.tdQuote');
  return out;
}
