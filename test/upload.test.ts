// The runner's blob uploader against Azurite: block sizes, parallel blocks, retries honouring Retry-After, resume
// from staged blocks after a cut connection or an aborted job, per-blob SAS scopes. Content is checked by downloading
// with @azure/storage-blob and comparing sha256 (node:crypto) of both copies.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBlobSas, parseContainerUrl } from '../src/launcher/blob.js';
import { chooseBlockSize, parseBlockList, uploadOutputs, UploadError, type OutputFile } from '../src/runner/upload.js';
import { retryAfter } from '../src/runner/upload-http.js';
import { azuriteAvailable, startAzurite, type Azurite } from './helpers/azurite.js';
import { tcpProxy } from './helpers/net-faults.js';
import { tempDir } from './helpers/runner-rig.js';

const MiB = 1 << 20;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('block size', () => {
  it('is 8 MiB up to 50,000 blocks, then the smallest whole MiB that fits, refused above 50,000 × 4000 MiB', () => {
    expect(chooseBlockSize(0)).toBe(8 * MiB);
    expect(chooseBlockSize(2 ** 31)).toBe(8 * MiB);
    expect(chooseBlockSize(50_000 * 8 * MiB)).toBe(8 * MiB);
    expect(chooseBlockSize(50_000 * 8 * MiB + 1)).toBe(9 * MiB);
    const tb = 10 * 2 ** 40;
    expect(Math.ceil(tb / chooseBlockSize(tb))).toBeLessThanOrEqual(50_000);
    expect(chooseBlockSize(50_000 * 4000 * MiB)).toBe(4000 * MiB);
    expect(() => chooseBlockSize(50_000 * 4000 * MiB + 1)).toThrow(/50000 blocks of 4000 MiB/);
  });

  it('Retry-After in seconds, as a date, and in ms', () => {
    expect(retryAfter({ 'retry-after': '3' })).toBe(3000);
    expect(retryAfter({ 'x-ms-retry-after-ms': '250' })).toBe(250);
    expect(retryAfter({ 'retry-after': new Date(10_000).toUTCString() }, 4000)).toBe(6000);
    expect(retryAfter({ 'retry-after': 'soon' })).toBeUndefined();
  });

  it('parses only well-formed block entries of the asked list', () => {
    const xml = '<BlockList><CommittedBlocks><Block><Name>QQ==</Name><Size>5</Size></Block></CommittedBlocks>' +
      '<UncommittedBlocks><Block><Name>Qg==</Name><Size>7</Size></Block><Block><Name>bad name</Name><Size>1</Size></Block></UncommittedBlocks></BlockList>';
    expect([...parseBlockList(xml, 'UncommittedBlocks')]).toEqual([['Qg==', 7]]);
    expect([...parseBlockList(xml, 'CommittedBlocks')]).toEqual([['QQ==', 5]]);
  });
});

