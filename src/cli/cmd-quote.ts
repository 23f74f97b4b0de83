/**
 * `aicert quote` (spec/cli.md §aicert quote): a replacement for tpm2_checkquote with its own flags. With an AK
 * certificate but no --ak-chain/--trust-root, the chain is reported as not checked, and the certificate's validity
 * is judged at --at (default now).
 */
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';
import { formatFirmwareVersion } from '../tpm/attest.js';
import { formatSelection } from '../tpm/pcr-selection.js';
import { pcrValuesFromJson, pcrValuesToJson } from '../tpm/pcr-values.js';
import { verifyQuote, type Check, type QuoteVerification } from '../tpm/quote.js';
import { toHex, tryFromHex, tryUtf8Decode } from '../util/bytes.js';
import { hashName } from '../util/hash.js';
import { tryParseIsoTime } from '../util/time.js';
import { parse, printChecks, printJson, readInput, usageError } from './io.js';
import { parseCert } from '../tpm/x509-cert.js';
import { describePlatform, QUOTE_EXTRA_OPTIONS, QUOTE_EXTRA_USAGE, readCvmFlags, readCvmPolicy, readHardwareRoots, readPcrYaml, readSignature, readTrustRoot, readTrustStores } from './quote-inputs.js';
import { readJson } from '../util/json.js';

const USAGE =
  'aicert quote --ak FILE --message FILE --signature FILE [--pcrs FILE] [--nonce HEX] [--ak-chain FILE]... [--trust-root PEM]... [--at ISO8601] [--allow-sha1] [--json] ' + QUOTE_EXTRA_USAGE;

