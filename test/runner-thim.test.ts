// The runner's IMDS fetch of confidential-VM evidence against a loopback server standing in for Azure IMDS: THIM's
// VCEK answer (a generated AMD hierarchy, test/helpers/snp-gen.ts) is accepted only when its VCEK signed this VM's
// SNP report; lies are refused before the runner starts: another chip's VCEK, garbage, a redirect, an oversized
// answer. The TD quote from the ACC endpoint must quote this VM's TDREPORT (Azure's real TD, shared vectors).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyVcek } from '../src/tpm/snp-vcek.js';
import { cvmFromImds, fetchTdQuote, fetchThimVcek } from '../src/runner/thim.js';
import { bindRuntime, hclReport, makeSnpHierarchy, runtimeData, snpReport, type SnpHierarchy } from './helpers/snp-gen.js';
import { vectorsDir } from './helpers/vectors.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let server: Server;
let endpoint: string;
let handler: Handler;
const seen: { method: string; url: string; metadata: string | undefined; body: string }[] = [];
let h: SnpHierarchy;
let other: SnpHierarchy;
let hcl: Uint8Array;
const fast = { sleep: async () => undefined, budgetMs: 5000 };

beforeAll(async () => {
  h = makeSnpHierarchy();
  other = makeSnpHierarchy();
  const runtime = runtimeData({ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' });
  hcl = new Uint8Array(hclReport(snpReport(h, { reportData: bindRuntime(runtime) }), runtime));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, metadata: req.headers.metadata as string | undefined, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 60_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  h?.remove();
  other?.remove();
});

const json = (o: unknown) => (_q: IncomingMessage, _b: string, res: ServerResponse) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(o));
const thim = (k: SnpHierarchy) => json({ vcekCert: k.vcekPem, certificateChain: k.askPem + k.arkPem, tcbm: '7300000000000803', cacheControl: '86400' });

describe('runner: VCEK from Azure IMDS THIM (loopback IMDS)', () => {
  it('fetches the VCEK bundle with the Metadata header; it chains to the ARK and is this VM\'s', async () => {
    handler = thim(h);
    seen.length = 0;
    const pem = await fetchThimVcek(hcl, { endpoint, ...fast });
    expect(seen).toEqual([{ method: 'GET', url: '/metadata/THIM/amd/certification', metadata: 'true', body: '' }]);
    const v = await verifyVcek(pem, [], new Date(), { Milan: { ark: h.arkPem, ask: h.askPem } });
    expect(v.kind).toBe('vcek');
    expect((await cvmFromImds(hcl, { imds: { endpoint, vcek: true, ...fast } })).vcek).toBe(pem);
  });
  it('retries 410 (IMDS not ready) then takes the answer', async () => {
    let n = 0;
    handler = (q, b, res) => (n++ < 2 ? res.writeHead(410).end('not ready') : thim(h)(q, b, res));
    expect(await fetchThimVcek(hcl, { endpoint, ...fast })).toContain('BEGIN CERTIFICATE');
    expect(n).toBe(3);
  });
  const lies: [string, Handler, RegExp][] = [
    ['another chip\'s VCEK (a genuine certificate, wrong key)', (q, b, res) => thim(other)(q, b, res), /did not sign this VM's SNP report/],
    ['garbage', (_q, _b, res) => res.writeHead(200).end('<html>hello</html>'), /not JSON/],
    ['JSON without vcekCert', json({ certificateChain: 'x' }), /"vcekCert" missing/],
    ['a vcekCert that is not a certificate', json({ vcekCert: 'hello', certificateChain: 'x' }), /THIM answer/],
    ['the ASK sent as the VCEK', (q, b, res) => json({ vcekCert: h.askPem, certificateChain: h.arkPem })(q, b, res), /not a VCEK\/VLEK certificate/],
    ['two certificates as vcekCert', (q, b, res) => json({ vcekCert: h.vcekPem + h.askPem, certificateChain: h.arkPem })(q, b, res), /2 certificates in vcekCert/],
    ['an empty vcekCert', json({ vcekCert: '', certificateChain: '' }), /"vcekCert" missing/],
    ['a redirect elsewhere', (_q, _b, res) => res.writeHead(302, { Location: '/metadata/elsewhere' }).end(), /redirect \(HTTP 302\) refused/],
    ['an oversized answer', (_q, _b, res) => res.writeHead(200).end('x'.repeat(100_000)), /exceeds 65536/],
    ['404', (_q, _b, res) => res.writeHead(404).end(), /IMDS: HTTP 404/],
  ];
  for (const [what, hdl, want] of lies) {
    it(`refuses ${what}`, async () => {
      handler = hdl;
      seen.length = 0;
      await expect(fetchThimVcek(hcl, { endpoint, ...fast })).rejects.toThrow(want);
      expect(seen.map((s) => s.url)).not.toContain('/metadata/elsewhere');
    });
  }
});

const V = vectorsDir();
describe.skipIf(!V)('runner: TD quote from the Azure ACC endpoint (loopback, Azure\'s real TD)', () => {
  const e = () => JSON.parse(readFileSync(join(V!, 'trustee/az-tdx-vtpm/evidence-v0.json'), 'utf8'));
  it('posts the TDREPORT (base64url) and takes the quote of exactly that TDREPORT; another TD\'s quote is refused', async () => {
    const ev = e();
    const quote = Buffer.from(ev.td_quote);
    handler = json({ quote: quote.toString('base64url') });
    seen.length = 0;
    const q = await fetchTdQuote(new Uint8Array(ev.hcl_report), { endpoint, ...fast });
    expect(Buffer.from(q).equals(quote)).toBe(true);
    expect(seen[0]!.method).toBe('POST');
    expect(Buffer.from(JSON.parse(seen[0]!.body).report, 'base64url').equals(Buffer.from(ev.hcl_report).subarray(32, 32 + 1024))).toBe(true);
    const lie = Buffer.from(quote);
    lie[48 + 520]! ^= 1;
    handler = json({ quote: lie.toString('base64url') });
    await expect(fetchTdQuote(new Uint8Array(ev.hcl_report), { endpoint, ...fast })).rejects.toThrow(/not of this VM's TDREPORT/);
    handler = json({ quote: 'not base64!' });
    await expect(fetchTdQuote(new Uint8Array(ev.hcl_report), { endpoint, ...fast })).rejects.toThrow(/not base64url/);
  });
});
