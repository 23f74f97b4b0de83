/**
 * `aicert quote` inputs beyond tpm2_checkquote's: plain signatures (`--signature-format plain`, `--scheme`,
 * `--hash`), trust stores (`--trust-store azure|gce`), confidential-VM evidence (`--hcl-report` with `--vcek` or
 * `--td-quote`), and an SEV-SNP report binding a non-restricted AK (`--snp-report`, SVSM). spec/confidential-vms.md.
 */
import type { ConfidentialVmVerification } from '../tpm/cvm.js';
import { loadAkPublic } from '../tpm/keys.js';
import { isPcrYaml, parsePcrYaml } from '../tpm/pcr-yaml.js';
import { tpmtFromPlainSignature, type PlainScheme } from '../tpm/plain-signature.js';
import type { QuoteVerification } from '../tpm/quote.js';
import { TRUST_STORE_NAMES, trustStore, type TrustAnchorRule, type TrustStoreName } from '../tpm/trust-stores.js';
import { tryUtf8Decode } from '../util/bytes.js';
import { readInput, UsageError } from './io.js';
import { safe } from './text.js';
import { parseCvmPolicy } from '../aibom/cvm-evidence.js';
import { readJson } from '../util/json.js';
import type { CvmRules } from '../tpm/cvm-rules.js';
import type { SnpProduct } from '../tpm/trust-amd.js';
import { amdRootsFromCertificates, EMBEDDED_HARDWARE_ROOTS, resolveHardwareRoots, type AmdRoots, type HardwareRoots } from '../tpm/trust-hardware.js';
import type { CertInput } from '../tpm/x509-der.js';

/** parseArgs options the quote command adds for these inputs. */
export const QUOTE_EXTRA_OPTIONS = {
  'signature-format': { type: 'string' },
  scheme: { type: 'string' },
  hash: { type: 'string' },
  'trust-store': { type: 'string', multiple: true },
  'no-require-aik-eku': { type: 'boolean' },
  'allow-unrestricted-ak': { type: 'boolean' },
  'hcl-report': { type: 'string' },
  vcek: { type: 'string' },
  'vcek-chain': { type: 'string', multiple: true },
  'td-quote': { type: 'string' },
  'snp-report': { type: 'string' },
  'allow-debug': { type: 'boolean' },
  'amd-roots': { type: 'string', multiple: true },
  'intel-root': { type: 'string', multiple: true },
  'cvm-policy': { type: 'string' },
} as const;

export const QUOTE_EXTRA_USAGE =
  '[--signature-format tpmt|plain [--scheme rsassa|rsapss|ecdsa] [--hash sha256]] [--trust-store azure|gce]... [--no-require-aik-eku] [--allow-unrestricted-ak] [--hcl-report FILE (--vcek PEM [--vcek-chain PEM]... | --td-quote FILE) [--allow-debug]] [--snp-report FILE --vcek PEM [--vcek-chain PEM]...] [--cvm-policy FILE] [--amd-roots PEM]... [--intel-root PEM]... [--trust-store amd|intel]...';

type Extra = { [K in keyof typeof QUOTE_EXTRA_OPTIONS]?: (typeof QUOTE_EXTRA_OPTIONS)[K]['type'] extends 'boolean' ? boolean : (typeof QUOTE_EXTRA_OPTIONS)[K] extends { multiple: true } ? string[] : string };

/** The signature as TPMT_SIGNATURE bytes: `--signature-format plain` wraps a raw signature for the AK's scheme. */
export function readSignature(o: Extra & { signature: string }, akBytes: Uint8Array | undefined): Uint8Array {
  const fmt = o['signature-format'] ?? 'tpmt';
  if (fmt !== 'tpmt' && fmt !== 'plain') throw new UsageError(`--signature-format must be tpmt or plain, got '${fmt}'`);
  const sig = readInput(o.signature, 'signature');
  if (fmt === 'tpmt') {
    if (o.scheme || o.hash) throw new UsageError('--scheme and --hash apply to --signature-format plain only');
    return sig;
  }
  if (o.scheme && !['rsassa', 'rsapss', 'ecdsa'].includes(o.scheme)) throw new UsageError(`--scheme must be rsassa, rsapss or ecdsa, got '${o.scheme}'`);
  if (!akBytes) throw new UsageError('--signature-format plain needs --ak (or --hcl-report, which carries the AK)');
  return tpmtFromPlainSignature(sig, loadAkPublic(akBytes), { ...(o.scheme ? { scheme: o.scheme as PlainScheme } : {}), ...(o.hash ? { hash: o.hash } : {}) });
}

/** Stores of hardware vendor roots (confidential VMs), named beside the AK stores. */
const HARDWARE_STORES = ['amd', 'intel'];

