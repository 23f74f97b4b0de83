/**
 * Hardware vendor roots of confidential VMs (spec/confidential-vms.md §Hardware roots): the AMD ARK (with its ASK)
 * per product line and the Intel SGX Root CA. They come from the verifier's trust configuration: the embedded public
 * roots are used by the documented default (no trust configured at all) or when the configuration names them
 * (`--trust-store amd` / `intel`); a configuration that names other anchors and no hardware roots trusts none.
 */
import { MalformedInputError, VerificationError } from '../errors.js';
import { AMD_SEV_ROOTS, type SnpProduct } from './trust-amd.js';
import { INTEL_SGX_ROOT_CA } from './trust-intel.js';
import { parseCert } from './x509-cert.js';
import { parseCertificates, type CertInput } from './x509-der.js';

/** AMD ARK (self-signed) and its ASK per product line. */
export type AmdRoots = Partial<Record<SnpProduct, { ark: CertInput; ask?: CertInput }>>;

/** The roots a confidential-VM verification may end at. */
export interface HardwareRoots {
  amd: AmdRoots;
  intel: CertInput[];
}

/** AMD's and Intel's public roots, embedded in src/tpm/trust-amd.ts and trust-intel.ts. */
export const EMBEDDED_HARDWARE_ROOTS: HardwareRoots = { amd: AMD_SEV_ROOTS, intel: [INTEL_SGX_ROOT_CA] };

/** What the caller configured: explicit hardware roots, and whether any AK trust (anchors or stores) was given. */
export interface HardwareTrustConfig {
  amdRoots?: AmdRoots;
  intelRoots?: CertInput[];
  /** true when the caller configured AK trust anchors or stores: embedded hardware roots are then not implied. */
  trustConfigured?: boolean;
}

/** Resolves the hardware roots: only configured ones, or the embedded ones by the documented default. */
export function resolveHardwareRoots(cfg: HardwareTrustConfig = {}): HardwareRoots {
  if (!cfg.trustConfigured && cfg.amdRoots === undefined && cfg.intelRoots === undefined) return EMBEDDED_HARDWARE_ROOTS;
  return { amd: cfg.amdRoots ?? {}, intel: cfg.intelRoots ?? [] };
}

const PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa', 'Turin'];

/** Sorts certificates into AMD roots by subject CN: `ARK-<product>` (self-signed) and `SEV-<product>` (the ASK). */
export function amdRootsFromCertificates(input: CertInput | CertInput[]): AmdRoots {
  const out: AmdRoots = {};
  const asks: [SnpProduct, Uint8Array][] = [];
  for (const [i, der] of parseCertificates(input, 'amdRoots').entries()) {
    const c = parseCert(der, `amdRoots[${i}]`);
    const cn = /(?:^|, )CN=([^,]+)/.exec(c.subject)?.[1] ?? '';
    const m = /^(ARK|SEV)-(Milan|Genoa|Turin)$/.exec(cn);
    if (!m) throw new MalformedInputError(`certificate CN "${cn.slice(0, 60)}" is neither ARK-<product> nor SEV-<product>`, { path: `amdRoots[${i}]` });
    const p = m[2] as SnpProduct;
    if (m[1] === 'ARK') {
      if (c.subject !== c.issuer) throw new MalformedInputError(`ARK-${p} is not self-signed`, { path: `amdRoots[${i}]` });
      if (out[p]) throw new MalformedInputError(`two ARK-${p} certificates`, { path: `amdRoots[${i}]` });
      out[p] = { ark: der };
    } else asks.push([p, der]);
  }
  for (const [p, der] of asks) {
    const r = out[p];
    if (!r) throw new MalformedInputError(`SEV-${p} given without ARK-${p}`, { path: 'amdRoots' });
    r.ask = der;
  }
  if (!PRODUCTS.some((p) => out[p])) throw new MalformedInputError('no ARK certificate given', { path: 'amdRoots' });
  return out;
}

/** Refuses a verification that has no root of this vendor to end at (the configuration named none). */
export function requireRoots(vendor: 'AMD' | 'Intel', n: number): void {
  if (n === 0) {
    throw new VerificationError('CERT_UNTRUSTED_ROOT', `no ${vendor} root is configured: the trust configuration names other anchors only (give ${vendor}'s roots with options.${vendor === 'AMD' ? 'amdRoots' : 'intelRoots'}; the package embeds ${vendor}'s public ones)`);
  }
}
