/** `aicert quote --hcl-report` / `--snp-report`: the quote verified through a confidential VM's hardware report. */
import { VerificationError } from '../errors.js';
import { verifyConfidentialVmQuote } from '../tpm/cvm.js';
import { loadAkPublic, sameKey } from '../tpm/keys.js';
import type { PlainScheme } from '../tpm/plain-signature.js';
import type { Check, QuoteVerification, VerifyQuoteInput } from '../tpm/quote.js';
import type { CvmRules } from '../tpm/cvm-rules.js';
import { verifySnpBoundQuote } from '../tpm/svsm.js';
import type { HardwareRoots } from '../tpm/trust-hardware.js';
import { UsageError } from './io.js';
import type { readCvmFlags } from './quote-inputs.js';

type CvmFlags = NonNullable<ReturnType<typeof readCvmFlags>>;
interface Flags {
  'signature-format'?: string;
  scheme?: string;
  hash?: string;
  'allow-debug'?: boolean;
}

/** Runs the HCL (Azure CVM) or SNP-bound (SVSM) verification; resolves with the platform view and the checks. */
export async function verifyCvmFromFlags(
  cvm: CvmFlags,
  input: Omit<VerifyQuoteInput, 'akPublic'> & { akPublic: Uint8Array },
  o: Flags,
  akBytes: Uint8Array | undefined,
  opts: { at?: Date; allowSha1?: boolean; roots: HardwareRoots; rules?: CvmRules },
): Promise<{ platform: string; claims: Record<string, unknown>; quote: QuoteVerification; checks: Check[] }> {
  const at = opts.at;
  if (cvm.snp) {
    if (!cvm.vcek) throw new UsageError('--snp-report needs --vcek (the VCEK/VLEK certificate)');
    if (!akBytes) throw new UsageError('--snp-report needs --ak (the AK public area the report binds)');
    if (!input.nonce) throw new UsageError('--snp-report needs --nonce (the report binds SHA-512(nonce ‖ AK))');
    return verifySnpBoundQuote({ ...input, snpReport: cvm.snp, vcek: cvm.vcek, vcekChain: cvm.vcekChain, akPublic: akBytes, nonce: input.nonce }, { ...(at ? { at } : {}), allowDebug: o['allow-debug'] === true, amdRoots: opts.roots.amd, ...(opts.rules ? { rules: opts.rules } : {}) });
  }
  const fmt = o['signature-format'] ?? 'tpmt';
  if (fmt !== 'tpmt' && fmt !== 'plain') throw new UsageError(`--signature-format must be tpmt or plain, got '${fmt}'`);
  const v = await verifyConfidentialVmQuote(
    {
      hclReport: cvm.hcl!,
      ...(cvm.vcek ? { vcek: cvm.vcek, vcekChain: cvm.vcekChain } : {}),
      ...(cvm.tdQuote ? { tdQuote: cvm.tdQuote } : {}),
      quote: {
        attest: input.attest,
        signature: input.signature,
        signatureFormat: fmt,
        plain: { ...(o.scheme ? { scheme: o.scheme as PlainScheme } : {}), ...(o.hash ? { hash: o.hash } : {}) },
        ...(input.pcrs ? { pcrs: input.pcrs } : {}),
      },
      ...(input.nonce ? { nonce: input.nonce } : {}),
    },
    { ...(at ? { at } : {}), allowDebug: o['allow-debug'] === true, allowSha1: opts.allowSha1 === true, amdRoots: opts.roots.amd, intelRoots: opts.roots.intel, ...(opts.rules ? { rules: opts.rules } : {}) },
  );
  // A given --ak must be the HCLAkPub the hardware report binds.
  if (akBytes && !sameKey(loadAkPublic(akBytes).material, v.quote.ak.material)) {
    const checks = [...v.checks, { id: 'ak.binding', ok: false, detail: '--ak is not the HCLAkPub of the HCL report' }];
    throw new VerificationError('AK_KEY_MISMATCH', '--ak is not the HCLAkPub of the HCL report', { checks });
  }
  return v;
}
