/** aicert/tpm: TPM 2.0 structures and quote verification. Runs in Node and browsers. */
export { Reader } from './reader.js';
export { TPM_GENERATED, TPM_ST, TPMA_OBJECT, ECC_CURVES } from './constants.js';
export { parseAttest, formatFirmwareVersion } from './attest.js';
export type { Attest, Attested, ClockInfo, QuoteInfo, CertifyInfo, CreationInfo } from './attest.js';
export { parseSignature, readSignature } from './signature.js';
export type { Signature } from './signature.js';
export { parseTpmtPublic, parseTpm2bPublic, readPublic } from './public.js';
export type { TpmPublic, ObjectAttributes, PublicParams, Scheme } from './public.js';
export { readPcrSelection, formatSelection, bitmapToPcrs } from './pcr-selection.js';
export type { PcrBankSelection } from './pcr-selection.js';
export {
  parseTpm2ToolsPcrFile,
  isTpm2ToolsPcrFile,
  splitConcatenatedPcrs,
  pcrValuesFromJson,
  pcrValuesToJson,
} from './pcr-values.js';
export type { PcrValues } from './pcr-values.js';
export { loadAkPublic, sameKey, describeKey, materialFromSpki, certificatePublicKey } from './keys.js';
export type { AkKey, KeyMaterial } from './keys.js';
export { verifyQuote, computePcrDigest, normalisePcrs } from './quote.js';
export { QUOTE_CHECK_IDS, TDX_CHECK_IDS, type QuoteCheckId, type TdxCheckId } from './check-ids.js';
export type { VerifyQuoteInput, VerifyQuoteOptions, QuoteVerification, Check } from './quote.js';
export { TPM_ALG, hash, extend, hashName, hashAlgByName, digestSize } from '../util/hash.js';
export { verifyAkChain, parseCertificates, verifyCaCertificate, EKU_TCG_AIK_CERTIFICATE, EKU_TCG_EK_CERTIFICATE } from './akcert.js';
export type { CertInput, AkChainOptions, AkChainResult, CertSummary } from './akcert.js';
export { AZURE_VTPM_ROOTS, AZURE_VTPM_INTERMEDIATES } from './trust-azure.js';
export { verifyAkQuote } from './ak-quote.js';
export type { VerifyAkQuoteInput, AkQuoteVerification } from './ak-quote.js';
export { makeCredential } from './credential.js';
export type { MakeCredentialInput, MadeCredential } from './credential.js';
// Confidential VMs (Azure SEV-SNP / TDX HCL reports), JWK keys, plain signatures: spec/confidential-vms.md.
export { verifyConfidentialVmQuote, checkRuntimeBinding } from './cvm.js';
export type { ConfidentialVmInput, ConfidentialVmOptions, ConfidentialVmVerification } from './cvm.js';
export { parseHclReport } from './hcl.js';
export type { HclReport, HclReportType } from './hcl.js';
export { parseSnpReport, verifySnpSignature, snpClaims, decodePolicy, decodeTcb } from './snp.js';
export type { SnpReport, SnpPolicy, SnpTcb } from './snp.js';
export { verifyVcek, checkVcekMatchesReport } from './snp-vcek.js';
export type { VcekInfo } from './snp-vcek.js';
export { parseTdQuote, verifyTdxEvidence, tdClaims } from './tdx.js';
export type { TdQuote } from './tdx.js';
export { materialFromJwk } from './jwk.js';
export { tpmtFromPlainSignature, plainScheme } from './plain-signature.js';
export type { PlainScheme, PlainSignatureOptions } from './plain-signature.js';
export { AMD_SEV_ROOTS } from './trust-amd.js';
export type { SnpProduct } from './trust-amd.js';
export { INTEL_SGX_ROOT_CA } from './trust-intel.js';
export { GCE_EK_AK_ROOT } from './trust-google.js';
export { verifySnpBoundQuote, snpReportFromFluoriteJson } from './svsm.js';
export type { SnpBoundQuoteInput, SnpBoundQuoteVerification } from './svsm.js';
export { trustStore, TRUST_STORE_NAMES, applyAnchorEkuRule } from './trust-stores.js';
export type { TrustAnchorRule, TrustStoreName, EkuRule } from './trust-stores.js';
export { parsePcrYaml, isPcrYaml } from './pcr-yaml.js';