/** Reads --pcrs: tpm2-tools serialized file, plain concatenation, or JSON `{"sha256": {...}}`. */
function readPcrs(path: string): Uint8Array | ReturnType<typeof pcrValuesFromJson> {
  const b = readInput(path, 'PCR file');
  // tpm2_pcrread / tpm2_quote YAML print (spec/confidential-vms.md §PCR YAML).
  const yaml = readPcrYaml(b);
  if (yaml) return yaml;
  // JSON only when it looks like an object of names ('{', blanks, then '"' or '}'): PCR bytes may start with 0x7b.
  const text = b[0] === 0x7b ? tryUtf8Decode(b) : undefined;
  if (text !== undefined && !/^\{[ \t\r\n]*["}]/.test(text)) return b;
  if (text) {
    try {
      return pcrValuesFromJson(readJson(text, 'PCR JSON'));
    } catch (e) {
      if (e instanceof SyntaxError) throw new MalformedInputError(`PCR JSON: ${e.message}`, { path: '--pcrs' });
      throw e;
    }
  }
  return b;
}

/** A JSON-friendly view of the decoded attest. */
function describeAttest(q: QuoteVerification): Record<string, unknown> {
  const a = q.attest;
  return {
    magic: `0x${a.magic.toString(16)}`,
    type: a.typeName,
    qualifiedSigner: toHex(a.qualifiedSigner),
    extraData: toHex(a.extraData),
    clockInfo: { clock: a.clockInfo.clock.toString(), resetCount: a.clockInfo.resetCount, restartCount: a.clockInfo.restartCount, safe: a.clockInfo.safe },
    firmwareVersion: formatFirmwareVersion(a.firmwareVersion),
    pcrSelect: formatSelection(q.quote.pcrSelect),
    pcrDigest: toHex(q.quote.pcrDigest),
    signature: { scheme: q.signature.scheme, hash: 'hashAlg' in q.signature ? hashName(q.signature.hashAlg) : null },
    ak: { source: q.ak.source, name: q.ak.tpmPublic ? toHex(q.ak.tpmPublic.name) : undefined },
    ...(q.pcrs ? { pcrs: pcrValuesToJson(q.pcrs) } : {}),
  };
}

const HELP = `usage: ${USAGE}

Verifies a TPM 2.0 quote: magic, type, the signature with the AK (scheme tied to the key), the nonce, and the PCR
digest against the given PCR values.
  --ak FILE            AK: PEM/DER SubjectPublicKeyInfo, X.509 certificate, TPM2B_PUBLIC or TPMT_PUBLIC
  --message FILE       TPMS_ATTEST (tpm2_quote --message)
  --signature FILE     TPMT_SIGNATURE (tpm2_quote --signature)
  --pcrs FILE          PCR values: tpm2_quote --pcr output, plain concatenation, or {"sha256": {"<pcr>": "<hex>"}}
  --nonce HEX          the quote's qualifying data must equal it
  --ak-chain FILE      intermediate certificates for an --ak certificate (repeatable); validates the chain
  --trust-root PEM     trust anchor for that chain (repeatable; default the Azure vTPM root 2023)
  --at ISO8601         time at which certificates are judged (default now)
  --allow-sha1         accept SHA-1 signatures and PCR banks
  --json               one JSON document: {"valid", "checks", "attest"?, "error"?: {"code", "message"}}
  --cvm-policy FILE    confidential VMs: the confidentialVm rules (spec/policy.md); the launch measurement must be pinned
  --amd-roots PEM      AMD ARK/ASK certificates to chain the VCEK to (repeatable); --intel-root PEM likewise for TDX;
                       --trust-store amd|intel names the embedded public roots (the default when no trust is configured)
Exit: 0 valid, 1 a check failed, 2 malformed input or bad usage.

Example (files from tpm2_quote -m quote.msg -s quote.sig -o quote.pcrs -q NONCE):
  aicert quote --ak ak.pub --message quote.msg --signature quote.sig --pcrs quote.pcrs --nonce 9f2c…`;

/** An --ak certificate used without its chain: say so, and judge its validity period at `at`. */
function unchainedCert(der: Uint8Array, at: Date): Check[] {
  const c = parseCert(der, 'AK certificate');
  const when = at.toISOString();
  const chain: Check = { id: 'ak.chain', ok: null, detail: 'no --ak-chain or --trust-root given: who issued the AK certificate was not checked, only its key was used' };
  if (at < c.notBefore) return [chain, { id: 'ak.validity', ok: false, detail: `the AK certificate is not yet valid at ${when} (from ${c.notBefore.toISOString()})` }];
  if (at > c.notAfter) return [chain, { id: 'ak.validity', ok: false, detail: `the AK certificate expired ${c.notAfter.toISOString()} (judged at ${when})` }];
  return [chain, { id: 'ak.validity', ok: true, detail: `the AK certificate is valid at ${when} (${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})` }];
}

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      ak: { type: 'string' },
      message: { type: 'string' },
      signature: { type: 'string' },
      pcrs: { type: 'string' },
      nonce: { type: 'string' },
      'ak-chain': { type: 'string', multiple: true },
      'trust-root': { type: 'string', multiple: true },
      at: { type: 'string' },
      'allow-sha1': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...QUOTE_EXTRA_OPTIONS,
    },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length) throw usageError(`unexpected argument ${positionals[0]}`, USAGE);
  const cvm = readCvmFlags(o);
  if ((!o.ak && !cvm?.hcl) || !o.message || !o.signature) throw usageError('--ak (or --hcl-report), --message and --signature are required', USAGE);
  let nonce: Uint8Array | undefined;
  if (o.nonce !== undefined) {
    nonce = tryFromHex(o.nonce);
    if (!nonce) throw usageError(`--nonce must be hex, got '${o.nonce.slice(0, 80)}'`, USAGE);
  }
  const at = o.at !== undefined ? tryParseIsoTime(o.at) : undefined;
  if (o.at !== undefined && !at) throw usageError(`--at must be an ISO 8601 time, got '${o.at.slice(0, 80)}'`, USAGE);
  const akBytes = o.ak ? readInput(o.ak, 'AK') : undefined;
  const input = {
    attest: readInput(o.message, 'message'),
    signature: cvm?.hcl ? readInput(o.signature, 'signature') : readSignature({ ...o, signature: o.signature }, akBytes),
    akPublic: akBytes ?? new Uint8Array(),
    ...(o.pcrs ? { pcrs: readPcrs(o.pcrs) } : {}),
    ...(nonce ? { nonce } : {}),
  };
  const chainFiles = o['ak-chain'] ?? [];
  const roots = (o['trust-root'] ?? []).map(readTrustRoot);
  const anchorRules = readTrustStores(o['trust-store']);
  const opts = {
    allowSha1: o['allow-sha1'] === true,
    ...(at ? { at } : {}),
    ...(roots.length ? { trustAnchors: roots } : {}),
    ...(anchorRules ? { anchorRules } : {}),
    ...(o['no-require-aik-eku'] ? { requireAikEku: false } : {}),
    ...(o['allow-unrestricted-ak'] ? { requireRestricted: false } : {}),
  };
  // With a certificate chain, trust roots or a trust store, the AK certificate is validated and bound to the quote's key.
  const withChain = chainFiles.length > 0 || roots.length > 0 || anchorRules !== undefined;
  let platform: Parameters<typeof describePlatform>[0];
  let result: QuoteVerification | undefined;
  let checks: Check[] = [];
  let error: VerificationError | PolicyError | undefined;
  try {
    if (cvm) {
      const { verifyCvmFromFlags } = await import('./quote-cvm.js');
      // Hardware roots from the trust configuration; the launch measurement pinned by --cvm-policy.
      const hw = { roots: readHardwareRoots(o, roots.length > 0 || anchorRules !== undefined), ...(o['cvm-policy'] ? { rules: readCvmPolicy(o['cvm-policy'])! } : {}) };
      const v = await verifyCvmFromFlags(cvm, input, o, akBytes, { ...opts, ...hw });
      platform = v;
      result = v.quote;
      checks = v.checks;
    } else if (withChain) {
      const { verifyAkQuote } = await import('../tpm/ak-quote.js');
      const certs = [input.akPublic, ...chainFiles.map((f) => readInput(f, 'AK chain'))];
      result = await verifyAkQuote({ ...input, akCertificates: certs }, opts);
    } else {
      result = await verifyQuote(input, opts);
    }
    if (!cvm) checks = result.checks;
    if (!cvm && !withChain && result.ak.certificate) checks = [...checks, ...unchainedCert(result.ak.certificate, at ?? new Date())];
    const expired = checks.find((c) => c.id === 'ak.validity' && c.ok === false);
    if (expired) throw new VerificationError(/not yet/.test(expired.detail) ? 'CERT_NOT_YET_VALID' : 'CERT_EXPIRED', expired.detail, { checks });
  } catch (e) {
    if (!(e instanceof VerificationError) && !(e instanceof PolicyError)) throw e;
    error = e;
    checks = (e.details?.checks as Check[]) ?? [{ id: 'quote', ok: false, detail: e.message }];
  }
  const valid = !error;
  if (o.json) {
    printJson({ valid, checks, ...(result ? { attest: describeAttest(result) } : {}), ...describePlatform(platform), ...(error ? { error: { code: error.code, message: error.message } } : {}) });
  } else {
    printChecks(checks);
    const unchained = checks.some((c) => c.id === 'ak.chain' && c.ok === null);
    process.stdout.write(valid ? `quote: valid${unchained ? ' (the AK certificate chain was NOT checked)' : ''}\n` : `quote: INVALID (${error!.code})\n`);
  }
  return valid ? 0 : 1;
}
