/**
 * `aicert serve [--port N] [--host H]` (spec/cli.md §aicert serve): serves the verifier page (dist/web) on loopback
 * until stopped. Prints `aicert serve: <url>` on stdout once it listens. A non-loopback host is allowed with a
 * warning: the page itself uploads nothing, but anyone who can reach the port can load it.
 */
import { serveStatic } from '../node/static-server.js';
import { webRoot } from '../node/web-root.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, usageError } from './io.js';
import { safe } from './text.js';
import { stderr } from '../node/stderr.js';

const USAGE = 'aicert serve [--port N] [--host 127.0.0.1]';

export const HELP = `usage: ${USAGE}

Serves the verifier page (the same files a model hub can host as is) on this machine: drop an AIBOM and its weights
in the browser; nothing is uploaded.
  --port N     port to listen on (default 8080; 0 picks a free port)
  --host H     address to listen on (default 127.0.0.1, loopback only; anything else is reachable from the network)
  --help       this help
Prints 'aicert serve: <url>' once it listens; stop with Ctrl-C.

Example:
  aicert serve --port 8080    # then open http://127.0.0.1:8080/`;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length) throw usageError(`unexpected argument '${safe(positionals[0], 80)}'`, USAGE);
  const port = o.port === undefined ? 8080 : Number(o.port);
  if (!/^\d{1,5}$/.test(o.port ?? '8080') || port > 65535) throw usageError(`--port must be 0-65535, got '${safe(o.port, 40)}'`, USAGE);
  const host = o.host ?? '127.0.0.1';
  const root = webRoot();
  if (!existsSync(join(root, 'index.html'))) throw usageError(`the page is not built (${safe(root, 200)} has no index.html): run npm run build`, USAGE);
  if (!LOOPBACK.test(host)) stderr`aicert serve: warning: listening on ${host}, reachable beyond this machine\n`;
  const { server, url } = await serveStatic(root, { host, port });
  process.stdout.write(`aicert serve: ${url}\n`);
  // stay up until SIGINT/SIGTERM, then close and exit 0
  await new Promise<void>((done) => {
    const stop = () => server.close(() => done());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
