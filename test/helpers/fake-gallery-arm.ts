/**
 * A loopback fake of the Azure Compute Gallery part of ARM (HTTPS on 127.0.0.1, self-signed openssl certificate):
 * PUT/GET of galleries/G/images/D and galleries/G/images/D/versions/V at api-version 2023-07-03, following the
 * azure-rest-api-specs examples: 201 + Azure-AsyncOperation, one InProgress poll, then Succeeded; 404 for an absent
 * gallery or definition; 400 for the properties ARM validates (a version's source blob must exist: checked by the
 * `blobExists` callback, as ARM reads the VHD). Records every request and resource for assertions.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsFetch, type TokenCredential } from '../../src/launcher/arm.js';

const API = '2023-07-03';

export class FakeGalleryArm {
  readonly token = 'fake-gallery-token';
  readonly requests: { method: string; path: string; status: number; body?: any }[] = [];
  readonly resources = new Map<string, { body: any; state: string }>();
  ca = '';
  url = '';
  private server: Server | undefined;
  private readonly ops = new Map<string, { id: string; polls: number }>();
  constructor(readonly galleries: string[], private readonly blobExists: (uri: string) => Promise<boolean>) {}

  readonly credential: TokenCredential = { getToken: async () => ({ token: this.token, expiresOnTimestamp: Date.now() + 3600_000 }) };
  get fetch() {
    return httpsFetch(this.ca);
  }

  async start(): Promise<this> {
    const dir = mkdtempSync(join(tmpdir(), 'fake-gallery-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'),
        '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
      this.ca = readFileSync(join(dir, 'c.pem'), 'utf8');
      this.server = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: this.ca }, (q, r) => {
        const chunks: Buffer[] = [];
        q.on('data', (c: Buffer) => chunks.push(c)).on('end', () => void this.handle(q.method ?? 'GET', q.url ?? '/', q.headers.authorization, Buffer.concat(chunks).toString('utf8'), r));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  private async handle(method: string, rawUrl: string, auth: string | undefined, text: string, r: import('node:http').ServerResponse): Promise<void> {
    const u = new URL(rawUrl, 'https://x');
    const body = text ? JSON.parse(text) : undefined;
    const send = (status: number, b?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path: u.pathname, status, ...(body !== undefined ? { body } : {}) });
      r.writeHead(status, { ...(b !== undefined ? { 'content-type': 'application/json' } : {}), ...headers });
      r.end(b !== undefined ? JSON.stringify(b) : undefined);
    };
    const err = (status: number, code: string, message: string) => send(status, { error: { code, message } });
    if (auth !== `Bearer ${this.token}`) return err(401, 'AuthenticationFailed', 'bad or missing bearer token');
    const op = /\/providers\/Microsoft\.Compute\/locations\/[^/]+\/operations\/([^/]+)$/i.exec(u.pathname);
    if (op) {
      const o = this.ops.get(op[1]!);
      if (!o) return err(404, 'NotFound', 'no such operation');
      if (o.polls++ === 0) return send(200, { name: op[1], status: 'InProgress' }, { 'retry-after': '0' });
      this.resources.get(o.id)!.state = 'Succeeded';
      return send(200, { name: op[1], status: 'Succeeded' });
    }
    if (u.searchParams.get('api-version') !== API) return err(400, 'InvalidApiVersionParameter', `use api-version ${API}`);
    const m = /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[^/]+)\/images\/([^/]+)(?:\/versions\/([^/]+))?$/i.exec(u.pathname);
    if (!m) return err(400, 'InvalidResourceType', `unsupported path ${u.pathname}`);
    const [id, gallery, , version] = [u.pathname.toLowerCase(), m[1]!.toLowerCase(), m[2]!, m[3]];
    if (!this.galleries.map((g) => g.toLowerCase()).includes(gallery)) return err(404, 'ParentResourceNotFound', `gallery ${m[1]} not found`);
    const view = (x: { body: any; state: string }) => ({ ...x.body, id: u.pathname, properties: { ...x.body.properties, provisioningState: x.state } });
    if (method === 'GET') {
      const cur = this.resources.get(id);
      return cur ? send(200, view(cur)) : err(404, 'ResourceNotFound', `${u.pathname} not found`);
    }
    if (method !== 'PUT') return err(405, 'MethodNotAllowed', method);
    const p = body?.properties ?? {};
    if (typeof body?.location !== 'string') return err(400, 'LocationRequired', 'location is required');
    if (!version) {
      const tl = (p.features ?? []).find((f: any) => f.name === 'SecurityType')?.value;
      if (p.osType !== 'Linux' || p.osState !== 'Specialized' || p.hyperVGeneration !== 'V2' || tl !== 'TrustedLaunchSupported' || !p.identifier?.publisher)
        return err(400, 'InvalidParameter', 'definition must be Linux, Specialized, V2, TrustedLaunchSupported, with an identifier');
    } else {
      if (!this.resources.has(id.replace(/\/versions\/[^/]+$/, ''))) return err(404, 'ParentResourceNotFound', 'image definition not found');
      const src = p.storageProfile?.osDiskImage?.source;
      if (typeof src?.uri !== 'string' || typeof src?.storageAccountId !== 'string') return err(400, 'InvalidParameter', 'osDiskImage.source needs uri and storageAccountId');
      if (!(await this.blobExists(src.uri))) return err(400, 'InvalidParameter', `source blob ${src.uri} not found`);
      if (!Array.isArray(p.publishingProfile?.targetRegions) || p.publishingProfile.targetRegions.length === 0) return err(400, 'InvalidParameter', 'targetRegions required');
    }
    const existed = this.resources.has(id);
    this.resources.set(id, { body, state: existed ? 'Updating' : 'Creating' });
    const opId = randomUUID();
    this.ops.set(opId, { id, polls: 0 });
    const sub = u.pathname.split('/')[2];
    send(existed ? 200 : 201, view(this.resources.get(id)!), { 'azure-asyncoperation': `${this.url}/subscriptions/${sub}/providers/Microsoft.Compute/locations/${body.location}/operations/${opId}?api-version=${API}`, 'retry-after': '0' });
  }
}
