/**
 * The reference runner: an HTTPS server that speaks the original aicert runner protocol plus nonces and TLS channel
 * binding (spec/runner-protocol.md) on a real TPM through tpm2-tools. At start it measures the launch nonce as the
 * first PCR 14 event and sha256(measured TLS certificate PEM) into PCR 15, then serves one sandboxed fine-tune.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { MalformedInputError } from '../errors.js';
import { parseAxolotlConfig } from '../wire/config.js';
import { parseTpm2ToolsPcrFile } from '../tpm/pcr-values.js';
import { fromHex, toHex } from '../util/bytes.js';
import { extend, TPM_ALG } from '../util/hash.js';
import { buildAibomV1, buildLegacyAttestation, v1Qualification, type CertInput } from './emit.js';
import type { Fetcher } from './fetchers.js';
import { runJob, type JobConfig, type JobResult } from './job.js';
import { Measurer, PCR_TLS, sha256Hex } from './measure.js';
import type { SandboxBackend } from './sandbox.js';
import { ATLS_BINDING, ATLS_EXPORTER_BYTES, ATLS_EXPORTER_LABEL, launchEvent, NONCE_HEX, PCR_LAUNCH, RUNNER_PROTOCOL, type AtlsResponse, type RunnerStatus } from '../wire/protocol.js';
import { Tpm, type AkHandle, type QuoteResult } from './tpm.js';
import { readHclReport } from './hcl.js';
import { cvmFromImds, type CvmImdsOptions } from './thim.js';
import { postUpload, UploadJob } from './upload-job.js';
import { ToolError } from '../wire/tool-error.js';

export interface RunnerOptions {
  /** TCTI: `device:/dev/tpmrm0` in a VM, `swtpm:host=127.0.0.1,port=P` in tests. */
  tcti: string;
  /** AK: persistent handle (default 0x81000003, as Azure and the original). */
  akHandle?: string;
  /** NV index of the AK certificate (default Azure's 0x01C101D0); null = no NV certificate. */
  akCertNvIndex?: number | null;
  /** Certificates sent after the AK certificate (intermediates, PEM or DER). */
  certChain?: CertInput[];
  /**
   * The TLS key and leaf certificate (PEM); `chain`: intermediates served after the leaf; `measured`: the certificate
   * PCR 15 holds and /aTLS sends as `ca_cert` (default the leaf; a CA the leaf chains to, as Caddy's local CA).
   */
  tls: { key: string; cert: string; chain?: string; measured?: string };
  /** Launch nonce (hex) from the VM's userData, measured as the first PCR 14 event before serving. */
  launchNonce?: string;
  fetcher: Fetcher;
  /** How the training command is confined (src/runner/sandbox.ts). */
  sandbox: SandboxBackend;
  /** Training command (argv, no shell). */
  trainCommand: string[];
  /** Extra variables for the trainer (never the runner's own environment). */
  trainerEnv?: Record<string, string>;
  /** Images measured as input_image events: the first before the model, the rest after the dataset. */
  images?: { name: string; id: string }[];
  workDir: string;
  /** 'aicert' (default) honours nonces; 'original' ignores them exactly like the original server. */
  protocol?: 'aicert' | 'original';
  /** Confidential VM: read the HCL report from the vTPM (src/runner/hcl.ts); VCEK chain PEM / TD quote when known. */
  confidentialVm?: { vcek?: string; tdQuote?: Uint8Array; imds?: CvmImdsOptions & { vcek?: boolean; tdQuote?: boolean } };
  /** Boot event log to embed in AIBOMs (e.g. /sys/kernel/security/tpm0/binary_bios_measurements). */
  bootEventLogPath?: string;
  host?: string;
  port?: number;
  log?: (line: string) => void;
}

