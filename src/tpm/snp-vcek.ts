/**
 * VCEK / VLEK certificates (AMD "Versioned Chip/Loaded Endorsement Key Certificate and KDS Interface
 * Specification" #57230 §3): chain the key to the pinned ARK of its product line (VCEK → ASK → ARK, VLEK → ASVK →
 * ARK) and read the AMD extensions that bind it to one chip and TCB (hwID, blSPL, teeSPL, snpSPL, ucodeSPL,
 * fmcSPL, productName). Spec: spec/confidential-vms.md §VCEK.
 */
import { VerificationError } from '../errors.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { summarize, type CertSummary } from './akcert.js';
import { materialFromSpki, type KeyMaterial } from './keys.js';
import { decodeTcb, type SnpReport } from './snp.js';
import type { SnpProduct } from './trust-amd.js';
import { EMBEDDED_HARDWARE_ROOTS, requireRoots, type AmdRoots } from './trust-hardware.js';
import { parseCert, type ParsedCert } from './x509-cert.js';
import { decodeOid, decodeString, parseCertificates, readTlv, readTlvs, type CertInput } from './x509-der.js';
import { buildPath } from './x509-path.js';

const AMD = '1.3.6.1.4.1.3704.1';
const EXT = { productName: `${AMD}.2`, bl: `${AMD}.3.1`, tee: `${AMD}.3.2`, snp: `${AMD}.3.3`, ucode: `${AMD}.3.8`, fmc: `${AMD}.3.9`, hwId: `${AMD}.4` };

export interface VcekInfo {
  kind: 'vcek' | 'vlek';
  product: SnpProduct;
  key: KeyMaterial;
  productName: string | undefined;
  hwId: Uint8Array | undefined;
  tcb: { bootloader?: number; tee?: number; snp?: number; microcode?: number; fmc?: number };
  path: CertSummary[];
}

/** Extensions by OID: the raw extnValue contents. */
function extensions(c: ParsedCert): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const fields = readTlvs(readTlv(c.tbs, 'vcek.tbs', 0x30).body, 'vcek.tbs');
  const ext = fields.find((f) => f.tag === 0xa3);
  if (!ext) return out;
  for (const e of readTlvs(readTlv(ext.body, 'vcek.extensions', 0x30).body, 'vcek.extensions')) {
    const parts = readTlvs(e.body, 'vcek.extension');
    out.set(decodeOid(parts[0]!.body), parts[parts.length - 1]!.body);
  }
  return out;
}

/** A DER INTEGER (0..255) extension value. */
function splOf(v: Uint8Array | undefined): number | undefined {
  if (!v) return undefined;
  const t = readTlv(v, 'vcek.spl', 0x02);
  if (t.body.length === 0 || t.body.length > 2 || (t.body.length === 2 && t.body[0] !== 0)) return undefined;
  return t.body[t.body.length - 1];
}

/** hwID: the 64-byte chip id, raw (AMD KDS) or as a DER OCTET STRING (some producers). */
function hwIdOf(v: Uint8Array | undefined): Uint8Array | undefined {
  if (!v) return undefined;
  if (v.length === 64) return v;
  if (v.length === 66 && v[0] === 0x04 && v[1] === 64) return v.subarray(2);
  return undefined;
}

/**
 * Reads the AMD fields of a VCEK/VLEK and chains it to a configured ARK (CERT_* codes on failure). `roots` are the
 * ARK/ASK per product line the trust configuration resolved to (src/tpm/trust-hardware.ts); none: CERT_UNTRUSTED_ROOT.
 */
