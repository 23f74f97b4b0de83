/**
 * verifyConfidentialVmQuote: an Azure confidential VM's vTPM quote, end to end. The hardware vendor's chain
 * (AMD ARK → ASK → VCEK, or Intel SGX Root CA → PCK) signs the hardware report; the hardware report's
 * report_data binds the HCL runtime data; the runtime data carries HCLAkPub; HCLAkPub signs the vTPM quote; the
 * quote carries the nonce. Every link has its own stable code. Spec: spec/confidential-vms.md §Verification.
 */
import { PolicyError, VerificationError } from '../errors.js';
import { constantTimeEqual, toHex } from '../util/bytes.js';
import { digestSize, hash, hashName } from '../util/hash.js';
import { parseHclReport, type HclReport } from './hcl.js';
import { describeKey, type AkKey, type KeyMaterial } from './keys.js';
import { tpmtFromPlainSignature, type PlainSignatureOptions } from './plain-signature.js';
import { verifyQuote, type Check, type QuoteVerification, type VerifyQuoteInput } from './quote.js';
import { checkCvmRules, type CvmRules } from './cvm-rules.js';
import { decodeTcb, parseSnpReport, productFromCpuid, snpClaims, verifySnpSignature } from './snp.js';
import { checkVcekMatchesReport, verifyVcek } from './snp-vcek.js';
import { verifyTdxEvidence } from './tdx.js';
import { EMBEDDED_HARDWARE_ROOTS, resolveHardwareRoots, type AmdRoots, type HardwareRoots } from './trust-hardware.js';
import type { CertInput } from './x509-der.js';

export interface ConfidentialVmInput {
  /** The HCL report (vTPM NV index 0x01400001). */
  hclReport: Uint8Array;
  /** SEV-SNP: the VCEK or VLEK certificate (PEM/DER), plus any intermediates (ASK/ASVK) the evidence carries. */
  vcek?: CertInput;
  vcekChain?: CertInput[];
  /** TDX: the TD quote v4 (its certification data carries the PCK chain). */
  tdQuote?: Uint8Array;
  /** The vTPM quote: TPMS_ATTEST, its signature (TPMT_SIGNATURE, or plain with `signatureFormat: 'plain'`), PCRs. */
  quote: { attest: Uint8Array; signature: Uint8Array; signatureFormat?: 'tpmt' | 'plain'; plain?: PlainSignatureOptions; pcrs?: VerifyQuoteInput['pcrs'] };
  nonce?: Uint8Array;
}

export interface ConfidentialVmOptions {
  /** Validity time for the hardware vendor's certificates; default now. */
  at?: Date;
  /** Accept a debug guest (SEV-SNP policy bit 19, TDX attribute DEBUG): its memory is readable by the host. Default false. */
  allowDebug?: boolean;
  /** Accept SHA-1 vTPM quotes. Default false. */
  allowSha1?: boolean;
  /** The hardware claims to pin (spec/policy.md `confidentialVm`); the launch measurement must be pinned. */
  rules?: CvmRules;
  /** AMD ARK/ASK per product line and Intel SGX roots, as configured (src/tpm/trust-hardware.ts); default the embedded ones. */
  amdRoots?: AmdRoots;
  intelRoots?: CertInput[];
}

export interface ConfidentialVmVerification {
  platform: 'sev-snp' | 'tdx';
  hcl: HclReport;
  /** Hardware claims (SNP report fields or TDX measurements) a policy pins. */
  claims: Record<string, unknown>;
  quote: QuoteVerification;
  checks: Check[];
  complete: boolean;
  warnings: string[];
}

/** The hardware evidence beside the HCL report: the VCEK (SEV-SNP) or the TD quote (TDX). */
export interface CvmHardwareEvidence {
  vcek?: CertInput;
  vcekChain?: CertInput[];
  tdQuote?: Uint8Array;
}

/** What the hardware step established: the platform, its claims, and HCLAkPub bound by the report. */
export interface CvmHardware {
  platform: 'sev-snp' | 'tdx';
  claims: Record<string, unknown>;
  /** SEV-SNP reported TCB (for minTcb rules). */
  tcb: Record<string, number | undefined> | undefined;
  ak: KeyMaterial;
  checks: Check[];
  warnings: string[];
}

