// The runner's confidential-VM hook: the HCL report read from vTPM NV index 0x01400001 (a real swtpm with
// nothing there: fails closed) and Azure's real report carried into the AIBOM as evidence.cvm.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAibom } from '../src/aibom/parse.js';
import { HCL_REPORT_NV_INDEX, readHclReport } from '../src/runner/hcl.js';
import { buildAibomV1 } from '../src/runner/emit.js';
import { Tpm } from '../src/runner/tpm.js';
import { startSwtpm, swtpmAvailable, type Swtpm } from './helpers/swtpm.js';
import { vectorsDir } from './helpers/vectors.js';

const V = vectorsDir();

describe.skipIf(!V || !swtpmAvailable())('runner: HCL report from the vTPM NV index', () => {
  let sw: Swtpm;
  let tpm: Tpm;
  const hcl = () => new Uint8Array(readFileSync(join(V!, 'trustee/az-snp-vtpm/hcl-report.bin')));
  beforeAll(async () => {
    sw = await startSwtpm();
    tpm = await Tpm.open(sw.tcti);
  }, 30_000);
  afterAll(async () => {
    await sw?.stop();
  });
  it('fails closed when the index is absent (not a confidential VM)', async () => {
    await expect(readHclReport((i) => tpm.nvRead(i))).rejects.toThrow(/cannot read the HCL report/);
  });
  it('swtpm cannot hold it (NV indexes are at most 2048 bytes there; Azure\'s is 2600), so the content path uses the bytes', async () => {
    await expect(tpm.nvWrite(HCL_REPORT_NV_INDEX, hcl())).rejects.toThrow(/nvdefine/);
  });
  it('reads the 2600-byte report and puts it into the AIBOM evidence.cvm', async () => {
    const b = await readHclReport(async (i) => (i === HCL_REPORT_NV_INDEX ? hcl() : new Uint8Array()));
    expect(Buffer.from(b).equals(Buffer.from(hcl()))).toBe(true);
    const doc = JSON.parse(readFileSync(join(import.meta.dirname, '../testvectors/aibom/aibom.json'), 'utf8'));
    const built = buildAibomV1({
      statement: new Uint8Array(Buffer.from(doc.statement, 'base64')),
      quote: { message: new Uint8Array(Buffer.from(doc.evidence.tpm.attest, 'base64')), signature: new Uint8Array(Buffer.from(doc.evidence.tpm.signature, 'base64')), pcrFile: new Uint8Array() },
      pcrs: Object.fromEntries(Object.entries(doc.evidence.tpm.pcrs.sha256 as Record<string, string>).map(([k, x]) => [Number(k), x])),
      akCertificates: [],
      appEventLog: { 14: doc.evidence.appEventLog['14'], 8: doc.evidence.appEventLog['8'] },
      nonceHex: doc.evidence.nonce,
      cvm: { hclReport: b, vcek: readFileSync(join(V!, 'trustee/az-snp-vtpm/vcek.pem'), 'utf8') },
    });
    const ev = parseAibom(JSON.stringify(built));
    expect(ev.cvm?.hclReport.length).toBe(2600);
    expect(typeof ev.cvm?.vcek).toBe('string');
  });
  it('refuses an index that does not hold an HCL report', async () => {
    await expect(readHclReport(async () => new Uint8Array(64))).rejects.toThrow(/HCL/);
  });
});
