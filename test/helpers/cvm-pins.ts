/**
 * Launch-measurement pins for confidential-VM tests, read straight from the evidence bytes at the offsets of the
 * AMD SNP ABI (measurement at 0x90 of the report, the report at 32 in the HCL report) and the TD quote v4 (MRTD at
 * 136 of the 584-byte body after the 48-byte header): the tests pin what the hardware reported without asking the
 * code under test.
 */
const hex = (b: Uint8Array, from: number, len: number): string => Buffer.from(b.subarray(from, from + len)).toString('hex');

/** SEV-SNP launch measurement of a bare 1184-byte report. */
export const snpMeasurement = (report: Uint8Array): string => hex(report, 0x90, 48);
/** SEV-SNP launch measurement of the report inside an HCL report. */
export const hclSnpMeasurement = (hcl: Uint8Array): string => hex(hcl, 32 + 0x90, 48);
/** TDX MRTD of a TD quote v4. */
export const tdQuoteMrTd = (q: Uint8Array): string => hex(q, 48 + 136, 48);

/** confidentialVm rules that pin exactly this SNP measurement / this MRTD. */
export const pinSnp = (measurement: string) => ({ snp: { measurement: [measurement] } });
export const pinTdx = (mrTd: string) => ({ tdx: { mrTd: [mrTd] } });
