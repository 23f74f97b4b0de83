/** `aicert quote`: a drop-in for tpm2_checkquote (see the CLI contract). */
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';
import { formatFirmwareVersion } from '../tpm/attest.js';
import { formatSelection } from '../tpm/pcr-selection.js';
import { pcrValuesFromJson, pcrValuesToJson } from '../tpm/pcr-values.js';
import { verifyQuote, type Check, type QuoteVerification } from '../tpm/quote.js';
import { toHex, tryFromHex, tryUtf8Decode } from '../util/bytes.js';
import { hashName } from '../util/hash.js';
import { parse, printChecks, printJson, readInput, UsageError } from './io.js';
import { describePlatform, QUOTE_EXTRA_OPTIONS, QUOTE_EXTRA_USAGE, readCvmFlags, readPcrYaml, readSignature, readTrustRoot, readTrustStores } from './quote-inputs.js';

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
      return pcrValuesFromJson(JSON.parse(text));
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
    process.stdout.write(`usage: ${USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}\nusage: ${USAGE}`);
  const cvm = readCvmFlags(o);
  if ((!o.ak && !cvm?.hcl) || !o.message || !o.signature) throw new UsageError(`--ak (or --hcl-report), --message and --signature are required\nusage: ${USAGE}`);
  let nonce: Uint8Array | undefined;
  if (o.nonce !== undefined) {
    nonce = tryFromHex(o.nonce);
    if (!nonce) throw new UsageError(`--nonce must be hex, got '${o.nonce}'`);
  }
  const at = o.at ? new Date(o.at) : undefined;
  if (at && Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO 8601 time, got '${o.at}'`);
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
      const v = await verifyCvmFromFlags(cvm, input, o, akBytes, opts);
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
  } catch (e) {
    if (!(e instanceof VerificationError) && !(e instanceof PolicyError)) throw e;
    error = e;
    checks = (e.details?.checks as Check[]) ?? [{ id: 'quote', ok: false, detail: e.message }];
  }
  const valid = !error;
  if (o.json) {
    printJson({ valid, ...(error ? { code: error.code, error: error.message } : {}), checks, ...(result ? { attest: describeAttest(result) } : {}), ...describePlatform(platform) });
  } else {
    printChecks(checks);
    process.stdout.write(valid ? 'quote: valid\n' : `quote: INVALID (${error!.code})\n`);
  }
  return valid ? 0 : 1;
}
