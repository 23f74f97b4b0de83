/**
 * Confidential-VM rules (spec/confidential-vms.md §Rules; policy form: spec/policy.md `confidentialVm`). The hardware
 * chain proves only that *some* SEV-SNP guest or TD produced the report: whoever runs their own guest (own firmware,
 * own paravisor) can put any key into the runtime data as HCLAkPub. What makes the AK mean anything is the launch
 * measurement, so a verification is valid only with it pinned; VMPL 0 and a non-debug guest are required by default.
 * Shared by the library (src/tpm/cvm.ts, svsm.ts) and the AIBOM platform step (src/aibom/cvm.ts).
 */
import { PolicyError, type PolicyCode } from '../errors.js';
import type { Check } from './quote.js';

export type TdxPinField = 'mrTd' | 'mrConfigId' | 'mrOwner' | 'mrOwnerConfig' | 'rtmr0' | 'rtmr1' | 'rtmr2' | 'rtmr3' | 'mrSeam' | 'tdAttributes' | 'xfam';

/** Each list is "one of" (lower-case hex); spec/policy.md §confidentialVm. */
export interface CvmRules {
  platforms?: ('sev-snp' | 'tdx')[];
  snp?: { measurement?: string[]; hostData?: string[]; idKeyDigest?: string[]; chipId?: string[]; products?: string[]; vmpl?: number[]; minTcb?: Record<string, number>; allowDebug?: boolean };
  tdx?: Partial<Record<TdxPinField, string[]>> & { allowDebug?: boolean };
}

/** Records a check; a failing one is thrown as a PolicyError carrying every check so far. */
function record(checks: Check[], id: string, ok: boolean, on: { code: PolicyCode }, detail: string): void {
  checks.push({ id, ok, detail });
  if (!ok) throw new PolicyError(on.code, detail, { checks });
}

/** TD attributes (u64 little-endian, as hex of the bytes): bit 0 is DEBUG. */
export function tdIsDebug(tdAttributesHex: string): boolean {
  return (parseInt(tdAttributesHex.slice(0, 2), 16) & 1) === 1;
}

/** The pins other than the measurement and TCB: every listed claim must be one of the allowed values. */
function otherPins(claims: Record<string, unknown>, pins: Record<string, unknown>, skip: string[]): string | undefined {
  for (const [k, allowed] of Object.entries(pins)) {
    if (skip.includes(k) || !Array.isArray(allowed)) continue;
    const actual = claims[k === 'products' ? 'product' : k];
    if (!allowed.includes(actual)) return `${k} ${String(actual).slice(0, 96)} is not one of the ${allowed.length} allowed`;
  }
  return undefined;
}

/**
 * Applies the rules to verified hardware claims (`tcb`: the SNP reported TCB). Returns the checks; throws PolicyError
 * SNP_DEBUG_GUEST / TDX_DEBUG_TD, SNP_VMPL_NOT_ALLOWED, CVM_MEASUREMENT_NOT_PINNED or CVM_POLICY_MISMATCH.
 */
export function checkCvmRules(platform: 'sev-snp' | 'tdx', claims: Record<string, unknown>, tcb: Record<string, number | undefined> | undefined, rules: CvmRules = {}, opts: { allowDebug?: boolean } = {}): Check[] {
  const checks: Check[] = [];
  const snp = platform === 'sev-snp';
  // Debug: the host can read and change a debug guest's memory, so nothing it reports is confidential.
  if (snp) {
    const debug = (claims.policy as { debug?: boolean } | undefined)?.debug === true;
    const allow = opts.allowDebug === true || rules.snp?.allowDebug === true;
    record(checks, 'snp.policy.debug', !debug || allow, { code: 'SNP_DEBUG_GUEST' }, debug ? (allow ? 'debug guest allowed by option' : 'the guest policy allows debugging (host can read guest memory)') : 'guest policy forbids debugging');
    // VMPL: a report requested from a less privileged level than the paravisor's could come from code the paravisor does not control.
    const vmpl = claims.vmpl as number;
    const allowed = rules.snp?.vmpl ?? [0];
    record(checks, 'snp.vmpl', allowed.includes(vmpl), { code: 'SNP_VMPL_NOT_ALLOWED' }, allowed.includes(vmpl) ? `report requested at VMPL ${vmpl}` : `report requested at VMPL ${vmpl}, not ${allowed.join('/')} (the paravisor runs at VMPL 0; allow others with confidentialVm.snp.vmpl)`);
  } else {
    const debug = tdIsDebug(String(claims.tdAttributes ?? ''));
    const allow = opts.allowDebug === true || rules.tdx?.allowDebug === true;
    record(checks, 'tdx.debug', !debug || allow, { code: 'TDX_DEBUG_TD' }, debug ? (allow ? 'debug TD allowed by option' : 'the TD attributes set DEBUG (the host can read and change TD memory)') : 'TD attributes: not a debug TD');
  }
  if (rules.platforms && !rules.platforms.includes(platform)) record(checks, 'policy', false, { code: 'CVM_POLICY_MISMATCH' }, `platform ${platform} is not allowed`);
  // The launch measurement: without a pin, any guest image (anyone's firmware and paravisor) is accepted.
  const field = snp ? 'measurement' : 'mrTd';
  const pinned = snp ? rules.snp?.measurement : rules.tdx?.mrTd;
  const actual = String(claims[field]);
  if (!pinned?.length) {
    record(checks, 'measurement.pinned', false, { code: 'CVM_MEASUREMENT_NOT_PINNED' }, `the ${snp ? 'SEV-SNP launch measurement' : 'TDX MRTD'} is not pinned, so the report only proves that some confidential VM — possibly one its owner built with their own firmware and paravisor — vouched for this AK. Pin the expected value(s) with policy confidentialVm.${snp ? 'snp.measurement' : 'tdx.mrTd'} (this report's is ${actual.slice(0, 96)})`);
  }
  record(checks, 'measurement.pinned', pinned!.includes(actual), { code: 'CVM_POLICY_MISMATCH' }, pinned!.includes(actual) ? `${field} ${actual.slice(0, 16)}… is one of the ${pinned!.length} pinned` : `${field} ${actual.slice(0, 96)} is not one of the ${pinned!.length} pinned`);
  // The other pins and the minimum reported TCB.
  const pins = (snp ? rules.snp : rules.tdx) ?? {};
  let why = otherPins(claims, pins, ['allowDebug', 'minTcb', 'vmpl', field]);
  let n = Object.keys(pins).filter((k) => !['allowDebug', 'minTcb', 'vmpl', field].includes(k)).length;
  for (const [k, min] of Object.entries(snp ? rules.snp?.minTcb ?? {} : {})) {
    n++;
    if (!why && (tcb?.[k] ?? -1) < min) why = `reported TCB ${k} ${tcb?.[k] ?? 'absent'} is below ${min}`;
  }
  record(checks, 'policy', !why, { code: 'CVM_POLICY_MISMATCH' }, why ?? `${platform} claims satisfy ${n} further rule${n === 1 ? '' : 's'}`);
  return checks;
}