describe.skipIf(!azuriteAvailable())('uploadOutputs on Azurite', () => {
  let az: Azurite;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let files: OutputFile[];
  const data = Buffer.alloc(5 * MiB + 12345);
  beforeAll(async () => {
    az = await startAzurite();
    tmp = await tempDir('aicert-upload-');
    for (let i = 0; i + 4 <= data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(join(tmp.dir, 'big.bin'), data);
    writeFileSync(join(tmp.dir, 'small.json'), '{"r":8}\n');
    files = [
      { path: 'big.bin', size: data.length, sha256: sha(data) },
      { path: 'small.json', size: 8, sha256: sha(Buffer.from('{"r":8}\n')) },
    ];
  });
  afterAll(async () => {
    await az?.stop();
    await tmp?.rm();
  });

  const svc = () => BlobServiceClient.fromConnectionString(az.connectionString);
  async function sasFor(container: string, prefix: string, port = az.port) {
    const ref = parseContainerUrl(`http://127.0.0.1:${az.port}/devstoreaccount1/${container}`);
    const s = await makeBlobSas(ref, { connectionString: az.connectionString }, prefix, files.map((f) => f.path), 3600_000);
    const url = `http://127.0.0.1:${port}/devstoreaccount1/${container}`;
    return { url, sasFor: (name: string) => `?${s.blobSas[name.slice(prefix.length)]}` };
  }
  async function downloaded(container: string, name: string): Promise<Buffer> {
    return svc().getContainerClient(container).getBlobClient(name).downloadToBuffer();
  }

  it('parallel blocks through a connection cut mid-block: only the cut block is sent again', async () => {
    const proxy = await tcpProxy(az.port);
    try {
      const s = await sasFor('cut', 'run/', proxy.port);
      proxy.cutUploads(2 * MiB + 100, 1);
      const retries: string[] = [];
      const up = await uploadOutputs(s.url, 'run/', tmp.dir, files, { sasFor: s.sasFor, minBlockBytes: MiB, parallel: 3, baseDelayMs: 5, onRetry: (w) => retries.push(w) });
      expect(proxy.cuts).toBe(1);
      expect(retries).toHaveLength(1);
      expect(up.map((u) => [u.blob, u.size])).toEqual([['run/big.bin', data.length], ['run/small.json', 8]]);
      expect(sha(await downloaded('cut', 'run/big.bin'))).toBe(files[0]!.sha256);
      const props = await svc().getContainerClient('cut').getBlobClient('run/big.bin').getProperties();
      expect(props.metadata?.sha256).toBe(files[0]!.sha256);
      // What went over the wire: the file once, plus at most the one block that was cut, plus headers.
      expect(proxy.bytesUp).toBeLessThan(data.length + MiB + 200_000);
    } finally {
      await proxy.close();
    }
  });

  it('an aborted job resumes from the staged blocks; a finished file is not sent again', async () => {
    const proxy = await tcpProxy(az.port);
    try {
      const s = await sasFor('resume', '', proxy.port);
      const ac = new AbortController();
      let sentFirst = 0;
      const first = uploadOutputs(s.url, '', tmp.dir, files.slice(0, 1), {
        sasFor: s.sasFor, minBlockBytes: MiB, parallel: 1, signal: ac.signal,
        onSent: (n) => (sentFirst += n) >= 3 * MiB && ac.abort(new Error('job stopped')),
      });
      await expect(first).rejects.toThrow(/job stopped/);
      expect(sentFirst).toBe(3 * MiB);
      const logs: string[] = [];
      let sent = 0;
      const before = proxy.bytesUp;
      await uploadOutputs(s.url, '', tmp.dir, files.slice(0, 1), { sasFor: s.sasFor, minBlockBytes: MiB, log: (l) => logs.push(l), onSent: (n) => (sent += n) });
      expect(logs).toContain('resuming big.bin: 3 of 6 blocks already in storage');
      expect(sent).toBe(data.length - 3 * MiB);
      expect(proxy.bytesUp - before).toBeLessThan(data.length - 3 * MiB + 100_000);
      expect(sha(await downloaded('resume', 'big.bin'))).toBe(files[0]!.sha256);
      // Third time: storage holds it with its size and sha256, nothing is sent.
      sent = 0;
      await uploadOutputs(s.url, '', tmp.dir, files.slice(0, 1), { sasFor: s.sasFor, minBlockBytes: MiB, log: (l) => logs.push(l), onSent: (n) => (sent += n) });
      expect(sent).toBe(0);
      expect(logs.at(-1)).toBe(`big.bin already in storage (${data.length} bytes)`);
    } finally {
      await proxy.close();
    }
  });

  it('503 with Retry-After is waited out for the time the service asked; 403 is not retried', async () => {
    // An HTTP front that answers the first Put Block with 503 Retry-After: 2 and relays the rest.
    let faults = 1;
    const front: Server = createServer((req, res) => {
      if (faults > 0 && /comp=block(&|$)/.test(req.url ?? '') && req.method === 'PUT') {
        faults--;
        req.resume();
        return void res.writeHead(503, { 'retry-after': '2', 'x-ms-error-code': 'ServerBusy' }).end('<Error><Message>busy</Message></Error>');
      }
      const up = request({ host: '127.0.0.1', port: az.port, path: req.url, method: req.method, headers: req.headers }, (r) => (res.writeHead(r.statusCode ?? 502, r.headers), r.pipe(res)));
      req.pipe(up);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (front.address() as { port: number }).port;
      const s = await sasFor('busy', '', port);
      const waits: number[] = [];
      await uploadOutputs(s.url, '', tmp.dir, files, { sasFor: s.sasFor, minBlockBytes: MiB, sleep: async (ms) => void waits.push(ms) });
      expect(waits).toEqual([2000]);
      expect(sha(await downloaded('busy', 'big.bin'))).toBe(files[0]!.sha256);
      // A SAS for another blob is refused at once (permissions are per blob).
      const wrong = (name: string) => s.sasFor(name === 'small.json' ? 'big.bin' : name);
      const err = await uploadOutputs(s.url, 'x/', tmp.dir, files.slice(1), { sasFor: (n) => wrong(n.slice(2)), sleep: async () => void waits.push(-1) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UploadError);
      expect((err as UploadError).status).toBe(403);
      expect(waits).toEqual([2000]);
    } finally {
      await new Promise<void>((r) => (front.closeAllConnections(), front.close(() => r())));
    }
  });
});