export interface RunningRunner {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const ALL_PCRS = Array.from({ length: 24 }, (_, i) => i);
const ZERO = '0'.repeat(64);
const MAX_BODY = 1 << 20;
/** Runner log kept for GET /build/status (characters): the last 4 MiB of what the trainer and the runner wrote. */
export const MAX_LOG_KEPT = 4 << 20;

/** sha256(0^32 ‖ digest): one extension of a zero PCR. */
const extendFromZero = (digestHex: string): string => toHex(extend(TPM_ALG.SHA256, new Uint8Array(32), fromHex(digestHex)));

/** Starts the runner; rejects when the TPM is unusable or PCR 15/23 already hold something else. */
export async function startRunner(o: RunnerOptions): Promise<RunningRunner> {
  const log = o.log ?? (() => undefined);
  // A boot log asked for but unreadable stops the runner: AIBOMs without it would silently prove less.
  const boot = o.bootEventLogPath
    ? await readFile(o.bootEventLogPath).catch((e: unknown) => {
        throw new MalformedInputError(`cannot read the boot event log: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path: o.bootEventLogPath! });
      })
    : undefined;
  const tpm = await Tpm.open(o.tcti);
  let lock: Promise<unknown> = Promise.resolve();
  // Every TPM command goes through one queue: swtpm and tpm2-tools without a resource manager are single-user.
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = lock.then(f, f);
    lock = p.catch(() => undefined);
    return p;
  };
  await serial(() => tpm.startup());
  const ak: AkHandle = await serial(() => tpm.loadAk(o.akHandle ?? '0x81000003'));
  const akCert = o.akCertNvIndex === null ? [] : [await serial(() => tpm.nvRead(o.akCertNvIndex ?? 0x01c101d0))];
  const chain: CertInput[] = [...akCert, ...(o.certChain ?? [])];
  // Confidential VM: the HCL report, and the VCEK / TD quote given or fetched from IMDS (src/runner/thim.ts).
  const cvm = o.confidentialVm ? await cvmFromImds(await serial(() => readHclReport((i) => tpm.nvRead(i))), o.confidentialVm) : undefined;
  const device = { pcrExtend: (p: number, d: string) => serial(() => tpm.pcrExtend(p, d)), pcrRead: (p: readonly number[]) => serial(() => tpm.pcrRead(p)) };
  const quoteAll = (q?: string): Promise<QuoteResult> => serial(() => tpm.quote(ak, ALL_PCRS, q));

  // Launch binding: the first PCR 14 event names sha256(nonce bytes); a restart with the same nonce finds it in place.
  const measurer = new Measurer(device);
  let launchExtended = false;
  const pcr14 = (await device.pcrRead([PCR_LAUNCH]))[PCR_LAUNCH];
  if (o.launchNonce !== undefined) {
    if (!/^([0-9a-f]{2}){16,64}$/.test(o.launchNonce)) throw new TypeError('launch nonce must be 16..64 bytes of lowercase hex');
    const d = sha256Hex(Buffer.from(o.launchNonce, 'hex'));
    if (pcr14 === ZERO) await measurer.launch(d);
    else if (pcr14 === extendFromZero(sha256Hex(launchEvent(d)))) measurer.adoptLaunch(d);
    else throw new ToolError('PCR_IN_USE', `PCR ${PCR_LAUNCH} already holds other measurements (another launch nonce, or a finished run); refusing to serve`);
    launchExtended = true;
  } else if (pcr14 !== ZERO) throw new ToolError('PCR_IN_USE', `PCR ${PCR_LAUNCH} already holds measurements this runner did not make; refusing to serve`);
  // TLS binding (as the original): PCR 15 = sha256(0^32 ‖ sha256(measured certificate PEM)).
  const measuredPem = o.tls.measured ?? o.tls.cert;
  if (!(await measurer.tls(measuredPem))) {
    const cur = (await device.pcrRead([PCR_TLS]))[PCR_TLS];
    if (cur !== extendFromZero(sha256Hex(measuredPem))) throw new ToolError('PCR_IN_USE', 'PCR 15 already holds another TLS certificate; refusing to serve (reuse the work folder\'s tls.key/tls.pem, or reboot)');
  }
  const spki = new X509Certificate(o.tls.cert).publicKey.export({ type: 'spki', format: 'der' });
  const spkiDigest = createHash('sha256').update(spki).digest();

  // Run state.
  let status: RunnerStatus['state'] = 'idle';
  let failure: string | undefined;
  let config: JobConfig | undefined;
  let result: JobResult | undefined;
  // The log keeps its last MAX_LOG_KEPT characters (the trainer's output is unbounded); logBase is where they start.
  let logText = '';
  let logBase = 0;
  const watchers = new Set<() => void>();
  const appendLog = (t: string) => {
    logText += t;
    if (logText.length > MAX_LOG_KEPT) {
      // drop a quarter more than needed, so trimming is amortised over many appends
      const cut = logText.length - (MAX_LOG_KEPT * 3) / 4;
      logText = logText.slice(cut);
      logBase += cut;
    }
    watchers.forEach((w) => w());
  };
  const abort = new AbortController();
  // The upload job (src/runner/upload-job.ts): started by POST /storage-upload, followed with GET.
  let upload: UploadJob | undefined;
  const uploadJob = (r: JobResult) => (upload ??= new UploadJob(r.outputDir, r.outputs, abort.signal, (l) => appendLog(`[runner] ${l}\n`)));

  const send = (res: ServerResponse, code: number, body?: unknown) => {
    if (body === undefined) return void res.writeHead(code).end();
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const nonceOf = (u: URL): string | undefined | null => {
    const n = u.searchParams.get('nonce');
    if (n === null || o.protocol === 'original') return undefined;
    return NONCE_HEX.test(n) ? n : null;
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, u: URL) => Promise<void>> = {
    'GET /aTLS': async (req, res, u) => {
      const nonce = nonceOf(u);
      if (nonce === null) return send(res, 400, { error: 'nonce must be 32 bytes of lowercase hex' });
      // Channel binding: the exporter value of this very TLS connection, with the nonce as context.
      const ekm = nonce === undefined ? undefined : (req.socket as TLSSocket).exportKeyingMaterial(ATLS_EXPORTER_BYTES, ATLS_EXPORTER_LABEL, Buffer.from(nonce, 'hex'));
      const qual = nonce === undefined ? undefined : createHash('sha256').update(spkiDigest).update(Buffer.from(nonce, 'hex')).update(ekm!).digest('hex');
      const quote = await quoteAll(qual);
      const body: AtlsResponse = buildLegacyAttestation({ caCert: measuredPem, eventLog: [], outputEventLog: [], quote, certChain: chain }) as unknown as AtlsResponse;
      if (nonce !== undefined && qual !== undefined)
        body.aicert = {
          protocol: RUNNER_PROTOCOL, nonce, qualification: qual, binding: ATLS_BINDING, ak_public: Buffer.from(ak.public).toString('base64'),
          launch: { pcr: PCR_LAUNCH, extended: launchExtended },
        };
      send(res, 200, body);
    },
    'POST /axolotl/configuration': async (req, res) => {
      if (status !== 'idle' && status !== 'configured') return send(res, 409, { error: `cannot configure: run is ${status}` });
      const yaml = (await readBody(req)).toString('utf8');
      let c;
      try {
        c = await parseAxolotlConfig(yaml, 'configuration');
      } catch (e) {
        return send(res, 400, { error: (e as Error).message });
      }
      if (c.datasets.length !== 1) return send(res, 400, { error: 'exactly one dataset is supported' });
      config = { yaml, baseModel: c.baseModel, dataset: c.datasets[0]! };
      status = 'configured';
      send(res, 200, { sha256: sha256Hex(yaml) });
    },
    'POST /finetune': async (_req, res) => {
      if (status !== 'configured' || !config) return send(res, 409, { error: `cannot start: run is ${status}` });
      status = 'running';
      const env = { measurer, quoteAll, fetcher: o.fetcher, sandbox: o.sandbox, ...(o.trainerEnv ? { trainerEnv: o.trainerEnv } : {}), trainCommand: o.trainCommand, images: o.images ?? [], workDir: o.workDir, log: appendLog, signal: abort.signal };
      runJob(config, env).then(
        (r) => ((result = r), (status = 'done'), appendLog('[runner] status: done\n')),
        (e: unknown) => ((failure = (e as Error).message), (status = 'failed'), appendLog(`[runner] status: failed: ${failure}\n`)),
      );
      send(res, 202, { state: status });
    },
    'GET /status': async (_req, res) => send(res, 200, { state: status, ...(failure ? { error: failure } : {}) } satisfies RunnerStatus),
    'GET /build/status': async (req, res, u) => {
      // Chunked text: the log from byte `from` on, live, until the run ends.
      // Positions count characters of the whole log; what was dropped from its start is skipped.
      let pos = Math.min(Number(u.searchParams.get('from') ?? 0) || 0, logBase + logText.length);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      const flush = () => {
        pos = Math.max(pos, logBase);
        if (pos < logBase + logText.length) res.write(logText.slice(pos - logBase));
        pos = logBase + logText.length;
        if (status !== 'running') finish();
      };
      const finish = () => (watchers.delete(flush), res.end());
      req.on('close', () => watchers.delete(flush));
      watchers.add(flush);
      flush();
    },
    'GET /attestation': async (_req, res, u) => {
      const nonce = nonceOf(u);
      if (nonce === null) return send(res, 400, { error: 'nonce must be 32 bytes of lowercase hex' });
      if (status === 'failed') return send(res, 500, { error: `fine-tune failed: ${failure}` });
      if (status === 'idle') return send(res, 409, { error: 'no fine-tune was started' });
      if (status !== 'done' || !result) return send(res, 204);
      if (nonce === undefined) {
        return send(res, 200, buildLegacyAttestation({ caCert: '', eventLog: measurer.log[14], outputEventLog: [measurer.log[8][0]!], quote: result.legacyQuote, certChain: chain }));
      }
      const quote = await quoteAll(v1Qualification(result.statement, nonce));
      const pcrs: Record<number, string> = {};
      for (const [alg, m] of parseTpm2ToolsPcrFile(quote.pcrFile).values) if (alg === 0x000b) for (const [i, v] of m) pcrs[i] = Buffer.from(v).toString('hex');
      send(res, 200, buildAibomV1({
        statement: result.statement, quote, pcrs, akPublic: ak.public, akCertificates: chain, appEventLog: measurer.log,
        tlsCertificate: measuredPem, nonceHex: nonce, ...(boot ? { bootEventLog: new Uint8Array(boot) } : {}), ...(cvm ? { cvm } : {}),
      }));
    },
    'POST /storage-upload': async (req, res) => {
      if (status !== 'done' || !result) return send(res, 409, { error: `nothing to upload: run is ${status}` });
      const [code, body] = postUpload(uploadJob(result), await readBody(req), result.outputs);
      send(res, code, body);
    },
    'GET /storage-upload': async (_req, res) => {
      if (status !== 'done' || !result) return send(res, 409, { error: `nothing to upload: run is ${status}` });
      send(res, 200, uploadJob(result).status());
    },
  };

  const server = createServer({ key: o.tls.key, cert: o.tls.cert + (o.tls.chain ? `\n${o.tls.chain}` : ''), minVersion: 'TLSv1.3' }, (req, res) => {
    const u = new URL(req.url ?? '/', 'https://runner');
    const route = routes[`${req.method} ${u.pathname}`];
    if (!route) return send(res, 404, { error: 'not found' });
    route(req, res, u).catch((e: unknown) => {
      log(`error on ${req.method} ${u.pathname}: ${(e as Error).message}`);
      if (!res.headersSent) send(res, e instanceof BodyError ? 413 : 500, { error: (e as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8443, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log(`runner listening on https://${o.host ?? '127.0.0.1'}:${port}`);
  return {
    url: `https://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    server,
    async close() {
      abort.abort(new ToolError('ABORTED', 'runner stopped'));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await tpm.close();
    },
  };
}

class BodyError extends Error {}

/** Reads a request body up to 1 MiB. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) req.destroy(new BodyError('request body larger than 1 MiB'));
      else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
