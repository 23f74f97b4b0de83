/**
 * AIBOM v1 confidential-VM evidence (`evidence.cvm`, spec/aibom-v1.md §1 and spec/confidential-vms.md §AIBOM):
 * the HCL report and the VCEK (SEV-SNP) or TD quote (TDX). The platform step verifies the hardware chain and the
 * runtime-data binding and hands HCLAkPub to the quote step as the AK; `confidentialVm` policy rules
 * (spec/policy.md) pin the hardware claims.
 */
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';
import { verifyCvmHardware } from '../tpm/cvm.js';
import { checkCvmRules, type CvmRules, type TdxPinField } from '../tpm/cvm-rules.js';
import { parseHclReport } from '../tpm/hcl.js';
import type { KeyMaterial } from '../tpm/keys.js';
import type { Check } from '../tpm/quote.js';
import { resolveHardwareRoots } from '../tpm/trust-hardware.js';
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

/** Policy rules for the hardware claims (spec/policy.md §confidentialVm): the shared rule set of src/tpm/cvm-rules.ts. */
export type CvmPolicy = CvmRules;

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
    only(t, [...Object.keys(TDX_FIELDS), 'allowDebug'], 'policy.confidentialVm.tdx');
    const tdx: NonNullable<CvmPolicy['tdx']> = {};
    for (const [k, x] of Object.entries(t)) {
      if (k === 'allowDebug') tdx.allowDebug = x === true ? true : x === false ? false : badValue('policy.confidentialVm.tdx.allowDebug');
      else tdx[k as TdxPinField] = hexes(x, `policy.confidentialVm.tdx.${k}`, TDX_FIELDS[k as keyof typeof TDX_FIELDS]);
    }
    p.tdx = tdx;
  }
  return p;
}

function badValue(path: string): never {
  throw new MalformedInputError('value not allowed here', { path });
}

/** Records the checks of a shared CVM step under `cvm.` (the rules' `policy`/`measurement.pinned` under `policy.confidentialVm`). */
function record(ctx: Ctx, checks: Check[]): void {
  for (const c of checks) {
    const id = c.id === 'policy' ? 'policy.confidentialVm' : c.id === 'measurement.pinned' ? 'policy.confidentialVm.measurement' : `cvm.${c.id.replace(/^hcl\./, '')}`;
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

/** `evidence.cvm` for the CBOR encoding: byte fields become CBOR byte strings, PEM stays text. */
export function cvmToCbor(o: Obj): Obj {
  const b = (v: unknown, p: string): unknown => (typeof v === 'string' && v.includes('-----BEGIN') ? v : bytesField(v, p));
  const out: Obj = { ...o, hclReport: bytesField(o.hclReport, 'evidence.cvm.hclReport') };
  if (o.vcek !== undefined) out.vcek = b(o.vcek, 'evidence.cvm.vcek');
  if (o.vcekChain !== undefined) out.vcekChain = arr(o.vcekChain, 'evidence.cvm.vcekChain').map((c, i) => b(c, `evidence.cvm.vcekChain[${i}]`));
  if (o.tdQuote !== undefined) out.tdQuote = bytesField(o.tdQuote, 'evidence.cvm.tdQuote');
  return out;
}