/** `--trust-store NAME`: anchors that carry their own EKU rule (`amd`/`intel` name hardware roots: readHardwareRoots). */
export function readTrustStores(names: string[] | undefined): TrustAnchorRule[] | undefined {
  const ak = (names ?? []).filter((n) => !HARDWARE_STORES.includes(n));
  if (!ak.length) return undefined;
  return ak.flatMap((n) => {
    if (!TRUST_STORE_NAMES.includes(n as TrustStoreName)) throw new UsageError(`--trust-store must be one of ${[...TRUST_STORE_NAMES, ...HARDWARE_STORES].join(', ')}, got '${safe(n, 40)}'`);
    return trustStore(n as TrustStoreName);
  });
}

/**
 * Hardware roots of confidential VMs from the trust configuration (spec/confidential-vms.md §Hardware roots):
 * `--amd-roots FILE` (ARK and ASK certificates), `--intel-root FILE`, `--trust-store amd|intel` for the embedded
 * public ones. Nothing configured at all: the embedded roots (the documented default); AK trust configured
 * (`trustConfigured`) without hardware roots: none.
 */
export function readHardwareRoots(o: { 'amd-roots'?: string[]; 'intel-root'?: string[]; 'trust-store'?: string[] }, trustConfigured: boolean): HardwareRoots {
  const stores = o['trust-store'] ?? [];
  let amd: AmdRoots | undefined = stores.includes('amd') ? { ...EMBEDDED_HARDWARE_ROOTS.amd } : undefined;
  for (const f of o['amd-roots'] ?? []) {
    const given = amdRootsFromCertificates(readTrustRoot(f));
    for (const [p, r] of Object.entries(given)) {
      if (amd?.[p as SnpProduct]) throw new UsageError(`ARK-${p} given twice (by --amd-roots files or with --trust-store amd)`);
      amd = { ...amd, [p]: r };
    }
  }
  let intel: CertInput[] | undefined = stores.includes('intel') ? [...EMBEDDED_HARDWARE_ROOTS.intel] : undefined;
  for (const f of o['intel-root'] ?? []) intel = [...(intel ?? []), readTrustRoot(f)];
  return resolveHardwareRoots({ ...(amd ? { amdRoots: amd } : {}), ...(intel ? { intelRoots: intel } : {}), trustConfigured });
}

/** `--cvm-policy FILE`: the `confidentialVm` rules of spec/policy.md (the object itself, or a policy carrying it). */
export function readCvmPolicy(path: string | undefined): CvmRules | undefined {
  if (path === undefined) return undefined;
  const doc = readJson(readInput(path, 'CVM policy'), 'CVM policy');
  const inner = doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'confidentialVm' in doc ? (doc as Record<string, unknown>).confidentialVm : doc;
  return parseCvmPolicy(inner);
}

/** `--trust-root FILE`: PEM (one or more certificates) or DER. */
export function readTrustRoot(path: string): Uint8Array | string {
  const b = readInput(path, 'trust root');
  const t = tryUtf8Decode(b);
  return t !== undefined && t.includes('-----BEGIN') ? t : b;
}

/** `--pcrs FILE` in tpm2-tools YAML form, when it is that (else undefined: the caller's other forms apply). */
export function readPcrYaml(b: Uint8Array): ReturnType<typeof parsePcrYaml> | undefined {
  const t = b.length < 1 << 20 ? tryUtf8Decode(b) : undefined;
  return t !== undefined && isPcrYaml(t) ? parsePcrYaml(t) : undefined;
}

/** Confidential-VM and SVSM evidence paths, read from the flags (undefined when none given). */
export function readCvmFlags(o: Extra): { hcl?: Uint8Array; snp?: Uint8Array; vcek?: Uint8Array; vcekChain: Uint8Array[]; tdQuote?: Uint8Array } | undefined {
  if (!o['hcl-report'] && !o['snp-report']) {
    if (o.vcek || o['td-quote'] || o['vcek-chain']) throw new UsageError('--vcek, --vcek-chain and --td-quote go with --hcl-report or --snp-report');
    return undefined;
  }
  if (o['hcl-report'] && o['snp-report']) throw new UsageError('give --hcl-report or --snp-report, not both');
  return {
    ...(o['hcl-report'] ? { hcl: readInput(o['hcl-report'], 'HCL report') } : {}),
    ...(o['snp-report'] ? { snp: readInput(o['snp-report'], 'SNP report') } : {}),
    ...(o.vcek ? { vcek: readInput(o.vcek, 'VCEK') } : {}),
    vcekChain: (o['vcek-chain'] ?? []).map((f) => readInput(f, 'VCEK chain')),
    ...(o['td-quote'] ? { tdQuote: readInput(o['td-quote'], 'TD quote') } : {}),
  };
}

/** JSON view of the hardware claims of a confidential-VM verification. */
export function describePlatform(v: ConfidentialVmVerification | { platform: string; claims: Record<string, unknown> } | undefined): Record<string, unknown> {
  return v ? { platform: { type: v.platform, claims: v.claims } } : {};
}

export type { QuoteVerification };