/** Runs one step: pass with its detail, or record the failure and rethrow it with every check so far. */
async function step<T>(checks: Check[], id: string, f: () => Promise<[T, string]> | [T, string]): Promise<T> {
  try {
    const [v, detail] = await f();
    checks.push({ id, ok: true, detail });
    return v;
  } catch (e) {
    if (e instanceof VerificationError || e instanceof PolicyError) {
      checks.push({ id, ok: false, detail: e.message });
      const prior = (e.details?.checks as Check[] | undefined) ?? [];
      const merged = [...checks.slice(0, -1), ...prior, checks[checks.length - 1]!];
      if (e instanceof PolicyError) throw new PolicyError(e.code, e.message, { ...e.details, checks: merged });
      throw new VerificationError(e.code, e.message, { ...e.details, checks: merged }, { cause: e });
    }
    throw e;
  }
}

/** report_data[0..n] must be H(runtime data) (n = digest size) and the rest zero. */
export function checkRuntimeBinding(hcl: HclReport, reportData: Uint8Array): string {
  const want = hash(hcl.runtimeDataHashAlg, hcl.runtimeData);
  const n = digestSize(hcl.runtimeDataHashAlg)!;
  if (!constantTimeEqual(reportData.subarray(0, n), want) || reportData.subarray(n).some((b) => b !== 0)) {
    throw new VerificationError('HCL_RUNTIME_DATA_MISMATCH', `hardware report_data is not ${hashName(hcl.runtimeDataHashAlg)}(runtime data)`, { expected: toHex(want), actual: toHex(reportData) });
  }
  return `report_data[0..${n}] = ${hashName(hcl.runtimeDataHashAlg)}(runtime data) ${toHex(want).slice(0, 16)}…`;
}

/** SEV-SNP: VCEK chain, VCEK↔report, report signature; returns the report_data and claims. */
async function snpSteps(checks: Check[], hcl: HclReport, ev: CvmHardwareEvidence, at: Date, roots: HardwareRoots, warnings: string[]) {
  if (!ev.vcek) throw new VerificationError('SNP_VCEK_MISSING', 'the evidence carries no VCEK/VLEK certificate; give one (AMD KDS or Azure THIM)');
  const report = parseSnpReport(hcl.hwReport);
  const vcek = await step(checks, 'snp.vcek.chain', async () => {
    const v = await verifyVcek(ev.vcek!, ev.vcekChain ?? [], at, roots.amd);
    return [v, `${v.kind.toUpperCase()} chains to the configured ARK-${v.product} (${v.path.length} certificates)`];
  });
  const cpuProduct = productFromCpuid(report.cpuid);
  if (cpuProduct && cpuProduct !== vcek.product) warnings.push(`report CPUID says ${cpuProduct} but the VCEK chains to ${vcek.product}`);
  await step(checks, 'snp.vcek.tcb', () => [undefined, checkVcekMatchesReport(vcek, report)]);
  await step(checks, 'snp.report.signature', async () => {
    if (!(await verifySnpSignature(report, vcek.key))) throw new VerificationError('SNP_REPORT_SIGNATURE_INVALID', `SNP report signature does not verify with the ${vcek.kind.toUpperCase()} (${describeKey(vcek.key)})`);
    return [undefined, `ECDSA P-384/SHA-384 report signature verifies with the ${vcek.kind.toUpperCase()}`];
  });
  const turin = vcek.product === 'Turin';
  return { reportData: report.reportData, claims: { ...snpClaims(report, turin), product: vcek.product }, tcb: decodeTcb(report.reportedTcb, turin) as unknown as Record<string, number | undefined> };
}

/** TDX: the TD quote, its PCK chain, QE identity and binding, and the TDREPORT correspondence. */
async function tdxSteps(checks: Check[], hcl: HclReport, ev: CvmHardwareEvidence, at: Date, roots: HardwareRoots, warnings: string[]) {
  if (!ev.tdQuote) throw new VerificationError('TDX_QUOTE_MISSING', 'a TDX HCL report needs the TD quote to be verified');
  try {
    const tdx = await verifyTdxEvidence(hcl.hwReport, ev.tdQuote, { at, intelRoots: roots.intel });
    checks.push(...tdx.checks);
    warnings.push(...tdx.warnings);
    return { reportData: tdx.reportData, claims: tdx.claims as Record<string, unknown>, tcb: undefined };
  } catch (e) {
    if (e instanceof VerificationError) throw new VerificationError(e.code, e.message, { ...e.details, checks: [...checks, ...((e.details?.checks as Check[]) ?? [])] }, { cause: e });
    throw e;
  }
}

