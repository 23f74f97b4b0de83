/**
 * Attested TLS to a runner (spec/runner-protocol.md §aTLS):
 * one unverified TLS request `GET /aTLS?nonce=<32 random bytes>` captures the peer certificate, then the answer is
 * checked — AK chain to the trust roots, quote signature, qualifyingData = sha256(sha256(DER SPKI) ‖ nonce), PCR 15 =
 * the certificate, PCR 23 = the launch nonce, boot PCR policy — and only then is that exact certificate pinned for
 * every later request. An original runner (empty qualifying data) is refused unless allowReplayable is set.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { VerificationError, type VerificationCode } from '../errors.js';
import type { Policy } from '../aibom/policy.js';
import { parseAttest } from '../tpm/attest.js';
import { verifyAkQuote } from '../tpm/ak-quote.js';
import type { CertInput } from '../tpm/akcert.js';
import type { Check } from '../tpm/quote.js';
import { extend, TPM_ALG } from '../util/hash.js';
import { toHex } from '../util/bytes.js';
import { parseCert } from '../tpm/x509-cert.js';
import { buildPath } from '../tpm/x509-path.js';
import { ATLS_EXPORTER_BYTES, ATLS_EXPORTER_LABEL, launchEvent, NONCE_BYTES, PCR_LAUNCH, type AtlsResponse } from '../wire/protocol.js';
import { readJson } from '../util/json.js';
import { ToolError } from '../wire/tool-error.js';

export interface AtlsOptions {
  /** AK trust anchors (default: the embedded Azure vTPM root 2023). */
  trustAnchors?: CertInput[];
  intermediates?: CertInput[];
  /** Golden PCR values (sha256 bank): PCR index -> allowed hex values. */
  policy?: Policy;
  /** The launch nonce put into the VM's userData; PCR 14 must hold exactly its launch event. */
  launchNonce?: Uint8Array;
  /** Accept a runner without nonce support (replayable attestation). */
  allowReplayable?: boolean;
  at?: Date;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Nonce to use (tests); default 32 fresh random bytes. */
  nonce?: Uint8Array;
}

export interface AtlsSession {
  /** Runner base URL. */
  url: string;
  /** The pinned certificate (exact DER) and its PEM as the runner measured it. */
  certificateDer: Uint8Array;
  certificatePem: string;
  /** An https.Agent that accepts only the pinned certificate. */
  agent: Agent;
  /** True when the runner gave no nonce binding (original protocol, accepted with allowReplayable). */
  replayable: boolean;
  checks: Check[];
  akSubject: string;
  /** sha256 (hex) of the AK certificate DER the session was attested with: the final AIBOM must come from the same one. */
  akCertificateSha256: string;
}

/** Why a replayable attestation is weaker (printed by the CLI). */
export const REPLAYABLE_WARNING =
  'the runner speaks the original aicert protocol: its quote carries no nonce, so the same answer could be replayed by ' +
  'anyone who once captured it (or who holds a leaked TLS key of any earlier runner), and nothing ties it to the VM ' +
  'that was just created. Only the AK chain, the PCR values and the PCR 15 certificate binding are checked.';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  parts.forEach((p) => h.update(p));
  return h.digest();
};
const extendFromZero = (digest: Uint8Array): string => toHex(extend(TPM_ALG.SHA256, new Uint8Array(32), digest));

/** Largest /aTLS answer read (bytes): a quote, a certificate chain and the measured certificate fit many times over. */
export const MAX_ATLS_ANSWER = 256 * 1024;

