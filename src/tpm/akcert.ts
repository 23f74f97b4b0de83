/**
 * AK certificate chain validation: verifyAkChain checks that an Attestation Key certificate chains to a
 * configured trust anchor (default: the embedded Azure Virtual TPM Root CA 2023) and is fit to be an AK
 * certificate (TCG EKU, not a CA, digitalSignature). Rules and rationale: spec/ak-certificates.md.
 * Runs in browsers: WebCrypto only, no Node APIs.
 */
import { MalformedInputError, VerificationError } from '../errors.js';
import { parseCert, type ParsedCert } from './x509-cert.js';
import { parseCertificates as decodeCertificates, readTlv, readTlvs, type CertInput } from './x509-der.js';
import { bytesEqual } from '../util/bytes.js';
import { formatName, nameAttributes, nameValues } from './x509-name.js';
import { buildPath, checkCritical, checkValidity, selfIssued } from './x509-path.js';
import { AZURE_VTPM_INTERMEDIATES, AZURE_VTPM_ROOTS } from './trust-azure.js';
import { applyAnchorEkuRule, type TrustAnchorRule } from './trust-stores.js';

export type { CertInput } from './x509-der.js';

/**
 * Decodes certificates given as DER bytes, PEM text or PEM bytes (one value or a list; forms may be mixed) and
 * returns each certificate's DER in input order. Each must parse as an X.509 certificate; anything else ->
 * MalformedInputError whose path names the offending input (e.g. `certs[1]`).
 */
export function parseCertificates(input: CertInput | CertInput[]): Uint8Array[] {
  const ders = decodeCertificates(input, 'certs');
  ders.forEach((d, i) => parseCert(d, `certs[${i}]`));
  return ders.map((d) => d.slice());
}

/** tcg-kp-AIKCertificate (TCG EK Credential Profile) and tcg-kp-EKCertificate, as go-tpm-tools accepts. */
export const EKU_TCG_AIK_CERTIFICATE = '2.23.133.8.3';
export const EKU_TCG_EK_CERTIFICATE = '2.23.133.8.1';
const AZURE_CN_SUFFIX = '.trustedvm.azure.microsoft';

export interface AkChainOptions {
  /** Trust anchors; default: the embedded Azure Virtual TPM Root CA 2023. Only these end a path. */
  trustAnchors?: CertInput[];
  /** Extra intermediates for path building; the embedded Azure intermediates are always in the pool. */
  intermediates?: CertInput[];
  /** Validity time for every certificate on the path; default now. */
  at?: Date;
  /** Default true: the leaf's EKU must contain 2.23.133.8.3 or 2.23.133.8.1. false skips the EKU rule. */
  requireAikEku?: boolean;
  /** Anchors that carry their own EKU rule (named stores, spec/confidential-vms.md); they are trust anchors too. */
  anchorRules?: TrustAnchorRule[];
}

export interface CertSummary {
  subject: string;
  issuer: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
}

export interface AkChainResult {
  leaf: CertSummary & {
    /** DER SubjectPublicKeyInfo of the AK. */
    spki: Uint8Array;
    eku: string[];
    /** The subject's string attributes in encoding order (policies match these, never the rendered text). */
    subjectAttributes: { oid: string; type: string; value: string }[];
    sanDirectoryName?: string;
    /** Present only when the path ended at an embedded Azure vTPM root (never from the subject name alone). */
    platform?: { azure?: { vmId?: string; cn: string } };
  };
  /** Leaf ... anchor, inclusive. */
  path: CertSummary[];
  anchor: CertSummary;
  warnings: string[];
}

/** One CertInput list -> parsed certificates (path names the option for error messages). */
function parseAll(input: CertInput | CertInput[], path: string): ParsedCert[] {
  return decodeCertificates(input, path).map((d, i) => parseCert(d, `${path}[${i}]`));
}

let embedded: { roots: ParsedCert[]; intermediates: ParsedCert[] } | undefined;
/** The embedded Azure store, parsed once per process. */
function embeddedStore(): { roots: ParsedCert[]; intermediates: ParsedCert[] } {
  embedded ??= { roots: parseAll(AZURE_VTPM_ROOTS, 'AZURE_VTPM_ROOTS'), intermediates: parseAll(AZURE_VTPM_INTERMEDIATES, 'AZURE_VTPM_INTERMEDIATES') };
  return embedded;
}

/** The subject Name DER of a DER certificate, read without parsing the rest (RFC 5280 §4.1: tbs fields in order). */
function subjectDerOf(der: Uint8Array, path: string): Uint8Array {
  const tbs = readTlvs(readTlvs(readTlv(der, path, 0x30).body, path)[0]?.body ?? new Uint8Array(0), path);
  const subject = tbs[tbs[0]?.tag === 0xa0 ? 5 : 4];
  if (!subject) throw new MalformedInputError('TBSCertificate too short', { path });
  return subject.full;
}