/**
 * The hardware step shared by verifyConfidentialVmQuote and the AIBOM platform step: vendor chain → hardware report
 * → runtime data → HCLAkPub. Throws VerificationError with `details.checks` (every check so far, the failed one last).
 */
export async function verifyCvmHardware(hcl: HclReport, ev: CvmHardwareEvidence, opts: { at?: Date; roots?: HardwareRoots } = {}): Promise<CvmHardware> {
  const checks: Check[] = [];
  const warnings: string[] = [];
  const at = opts.at ?? new Date();
  const roots = opts.roots ?? EMBEDDED_HARDWARE_ROOTS;
  let hw: { reportData: Uint8Array; claims: Record<string, unknown>; tcb: Record<string, number | undefined> | undefined };
  if (hcl.reportType === 'snp') hw = await snpSteps(checks, hcl, ev, at, roots, warnings);
  else if (hcl.reportType === 'tdx') hw = await tdxSteps(checks, hcl, ev, at, roots, warnings);
  else throw new VerificationError('HCL_REPORT_TYPE_UNSUPPORTED', `HCL report type ${hcl.reportType} has no hardware root of trust aicert can check`);
  // The runtime data is bound by the hardware report; HCLAkPub comes from it.
  await step(checks, 'hcl.runtime-data', () => [undefined, checkRuntimeBinding(hcl, hw.reportData)]);
  const ak = await step(checks, 'hcl.ak', () => {
    if (!hcl.akPub) throw new VerificationError('HCL_AK_MISSING', 'the runtime data carries no HCLAkPub key');
    return [hcl.akPub, `HCLAkPub ${describeKey(hcl.akPub)} from the hardware-bound runtime data`];
  });
  return { platform: hcl.reportType === 'snp' ? 'sev-snp' : 'tdx', claims: hw.claims, tcb: hw.tcb, ak, checks, warnings };
}

/** Verifies an Azure confidential VM vTPM quote through its hardware report. Throws on any failure. */
export async function verifyConfidentialVmQuote(input: ConfidentialVmInput, options: ConfidentialVmOptions = {}): Promise<ConfidentialVmVerification> {
  if (!input || typeof input !== 'object' || !input.quote) throw new TypeError('verifyConfidentialVmQuote expects { hclReport, quote, ... }');
  const hcl = parseHclReport(input.hclReport);
  // Step 1: the hardware report, its vendor chain, the runtime data and HCLAkPub.
  const roots = resolveHardwareRoots({ ...(options.amdRoots ? { amdRoots: options.amdRoots } : {}), ...(options.intelRoots ? { intelRoots: options.intelRoots } : {}) });
  const hw = await verifyCvmHardware(hcl, input, { ...(options.at ? { at: options.at } : {}), roots });
  const { checks, warnings } = hw;
  // Step 2: the vTPM quote with that AK (restricted-ness is vouched for by the paravisor that created it).
  const ak: AkKey = { material: hw.ak, source: 'jwk' };
  const q = input.quote;
  const signature = q.signatureFormat === 'plain' ? tpmtFromPlainSignature(q.signature, ak, q.plain) : q.signature;
  const quote = await step(checks, 'quote', async () => {
    const v = await verifyQuote({ attest: q.attest, signature, akPublic: ak, ...(q.pcrs ? { pcrs: q.pcrs } : {}), ...(input.nonce ? { nonce: input.nonce } : {}) }, { allowSha1: options.allowSha1 === true });
    return [v, 'vTPM quote verifies with HCLAkPub'];
  });
  checks.pop();
  for (const c of quote.checks) {
    checks.push(c.id === 'ak.attributes' && c.ok === null ? { id: c.id, ok: true, detail: 'AK is HCLAkPub, created by the paravisor and bound by the hardware report' } : c);
  }
  // Step 3: the rules: debug, VMPL, the pinned launch measurement and the other pins.
  try {
    checks.push(...checkCvmRules(hw.platform, hw.claims, hw.tcb, options.rules, options.allowDebug ? { allowDebug: true } : {}));
  } catch (e) {
    if (e instanceof PolicyError) throw new PolicyError(e.code, e.message, { ...e.details, checks: [...checks, ...((e.details?.checks as Check[]) ?? [])] });
    throw e;
  }
  return { platform: hw.platform, hcl, claims: hw.claims, quote, checks, complete: checks.every((c) => c.ok === true), warnings };
}