export async function verifyVcek(vcek: CertInput, intermediates: CertInput[], at: Date, roots: AmdRoots = EMBEDDED_HARDWARE_ROOTS.amd): Promise<VcekInfo> {
  const products = (Object.keys(roots) as SnpProduct[]).filter((p) => roots[p]);
  requireRoots('AMD', products.length);
  // The leaf is the one VCEK/VLEK among the given certificates (Azure THIM and KDS bundles add ASK and ARK).
  const given = parseCertificates(vcek, 'vcek').map((d, i) => parseCert(d, `vcek[${i}]`));
  const kindOf = (c: ParsedCert): 'vcek' | 'vlek' | undefined => {
    const cn = /(?:^|, )CN=([^,]+)/.exec(c.subject)?.[1];
    return cn === 'SEV-VCEK' ? 'vcek' : cn === 'SEV-VLEK' ? 'vlek' : undefined;
  };
  const leaves = given.filter((c) => kindOf(c));
  if (leaves.length !== 1) throw new VerificationError('SNP_VCEK_INVALID', `expected one VCEK or VLEK certificate, got ${leaves.length} among ${given.length}`);
  const leaf = leaves[0]!;
  const kind = kindOf(leaf)!;
  // Path: given intermediates, then the embedded ASKs; only the pinned ARKs end it.
  const pool = [...given.filter((c) => c !== leaf), ...parseCertificates(intermediates, 'vcekChain').map((d, i) => parseCert(d, `vcekChain[${i}]`))];
  const anchors: ParsedCert[] = [];
  const arks = new Map<string, SnpProduct>();
  for (const p of products) {
    const ark = parseCert(parseCertificates(roots[p]!.ark, 'amdRoots')[0]!, `amdRoots.${p}.ark`);
    anchors.push(ark);
    arks.set(ark.sha256, p);
    if (roots[p]!.ask !== undefined) pool.push(parseCert(parseCertificates(roots[p]!.ask!, 'amdRoots')[0]!, `amdRoots.${p}.ask`));
  }
  const built = await buildPath(leaf, { anchors, pool, at });
  const product = arks.get(built.anchor.sha256)!;
  const x = extensions(leaf);
  const pn = x.get(EXT.productName);
  const productName = pn ? decodeString(readTlv(pn, 'vcek.productName').tag, readTlv(pn, 'vcek.productName').body) : undefined;
  if (productName !== undefined && !productName.startsWith(product)) {
    throw new VerificationError('SNP_VCEK_INVALID', `VCEK productName ${productName} but it chains to ARK-${product}`);
  }
  const tcb = { bootloader: splOf(x.get(EXT.bl)), tee: splOf(x.get(EXT.tee)), snp: splOf(x.get(EXT.snp)), microcode: splOf(x.get(EXT.ucode)), fmc: splOf(x.get(EXT.fmc)) };
  return { kind, product, key: materialFromSpki(leaf.spki), productName, hwId: hwIdOf(x.get(EXT.hwId)), tcb, path: built.path.map(summarize) };
}

/** The VCEK is the key of this chip at this TCB: its SPLs equal reported_tcb and its hwID equals chip_id. */
export function checkVcekMatchesReport(info: VcekInfo, report: SnpReport): string {
  if (info.kind !== report.signingKey) throw new VerificationError('SNP_VCEK_MISMATCH', `report is signed by the ${report.signingKey.toUpperCase()} but a ${info.kind.toUpperCase()} certificate was given`);
  const tcb = decodeTcb(report.reportedTcb, info.product === 'Turin');
  for (const f of ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const) {
    const want = info.tcb[f];
    if (want === undefined) {
      if (f === 'fmc' && info.product !== 'Turin') continue;
      if (info.kind === 'vlek') continue;
      throw new VerificationError('SNP_VCEK_MISMATCH', `VCEK lacks the ${f} SPL extension`);
    }
    if (tcb[f] !== want) throw new VerificationError('SNP_VCEK_MISMATCH', `VCEK ${f} SPL ${want} differs from the report's reported_tcb ${f} ${tcb[f]}`);
  }
  // VLEKs are not chip-specific; a VCEK must name this chip unless the guest masked the chip id.
  if (info.kind === 'vcek' && !report.maskChipKey) {
    if (!info.hwId) throw new VerificationError('SNP_VCEK_MISMATCH', 'VCEK lacks the hwID extension');
    if (!bytesEqual(info.hwId, report.chipId)) throw new VerificationError('SNP_VCEK_MISMATCH', `VCEK hwID ${toHex(info.hwId).slice(0, 16)}… is not the report's chip_id ${toHex(report.chipId).slice(0, 16)}…`);
  }
  return `${info.kind.toUpperCase()} SPLs equal reported_tcb ${tcb.raw}${info.kind === 'vcek' ? ' and hwID equals chip_id' : ''}`;
}