let embeddedSubjects: { der: Uint8Array; subject: Uint8Array }[] | undefined;
/**
 * The embedded intermediates a path search over `certs` could use, parsed only when needed: an intermediate can be
 * on a path only if its subject names the issuer of a certificate that can be on it (closed over the intermediates
 * taken), and it counts as an anchor copy only if it repeats an anchor's subject. Skipping the others changes no
 * result and spares parsing them when a chain never reaches the Azure store (a private CA, the demo).
 */
function embeddedIntermediatesFor(certs: ParsedCert[], anchors: ParsedCert[]): ParsedCert[] {
  embeddedSubjects ??= decodeCertificates(AZURE_VTPM_INTERMEDIATES, 'AZURE_VTPM_INTERMEDIATES').map((der, i) => ({ der, subject: subjectDerOf(der, `AZURE_VTPM_INTERMEDIATES[${i}]`) }));
  const names = [...certs.map((c) => c.issuerDer), ...anchors.map((a) => a.subjectDer)];
  const taken = new Map<number, ParsedCert>();
  for (let grew = true; grew; ) {
    grew = false;
    embeddedSubjects.forEach((e, i) => {
      if (taken.has(i) || !names.some((n) => bytesEqual(n, e.subject))) return;
      const c = parseCert(e.der, `AZURE_VTPM_INTERMEDIATES[${i}]`);
      taken.set(i, c);
      names.push(c.issuerDer);
      grew = true;
    });
  }
  return [...taken.keys()].sort((a, b) => a - b).map((i) => taken.get(i)!);
}

/** True when `c` is one of the embedded Azure roots (compared by DER, without parsing the roots). */
function isEmbeddedRoot(c: ParsedCert): boolean {
  return decodeCertificates(AZURE_VTPM_ROOTS, 'AZURE_VTPM_ROOTS').some((d) => bytesEqual(d, c.der));
}

const summaries = new WeakMap<ParsedCert, CertSummary>();
/** Summary fields of a certificate (computed once per parsed certificate; returned as a fresh object). */
export function summarize(c: ParsedCert): CertSummary {
  let s = summaries.get(c);
  if (!s) {
    s = { subject: c.subject, issuer: c.issuer, serialHex: c.serialHex, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), sha256: c.sha256 };
    summaries.set(c, s);
  }
  return { ...s };
}

/**
 * Picks the leaf: the first certificate given, unless it issued another certificate of the set (then the
 * list is taken as unordered and the leaf is the single certificate that issued none of the others).
 */
