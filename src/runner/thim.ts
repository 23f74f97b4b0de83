/**
 * Confidential-VM evidence the runner fetches from Azure IMDS (spec/confidential-vms.md §Runner): the VCEK and its
 * AMD chain from THIM (`GET /metadata/THIM/amd/certification` → JSON `vcekCert`, `certificateChain`, `tcbm`,
 * `cacheControl`), and the TD quote from the ACC endpoint (`POST /acc/tdquote` `{"report": base64url(TDREPORT)}` →
 * `{"quote": base64url}`). Every answer is untrusted: it is parsed strictly and must belong to this VM's HCL report
 * (the SNP report verifies with the VCEK; the TD quote's body is the TDREPORT), else the runner does not start.
 */
import { ToolError } from '../wire/tool-error.js';
import { readJson } from '../util/json.js';
import { parseHclReport } from '../tpm/hcl.js';
import { materialFromSpki } from '../tpm/keys.js';
import { parseSnpReport, verifySnpSignature } from '../tpm/snp.js';
import { parseTdQuote } from '../tpm/tdx.js';
import { parseCert } from '../tpm/x509-cert.js';
import { parseCertificates } from '../tpm/x509-der.js';
import { bytesEqual, toBase64Url, tryFromBase64 } from '../util/bytes.js';
import { imdsText, type ImdsOptions } from './imds.js';

/** Azure IMDS (link-local); `--imds-endpoint` replaces it (tests: a loopback server). */
export const IMDS_ENDPOINT = 'http://169.254.169.254';

export interface CvmImdsOptions extends Pick<ImdsOptions, 'fetch' | 'budgetMs' | 'now' | 'sleep'> {
  endpoint?: string;
}

/** A JSON object answer with these string fields (anything else in it is ignored). */
function fields(text: string, what: string, names: string[]): Record<string, string> {
  let doc: unknown;
  try {
    doc = readJson(text, what);
  } catch (e) {
    throw new ToolError('THIM_ANSWER_INVALID', `${what}: not JSON (${(e as Error).message.slice(0, 120)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ToolError('THIM_ANSWER_INVALID', `${what}: not a JSON object`);
  const o = doc as Record<string, unknown>;
  for (const n of names) if (typeof o[n] !== 'string' || !(o[n] as string).length) throw new ToolError('THIM_ANSWER_INVALID', `${what}: "${n}" missing or not a string`);
  return o as Record<string, string>;
}

/** The VCEK and AMD chain from THIM, checked to have signed this VM's SNP report. Returns one PEM bundle. */
export async function fetchThimVcek(hclReport: Uint8Array, o: CvmImdsOptions = {}): Promise<string> {
  const url = `${(o.endpoint ?? IMDS_ENDPOINT).replace(/\/+$/, '')}/metadata/THIM/amd/certification`;
  const j = fields(await imdsText({ ...o, url, maxBytes: 64 * 1024 }), 'THIM answer', ['vcekCert', 'certificateChain']);
  // The VCEK: exactly one certificate, named SEV-VCEK/SEV-VLEK; the chain parses as certificates.
  let vcek;
  try {
    const ders = parseCertificates(j.vcekCert!, 'THIM vcekCert');
    if (ders.length !== 1) throw new ToolError('THIM_ANSWER_INVALID', `${ders.length} certificates in vcekCert`);
    vcek = parseCert(ders[0]!, 'THIM vcekCert');
    parseCertificates(j.certificateChain!, 'THIM certificateChain').forEach((d, i) => parseCert(d, `THIM certificateChain[${i}]`));
  } catch (e) {
    throw new ToolError('THIM_ANSWER_INVALID', `THIM answer: ${(e as Error).message.slice(0, 160)}`);
  }
  if (!/(?:^|, )CN=SEV-V(?:C|L)EK(?:,|$)/.test(vcek.subject)) throw new ToolError('THIM_ANSWER_INVALID', 'THIM answer: vcekCert is not a VCEK/VLEK certificate');
  // It must be this chip's key at this TCB: the SNP report of the HCL report verifies with it.
  const hcl = parseHclReport(hclReport);
  if (hcl.reportType !== 'snp') throw new ToolError('THIM_ANSWER_INVALID', `THIM VCEK asked for, but the HCL report is ${hcl.reportType}`);
  if (!(await verifySnpSignature(parseSnpReport(hcl.hwReport), materialFromSpki(vcek.spki)))) {
    throw new ToolError('THIM_ANSWER_INVALID', 'THIM answer: the VCEK did not sign this VM\'s SNP report (another chip or TCB)');
  }
  return `${j.vcekCert!.trim()}\n${j.certificateChain!.trim()}\n`;
}

/** The TD quote for this VM's TDREPORT from the ACC endpoint, checked to quote exactly that TDREPORT. */
export async function fetchTdQuote(hclReport: Uint8Array, o: CvmImdsOptions = {}): Promise<Uint8Array> {
  const hcl = parseHclReport(hclReport);
  if (hcl.reportType !== 'tdx') throw new ToolError('THIM_ANSWER_INVALID', `TD quote asked for, but the HCL report is ${hcl.reportType}`);
  const url = `${(o.endpoint ?? IMDS_ENDPOINT).replace(/\/+$/, '')}/acc/tdquote`;
  const j = fields(await imdsText({ ...o, url, jsonBody: { report: toBase64Url(hcl.hwReport) }, maxBytes: 256 * 1024 }), 'TD quote answer', ['quote']);
  const quote = tryFromBase64(j.quote!);
  if (!quote) throw new ToolError('THIM_ANSWER_INVALID', 'TD quote answer: "quote" is not base64url');
  let body;
  try {
    body = parseTdQuote(quote).body;
  } catch (e) {
    throw new ToolError('THIM_ANSWER_INVALID', `TD quote answer: ${(e as Error).message.slice(0, 160)}`);
  }
  // The quote's report_data and MRTD must be this TDREPORT's.
  if (!bytesEqual(body.subarray(520, 584), hcl.hwReport.subarray(128, 192)) || !bytesEqual(body.subarray(136, 184), hcl.hwReport.subarray(528, 576))) {
    throw new ToolError('THIM_ANSWER_INVALID', 'TD quote answer: the quote is not of this VM\'s TDREPORT');
  }
  return quote;
}

/** The runner's `evidence.cvm` inputs: given files, or fetched from IMDS when asked. */
export async function cvmFromImds(hclReport: Uint8Array, c: { vcek?: string; tdQuote?: Uint8Array; imds?: CvmImdsOptions & { vcek?: boolean; tdQuote?: boolean } }) {
  const vcek = c.vcek ?? (c.imds?.vcek ? await fetchThimVcek(hclReport, c.imds) : undefined);
  const tdQuote = c.tdQuote ?? (c.imds?.tdQuote ? await fetchTdQuote(hclReport, c.imds) : undefined);
  return { hclReport, ...(vcek ? { vcek } : {}), ...(tdQuote ? { tdQuote } : {}) };
}