/** The one unverified request: GET /aTLS?nonce= with certificate checks off; returns the peer DER and the body. */
function fetchUnverified(url: URL, nonce: Uint8Array, o: AtlsOptions): Promise<{ der: Buffer; served: Buffer[]; ekm: Buffer; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const agent = new Agent({ keepAlive: false, maxSockets: 1 });
    const req = request(url, { method: 'GET', agent, rejectUnauthorized: false, timeout: o.timeoutMs ?? 30_000, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
      const sock = res.socket as TLSSocket;
      const peer = sock.getPeerCertificate(true);
      const der = peer.raw;
      // The chain as served (leaf first); Node links issuerCertificate, ending in a self-reference.
      const served: Buffer[] = [];
      for (let c = peer; c?.raw && served.length < 8 && !served.some((x) => x.equals(c.raw)); c = c.issuerCertificate) served.push(c.raw);
      // Channel binding: our side of this connection's TLS exporter, the nonce as context.
      const ekm = sock.exportKeyingMaterial(ATLS_EXPORTER_BYTES, ATLS_EXPORTER_LABEL, Buffer.from(nonce));
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        // Bounded: the answer is a quote and a short chain; a larger one is refused before it is parsed.
        if (n > MAX_ATLS_ANSWER) req.destroy(new ToolError('ANSWER_TOO_LARGE', `aTLS answer larger than ${MAX_ATLS_ANSWER} bytes`));
        else chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        agent.destroy();
        if (res.statusCode !== 200) reject(new ToolError('HTTP_STATUS', `GET /aTLS answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
        else if (!der?.length) reject(new ToolError('CERTIFICATE_MISSING', 'the runner presented no certificate'));
        // The bytes as received: the strict JSON reader decodes them (a lossy decode would hide bad UTF-8).
        else resolve({ der, served, ekm, body: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    req.on('timeout', () => req.destroy(new ToolError('TIMEOUT', 'aTLS request timed out')));
    req.on('error', (e) => (agent.destroy(), reject(e)));
    req.end();
  });
}

const fail = (code: VerificationCode, msg: string, checks: Check[]): never => {
  checks.push({ id: code.toLowerCase(), ok: false, detail: msg });
  throw new VerificationError(code, msg, { checks });
};

/** Parses the cert_chain ({base64} items: AK DER first, then PEM texts). */
function chainOf(doc: AtlsResponse): CertInput[] {
  const ra = doc.remote_attestation;
  if (!ra || !('cert_chain' in ra) || !Array.isArray(ra.cert_chain) || ra.cert_chain.length === 0) throw new VerificationError('CERT_CHAIN_INVALID', 'the runner sent no AK certificate chain (simulation mode?)');
  return ra.cert_chain.map((c) => {
    const b = Buffer.from(String(c?.base64 ?? ''), 'base64');
    const text = b.toString('latin1');
    return text.startsWith('-----BEGIN') ? text : new Uint8Array(b);
  });
}

/** Runs the aTLS handshake against a runner; resolves with a pinned session or throws VerificationError. */
export async function attestRunner(baseUrl: string, o: AtlsOptions = {}): Promise<AtlsSession> {
  const base = new URL(baseUrl);
  if (base.protocol !== 'https:') throw new TypeError(`runner URL must be https: ${baseUrl}`);
  const nonce = o.nonce ?? randomBytes(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES) throw new TypeError('aTLS nonce must be 32 bytes');
  const u = new URL('/aTLS', base);
  u.searchParams.set('nonce', Buffer.from(nonce).toString('hex'));
  const { der, served, ekm, body } = await fetchUnverified(u, nonce, o);
  const checks: Check[] = [];
  let doc: AtlsResponse;
  try {
    doc = readJson(body, '/aTLS answer', { maxDepth: 64 }) as AtlsResponse;
  } catch {
    return fail('ATLS_MALFORMED', 'the /aTLS answer is not JSON', checks);
  }
  if (typeof doc?.ca_cert !== 'string' || !doc.ca_cert.includes('-----BEGIN CERTIFICATE-----')) return fail('ATLS_MALFORMED', '/aTLS carries no ca_cert PEM', checks);

  // 1. The certificate the runner measured (ca_cert) is the one we talk to, or anchors the chain it served.
  const peer = new X509Certificate(der);
  const measured = new X509Certificate(doc.ca_cert);
  const same = Buffer.compare(measured.raw, der) === 0;
  if (!same) await checkServedChain(der, served, measured.raw, o.at ?? new Date(), checks);
  checks.push({ id: 'tls.certificate', ok: true, detail: same ? 'served certificate is the measured one' : `served chain of ${served.length} validates to the measured certificate` });

  // 2. Quote + AK chain, with the expected qualifying data.
  const ra = doc.remote_attestation as { quote?: { message?: { base64?: string }; signature?: { base64?: string }; pcr?: { base64?: string } } };
  const b64 = (v: { base64?: string } | undefined, what: string): Uint8Array => {
    if (typeof v?.base64 !== 'string') return fail('ATLS_MALFORMED', `/aTLS quote.${what} missing`, checks);
    return new Uint8Array(Buffer.from(v.base64, 'base64'));
  };
  const attest = b64(ra.quote?.message, 'message');
  const extra = parseAttest(attest).extraData;
  const replayable = extra.length === 0;
  if (replayable && !o.allowReplayable)
    fail('REPLAYABLE_ATTESTATION', `the runner ignored the nonce (empty qualifying data): ${REPLAYABLE_WARNING} Pass --allow-replayable-attestation to accept this.`, checks);
  const spki = peer.publicKey.export({ type: 'spki', format: 'der' });
  const expected = replayable ? new Uint8Array(0) : sha256(sha256(spki), nonce, ekm);
  const akPublic = doc.aicert?.ak_public ? new Uint8Array(Buffer.from(doc.aicert.ak_public, 'base64')) : undefined;
  const chain = chainOf(doc);
  const opts = { ...(o.trustAnchors ? { trustAnchors: o.trustAnchors } : {}), ...(o.intermediates ? { intermediates: o.intermediates } : {}), ...(o.at ? { at: o.at } : {}) };
  let v;
  try {
    v = await verifyAkQuote({ attest, signature: b64(ra.quote?.signature, 'signature'), pcrs: b64(ra.quote?.pcr, 'pcr'), nonce: expected, akPublic: akPublic ?? chain[0]!, akCertificates: chain }, opts);
  } catch (e) {
    if (e instanceof VerificationError) {
      const msg = e.code === 'NONCE_MISMATCH' ? 'the quote is not bound to this nonce, TLS key and connection (replayed, relayed, or the TLS key is not the one in the quote)' : e.message;
      throw new VerificationError(e.code, msg, { checks: [...checks, ...((e.details?.checks as Check[]) ?? [])] }, { cause: e });
    }
    throw e;
  }
  checks.push(...v.checks);
  if (!replayable) checks.push({ id: 'atls.binding', ok: true, detail: 'qualifyingData = sha256(sha256(SPKI) ‖ nonce ‖ TLS exporter of this connection)' });
  const bank = v.pcrs?.get(0x000b);
  if (!bank) return fail('PCR_VALUES_MISSING', 'the quote has no sha256 PCR values', checks);
  const pcr = (i: number): string => (bank.get(i) ? Buffer.from(bank.get(i)!).toString('hex') : '');

  // 3. PCR 15 replays to exactly one extension with sha256(ca_cert PEM).
  if (pcr(15) !== extendFromZero(sha256(Buffer.from(doc.ca_cert, 'utf8'))))
    fail('TLS_PCR_MISMATCH', 'PCR 15 does not hold the TLS certificate (sha256(0^32 ‖ sha256(PEM)))', checks);
  checks.push({ id: 'atls.pcr15', ok: true, detail: 'PCR 15 = the served TLS certificate' });

  // 4. Launch nonce: PCR 14 holds exactly the launch event (nothing was measured before it), and boot policy.
  if (o.launchNonce) {
    if (pcr(PCR_LAUNCH) !== extendFromZero(sha256(Buffer.from(launchEvent(sha256(o.launchNonce).toString('hex')), 'utf8'))))
      fail('LAUNCH_NONCE_MISMATCH', `PCR ${PCR_LAUNCH} does not hold exactly this launch's nonce event: not the VM that was created, or something was measured first`, checks);
    checks.push({ id: 'atls.launch', ok: true, detail: `PCR ${PCR_LAUNCH} holds the launch nonce as its first event` });
  } else checks.push({ id: 'atls.launch', ok: null, detail: 'no launch nonce to compare (--runner)' });
  const golden = o.policy?.pcrs?.sha256;
  if (golden && Object.keys(golden).length) {
    for (const [k, allowed] of Object.entries(golden))
      if (!allowed.includes(pcr(Number(k)))) fail('PCR_POLICY_MISMATCH', `PCR ${k} = ${pcr(Number(k)) || '(not quoted)'} is not an allowed boot measurement`, checks);
    checks.push({ id: 'atls.boot', ok: true, detail: `PCRs ${Object.keys(golden).join(', ')} match the measurements` });
  } else checks.push({ id: 'atls.boot', ok: null, detail: 'no boot measurements given' });

  // 5. Pin: later requests accept only this exact certificate.
  const pinnedPem = peer.toString();
  const agent = new Agent({
    keepAlive: true,
    ca: [pinnedPem, doc.ca_cert],
    checkServerIdentity: (_host, cert) => (Buffer.compare(cert.raw, der) === 0 ? undefined : new VerificationError('TLS_CERT_MISMATCH', 'runner certificate differs from the attested one')),
  });
  return { url: base.origin, certificateDer: new Uint8Array(der), certificatePem: doc.ca_cert, agent, replayable, checks, akSubject: v.chain.leaf.subject, akCertificateSha256: v.chain.leaf.sha256.toLowerCase() };
}

/** Validates the served chain as a TLS client would (signatures, validity, CA constraints, path length), anchored only at the measured certificate. */
async function checkServedChain(leaf: Buffer, served: Buffer[], measuredDer: Buffer, at: Date, checks: Check[]): Promise<void> {
  try {
    const anchor = parseCert(new Uint8Array(measuredDer), 'ca_cert');
    const pool = served.slice(1).map((d, i) => parseCert(new Uint8Array(d), `tls chain[${i + 1}]`));
    await buildPath(parseCert(new Uint8Array(leaf), 'tls leaf'), { anchors: [anchor], pool, at });
  } catch (e) {
    fail('TLS_CERT_MISMATCH', `the TLS chain served does not validate to the measured certificate: ${(e as Error).message}`, checks);
  }
}
