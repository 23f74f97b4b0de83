/**
 * verifyAkQuote: a quote plus the AK certificate chain that vouches for its key. The certificate's key must be
 * the key that verified the quote (AK_KEY_MISMATCH otherwise). See spec/verification.md §AK.
 */
import { VerificationError } from '../errors.js';
import { verifyAkChain, type AkChainOptions, type AkChainResult, type CertInput } from './akcert.js';
import { describeKey, materialFromSpki, sameKey } from './keys.js';
import { attributesFromCertificate, verifyQuote, type Check, type QuoteVerification, type VerifyQuoteInput, type VerifyQuoteOptions } from './quote.js';
import type { QuoteCheckId } from './check-ids.js';

export interface VerifyAkQuoteInput extends VerifyQuoteInput {
  /** The AK certificate first, then any intermediates (DER or PEM, mixed, any order after the leaf). */
  akCertificates: CertInput[];
}

export interface AkQuoteVerification extends Omit<QuoteVerification, 'checks'> {
  /** The quote's checks and the AK certificate's (`ak.certificate`, `ak.binding`). */
  checks: Check<QuoteCheckId | 'ak.certificate' | 'ak.binding'>[];
  chain: AkChainResult;
}

/** Verifies the AK certificate chain, then the quote, and binds the two through the public key. */
export async function verifyAkQuote(
  input: VerifyAkQuoteInput,
  options: VerifyQuoteOptions & AkChainOptions = {},
): Promise<AkQuoteVerification> {
  if (!Array.isArray(input.akCertificates) || input.akCertificates.length === 0) throw new TypeError('akCertificates must be a non-empty array');
  const checks: AkQuoteVerification['checks'] = [];
  // Start the quote now: verifyQuote copies its inputs before its first await, so the chain's await cannot change them.
  const pending = verifyQuote(input, options);
  pending.catch(() => undefined);
  // Chain: path to a configured trust anchor, validity at `at`, signatures, constraints, EKU.
  let chain: AkChainResult;
  try {
    chain = await verifyAkChain(input.akCertificates, options);
  } catch (e) {
    if (e instanceof VerificationError) {
      checks.push({ id: 'ak.certificate', ok: false, detail: e.message });
      throw new VerificationError(e.code, e.message, { ...e.details, checks }, { cause: e });
    }
    throw e;
  }
  checks.push({ id: 'ak.certificate', ok: true, detail: `${chain.leaf.subject || '(empty subject)'} chains to ${chain.anchor.subject}` });
  // Quote: every check of verifyQuote, with the AK given by the caller (TPM public area preferred).
  let q: QuoteVerification;
  try {
    q = await pending;
  } catch (e) {
    if (e instanceof VerificationError) throw new VerificationError(e.code, e.message, { ...e.details, checks: [...checks, ...((e.details?.checks as Check[]) ?? [])] }, { cause: e });
    throw e;
  }
  // The AK's properties come from the validated certificate, not from the document's public area.
  checks.push(...attributesFromCertificate(q.checks, chain.leaf.eku));
  // Binding: the certified key must be the key that signed the quote.
  const certKey = materialFromSpki(chain.leaf.spki);
  if (!sameKey(certKey, q.ak.material)) {
    checks.push({ id: 'ak.binding', ok: false, detail: `certificate certifies a different key (${describeKey(certKey)}) than the AK that signed the quote` });
    throw new VerificationError('AK_KEY_MISMATCH', 'the AK certificate certifies a different key than the one that verified the quote', { checks });
  }
  checks.push({ id: 'ak.binding', ok: true, detail: 'certificate certifies the key that signed the quote' });
  return { ...q, chain, checks, complete: checks.every((c) => c.ok === true) };
}