export function pickLeaf(certs: ParsedCert[]): ParsedCert {
  const issuesOther = (c: ParsedCert): boolean => certs.some((o) => o.sha256 !== c.sha256 && sameBytes(o.issuerDer, c.subjectDer));
  const first = certs[0];
  if (!first) throw new MalformedInputError('no certificate given', { path: 'certs' });
  if (!issuesOther(first)) return first;
  const ends = certs.filter((c) => !issuesOther(c) && !selfIssued(c));
  const unique = new Set(ends.map((c) => c.sha256));
  if (unique.size !== 1) {
    throw new VerificationError('CERT_CHAIN_INVALID', `cannot tell the leaf: the first certificate issued another one and ${unique.size} candidates remain`);
  }
  return ends[0]!;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// TCG EK Credential Profile 2.x §3.2 (AIK/AK certificate) and RFC 5280 §4.2.1.3/§4.2.1.9/§4.2.1.12
/** Leaf rules: not a CA, digitalSignature when keyUsage is present, the TCG EKU unless relaxed. */
function checkLeaf(leaf: ParsedCert, requireEku: boolean, warnings: string[]): void {
  checkCritical(leaf, 'AK certificate');
  if (leaf.ext.basicConstraints?.ca) {
    throw new VerificationError('CERT_CONSTRAINTS_INVALID', 'AK certificate is a CA certificate (basicConstraints cA=TRUE)', { subject: leaf.subject });
  }
  const ku = leaf.ext.keyUsage;
  if (ku && !ku.digitalSignature) {
    throw new VerificationError('CERT_CONSTRAINTS_INVALID', 'AK certificate keyUsage lacks digitalSignature', { subject: leaf.subject });
  }
  if (!ku) warnings.push('AK certificate has no keyUsage extension');
  const eku = leaf.ext.eku ?? [];
  if (!requireEku) {
    warnings.push('EKU requirement relaxed (requireAikEku: false)');
  } else if (!eku.includes(EKU_TCG_AIK_CERTIFICATE) && !eku.includes(EKU_TCG_EK_CERTIFICATE)) {
    throw new VerificationError('CERT_EKU_MISSING', `AK certificate EKU [${eku.join(', ')}] has neither ${EKU_TCG_AIK_CERTIFICATE} nor ${EKU_TCG_EK_CERTIFICATE}`, { eku });
  }
}

/** Platform details recognisable from the leaf subject (Azure Trusted Launch: CN=<id>.TrustedVM.Azure.Microsoft). */
function platformOf(leaf: ParsedCert): AkChainResult['leaf']['platform'] {
  const cn = nameValues(leaf.subjectDer, '2.5.4.3', 'leaf.subject').find((v) => v.toLowerCase().endsWith(AZURE_CN_SUFFIX));
  if (!cn) return undefined;
  const label = cn.slice(0, cn.length - AZURE_CN_SUFFIX.length);
  // Only a full UUID is reported as a VM id; shorter labels are not documented to be one.
  const vmId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(label) ? label.toLowerCase() : undefined;
  return { azure: vmId ? { vmId, cn } : { cn } };
}

/**
 * Validates an AK certificate chain. `certs`: the leaf first (or, unordered, see pickLeaf), then any
 * intermediates in any order; DER and PEM may be mixed. Resolves with the path and the leaf's details, or
 * rejects with VerificationError (CERT_* codes) / MalformedInputError. Never resolves for an invalid chain.
 */
export async function verifyAkChain(certs: CertInput | CertInput[], options: AkChainOptions = {}): Promise<AkChainResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const at = options.at ?? new Date();
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError('options.at must be a valid Date');
  const requireEku = options.requireAikEku ?? true;
  if (typeof requireEku !== 'boolean') throw new TypeError('options.requireAikEku must be a boolean');
  // Step 1: decode and parse everything (typed errors only).
  const given = parseAll(certs, 'certs');
  const rules = options.anchorRules;
  const ruled = rules ? parseAll(rules.map((r) => r.anchor), 'anchorRules') : [];
  const anchors = [...(options.trustAnchors ? parseAll(options.trustAnchors, 'trustAnchors') : rules ? [] : embeddedStore().roots), ...ruled];
  if (anchors.length === 0) throw new VerificationError('CERT_UNTRUSTED_ROOT', 'no trust anchors configured');
  const extra = options.intermediates ? parseAll(options.intermediates, 'intermediates') : [];
  // Step 2: leaf rules, then the path to an anchor (with anchor rules, the EKU is judged by the anchor reached).
  const warnings: string[] = [];
  const leaf = pickLeaf(given);
  checkLeaf(leaf, rules ? false : requireEku, warnings);
  if (rules) warnings.pop();
  checkValidity(leaf, at, 'AK certificate');
  const pool = [...given.filter((c) => c !== leaf), ...extra];
  pool.push(...embeddedIntermediatesFor([leaf, ...pool], anchors));
  const built = await buildPath(leaf, { anchors, pool, at });
  const ekuNote = rules ? applyAnchorEkuRule(leaf.ext.eku, built.anchor.sha256, rules, requireEku) : undefined;
  if (ekuNote) warnings.push(ekuNote);
  // Step 3: report.
  if (built.anchorCopies) warnings.push(`${built.anchorCopies} given certificate(s) repeat a trust anchor's subject and key without being it: set aside, the configured anchor was used`);
  const onPath = new Set(built.path.map((c) => c.sha256));
  const unused = given.filter((c) => !onPath.has(c.sha256));
  if (unused.length) warnings.push(`${unused.length} given certificate(s) not on the validated path`);
  if (/MICROSOFT AZURE TRUSTED VM RSA/i.test(leaf.issuer)) warnings.push('leaf issuer looks like the Azure placeholder (AK certificate never provisioned)');
  // Platform claims come only from the anchor that validated: an Azure name under another anchor proves nothing.
  const platform = isEmbeddedRoot(built.anchor) ? platformOf(leaf) : undefined;
  const san = leaf.ext.san?.directoryName;
  return {
    leaf: {
      ...summarize(leaf),
      spki: leaf.spki.slice(),
      eku: [...(leaf.ext.eku ?? [])],
      subjectAttributes: nameAttributes(leaf.subjectDer, 'leaf.subject'),
      ...(san ? { sanDirectoryName: formatName(san, 'leaf.subjectAltName') } : {}),
      ...(platform ? { platform } : {}),
    },
    path: built.path.map(summarize),
    anchor: summarize(built.anchor),
    warnings,
  };
}

/**
 * Validates that a CA certificate (e.g. an intermediate of the embedded store) chains to a trust anchor at
 * `at`. Same path rules as verifyAkChain, without the AK leaf rules; the certificate itself must be a CA.
 */
export async function verifyCaCertificate(cert: CertInput, options: Omit<AkChainOptions, 'requireAikEku'> = {}): Promise<AkChainResult['path']> {
  const [target, ...rest] = parseAll(cert, 'cert');
  if (!target || rest.length) throw new MalformedInputError('exactly one certificate expected', { path: 'cert' });
  if (!target.ext.basicConstraints?.ca) throw new VerificationError('CERT_CONSTRAINTS_INVALID', 'not a CA certificate');
  const store = embeddedStore();
  const anchors = options.trustAnchors ? parseAll(options.trustAnchors, 'trustAnchors') : store.roots;
  const extra = options.intermediates ? parseAll(options.intermediates, 'intermediates') : [];
  const built = await buildPath(target, { anchors, pool: [...extra, ...store.intermediates], at: options.at ?? new Date() });
  return built.path.map(summarize);
}
