/** Types shared by the AIBOM parsers, the verification pipeline and its callers. Specified in spec/aibom-v1.md. */
import type { CertInput } from '../tpm/x509-der.js';
import type { PcrValues } from '../tpm/pcr-values.js';
import type { Policy } from './policy.js';

/** One line of the verification report (the same type the quote verifier reports). */
import type { Check } from '../tpm/quote.js';
export type { Check };

/** The evidence of either document format, normalised. Nothing in it is trusted before the pipeline ran. */
export interface Evidence {
  format: 'aicert-legacy' | 'aibom-v1';
  /** Original documents made without a TPM (`{"simulation_mode": true}`). */
  simulation: boolean;
  tpm?: {
    attest: Uint8Array;
    signature: Uint8Array;
    pcrs: PcrValues;
    /** TPM2B_PUBLIC of the AK (v1, optional). */
    akPublic?: Uint8Array;
    akCertificates: CertInput[];
  };
  /** Confidential-VM hardware evidence (HCL report + VCEK or TD quote), v1 only: spec/confidential-vms.md. */
  cvm?: import('./cvm.js').CvmEvidence;
  /** Binary TCG event log (binary_bios_measurements), v1 only. */
  bootEventLog?: Uint8Array;
  /** App events: the exact strings extended into PCR 14 and PCR 8. */
  app: { pcr14: string[]; pcr8: string[] };
  /** PEM whose sha256 is extended into PCR 15 (original `ca_cert`, v1 `tlsCertificate`); '' or undefined = none. */
  tlsCertificate?: string;
  /** v1: the nonce the quote was bound with. */
  nonce?: Uint8Array;
  /** v1: the exact statement bytes and their parse. */
  statementBytes?: Uint8Array;
  statement?: Record<string, unknown>;
  /** Tolerated quirks of the input. */
  warnings: string[];
}

/** A repository pinned to a revision (Hugging Face repo and git commit). */
export interface PinnedRepo {
  /** `ORG/REPO` (datasets without the `datasets/` prefix). */
  repo: string;
  /** The repository URL as measured. */
  uri: string;
  /** 40-hex git commit (or whatever the document measured, see warnings). */
  revision: string;
  /** Dataset file inside the repository. */
  path?: string;
}

/** The model's ID card: what the certificate says about how the weights were made. */
export interface Claims {
  format?: Evidence['format'];
  simulation?: boolean;
  baseModel?: PinnedRepo;
  datasets?: PinnedRepo[];
  /** sha256 of the training configuration as measured. */
  configSha256?: string;
  /** The training configuration (original: the parsed YAML; v1: externalParameters.config). */
  config?: unknown;
  images?: { name: string; digest: string }[];
  outputs?: { name: string; sha256: string }[];
  compute?: { totalFlos: number[] };
  timing?: { finetuneSeconds?: number; startedOn?: string; finishedOn?: string };
  /** The AK certificate: who vouches for the TPM (e.g. an Azure Trusted Launch VM). */
  platform?: { akSubject: string; akIssuer: string; anchor: string; description: string; azureVmId?: string; hardware?: Record<string, unknown> };
  quote?: { clock: string; resetCount: number; restartCount: number; safe: boolean; firmwareVersion: string; pcrSelection: string };
  /** sha256 of the TLS certificate bound through PCR 15. */
  tlsCertificateSha256?: string;
  /** v1: sha256 of the statement (D). */
  statementDigest?: string;
  builderId?: string;
}

/** What `artifacts` may be: named byte sources, or a verifier callback (the Node CLI hashes files on disk). */
export type ArtifactSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
export interface ArtifactReport {
  ok: boolean;
  matched: string[];
  missing: string[];
  extra: string[];
  mismatched: string[];
}
export type ArtifactVerifier = (expected: { name: string; sha256: string }[]) => Promise<ArtifactReport>;

export interface VerifyAibomOptions {
  /** Trust anchors for the AK chain (DER/PEM); default the embedded Azure vTPM root 2023. */
  trustAnchors?: CertInput[];
  /** Extra intermediates for path building. */
  intermediates?: CertInput[];
  /** Anchors with their own EKU rule (named stores such as `gce`; spec/confidential-vms.md §7). */
  anchorRules?: import('../tpm/trust-stores.js').TrustAnchorRule[];
  /** false: the AK certificate EKU is not required (default true). */
  requireAikEku?: boolean;
  /**
   * Confidential VMs: AMD ARK/ASK per product line and Intel SGX root(s). Default: the embedded public roots, but only
   * when no trust is configured at all; with trustAnchors or anchorRules, only the hardware roots given here are trusted.
   */
  amdRoots?: import('../tpm/trust-hardware.js').AmdRoots;
  intelRoots?: CertInput[];
  /** Time for certificate validity (default now). */
  at?: Date;
  /** Expected nonce: original documents compare qualifyingData raw; v1 requires evidence.nonce to equal it. */
  nonce?: Uint8Array | string;
  /** Our policy (object, JSON text or bytes). */
  policy?: Policy | string | Uint8Array | Record<string, unknown>;
  /** Original golden PCR values `{"measurements": {"<pcr>": "<hex>"}}`. */
  measurements?: string | Uint8Array | Record<string, unknown>;
  /** Original container ids `{"<image>": "sha256:<hex>"}`. */
  containers?: string | Uint8Array | Record<string, unknown>;
  /** Accept original documents in simulation mode (no TPM at all). Never valid otherwise. */
  allowSimulation?: boolean;
  /** Accept that the platform (PCR policy, containers) was not checked. The report still lists what did not run. */
  allowUncheckedPlatform?: boolean;
  /** Smallest RSA AK accepted, in bits (default 2048). A lower value is named in the `quote.ak.keySize` check. */
  minRsaBits?: number;
  /** Outputs to check: name -> bytes/stream, or a callback that checks them (Node: files on disk). */
  artifacts?: Record<string, ArtifactSource> | ArtifactVerifier;
}

/** What verifyAibom reports in both outcomes. */
interface VerifyAibomReport {
  checks: Check[];
  claims: Claims;
  warnings: string[];
}

/** The first failure that stopped the pipeline: a VerificationError or PolicyError, flattened. */
export interface VerifyAibomFailure {
  name: string;
  code: string;
  message: string;
}

/** Every check passed and every check that must run did. */
export interface VerifyAibomValid extends VerifyAibomReport {
  valid: true;
  unchecked: [];
  error?: undefined;
}

/**
 * Not valid. `error` is the failure that stopped the pipeline; it is absent only when every check that ran passed
 * but some could not run (`unchecked` names them, e.g. no golden values without allowUncheckedPlatform).
 */
export interface VerifyAibomInvalid extends VerifyAibomReport {
  valid: false;
  /** Ids of checks that could not run and that kept `valid` false. */
  unchecked: string[];
  error?: VerifyAibomFailure;
}

/** verifyAibom's result: narrows on `valid` (`if (!r.valid) r.unchecked, r.error`). */
export type VerifyAibomResult = VerifyAibomValid | VerifyAibomInvalid;
