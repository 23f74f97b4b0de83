/**
 * Network faults for the fine-tune e2e tests, all on 127.0.0.1: a TCP proxy that can drop every open connection or
 * cut uploads after N bytes (TLS passes through untouched, as on a real network), and an HTTPS impostor that
 * presents its own certificate and answers with recorded or relayed runner responses.
 */
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createHttpsServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface TcpProxy {
  port: number;
  /** Connections seen so far. */
  connections: number;
  /** Destroys every open connection (a network drop). */
  dropAll(): void;
  /** Cuts a connection once it carried more than `bytes` client→server, for the next `times` connections (Infinity: all). */
  cutUploads(bytes: number, times: number): void;
  cuts: number;
  /** Bytes carried client→server so far, over all connections. */
  bytesUp: number;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:target. */
export async function tcpProxy(target: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let cut: { bytes: number; times: number } | undefined;
  const p: TcpProxy = {
    port: 0,
    connections: 0,
    cuts: 0,
    bytesUp: 0,
    dropAll: () => open.forEach((s) => s.destroy()),
    cutUploads: (bytes, times) => (cut = { bytes, times }),
    close: () => new Promise<void>((r) => (open.forEach((s) => s.destroy()), server.close(() => r()))),
  };
  const server: TcpServer = createTcpServer((c) => {
    p.connections++;
    const up = connect(target, '127.0.0.1');
    open.add(c).add(up);
    let sent = 0;
    c.on('data', (d: Buffer) => {
      sent += d.length;
      p.bytesUp += d.length;
      if (cut && cut.times > 0 && sent > cut.bytes) {
        cut.times--;
        p.cuts++;
        c.destroy();
        up.destroy();
        return;
      }
      up.write(d);
    });
    up.pipe(c);
    const end = () => (c.destroy(), up.destroy(), open.delete(c), open.delete(up));
    c.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  p.port = (server.address() as { port: number }).port;
  return p;
}

/** Relays one request to the genuine runner (certificate checks off: the impostor is the attacker). */
export function relay(targetUrl: string, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = request(new URL(req.url ?? '/', targetUrl), { method: req.method, rejectUnauthorized: false, headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 502, headers: { 'content-type': String(res.headers['content-type'] ?? '') }, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

export interface Impostor {
  port: number;
  /** Paths requested, in order ("METHOD /path?query"). */
  seen: string[];
  close(): Promise<void>;
}

/** An HTTPS server with KEY/CERT; `handle` answers or returns undefined to relay to `targetUrl`. */
export async function impostor(
  tls: { key: string; cert: string },
  targetUrl: string,
  handle: (req: IncomingMessage, body: Buffer) => Promise<{ status: number; body: string | Buffer } | undefined>,
): Promise<Impostor> {
  const seen: string[] = [];
  const server: Server = createHttpsServer(tls, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      seen.push(`${req.method} ${req.url}`);
      const body = Buffer.concat(chunks);
      try {
        const mine = await handle(req, body);
        const out = mine ? { status: mine.status, headers: { 'content-type': 'application/json' }, body: Buffer.from(mine.body) } : await relay(targetUrl, req, body);
        res.writeHead(out.status, out.headers).end(out.body);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
