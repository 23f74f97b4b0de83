/**
 * Confidential VMs: the runner reads Azure's HCL report from the vTPM NV index the paravisor writes it to and puts
 * it in the AIBOM (`evidence.cvm`, spec/confidential-vms.md §2, §9), with a VCEK (SEV-SNP) or TD quote (TDX) when the
 * operator gives one. The report is parsed before it is shipped, so a VM without one fails at start-up, not later.
 */
import { parseHclReport } from '../tpm/hcl.js';
import { ToolError } from '../wire/tool-error.js';

/** NV index of the HCL report (Azure confidential VMs). */
export const HCL_REPORT_NV_INDEX = 0x01400001;

export interface CvmEvidenceInput {
  hclReport: Uint8Array;
  /** VCEK/VLEK certificate chain (PEM) for SEV-SNP, e.g. from Azure's THIM endpoint. */
  vcek?: string;
  /** TD quote v4 for TDX. */
  tdQuote?: Uint8Array;
}

/** Reads and checks the HCL report; throws (fail closed) when the index is absent or does not hold one. */
export async function readHclReport(nvRead: (index: number) => Promise<Uint8Array>): Promise<Uint8Array> {
  let b: Uint8Array;
  try {
    b = await nvRead(HCL_REPORT_NV_INDEX);
  } catch (e) {
    throw new ToolError('HCL_REPORT_UNREADABLE', `confidential VM: cannot read the HCL report at NV index 0x${HCL_REPORT_NV_INDEX.toString(16)}: ${(e as Error).message}`);
  }
  parseHclReport(b);
  return b;
}

/** The `evidence.cvm` object with a byte encoder (base64 for JSON, raw for CBOR). */
export function cvmEvidence(c: CvmEvidenceInput, bytes: (b: Uint8Array) => unknown): Record<string, unknown> {
  return { hclReport: bytes(c.hclReport), ...(c.vcek ? { vcek: c.vcek } : {}), ...(c.tdQuote ? { tdQuote: bytes(c.tdQuote) } : {}) };
}
