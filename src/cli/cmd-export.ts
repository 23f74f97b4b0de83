/**
 * `aicert export --format intoto|cyclonedx ATTESTATION [--output FILE] [--attestation-url URL] [verify flags]`: writes the in-toto
 * Statement (AIBOM v1: its exact signed-over bytes; original attestation.json: one synthesized from the measured
 * events) or a CycloneDX 1.6 ML-BOM. The document is verified first, with aicert-verify's flags (spec/cli.md
 * §aicert export): NOT VALID writes nothing. `--unverified` skips that and marks the output as unverified.
 * Exit 0 written, 1 not valid (nothing written), 2 malformed input or bad usage.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { exportCycloneDx, exportInToto } from '../aibom/export.js';
import { readJson } from '../util/json.js';
import { verifyAibom } from '../aibom/verify.js';
import { utf8 } from '../util/bytes.js';
import { parse, readInput, UsageError } from './io.js';
import { anyVerifyFlag, VERIFY_FLAGS, verifyOptionsFrom } from './verify-options.js';
import { stderr } from '../node/stderr.js';

const USAGE =
  'aicert export --format intoto|cyclonedx ATTESTATION [--output FILE] [--attestation-url URL] ' +
  '[aicert-verify flags: --trust-root PEM... --policy FILE --measurements FILE --containers FILE --nonce HEX --at ISO8601 ...] | --unverified';

/** What an unverified export says about itself, in the output (in-toto: a top-level field; CycloneDX: a property). */
export const UNVERIFIED_MARK = 'UNVERIFIED: exported with --unverified; aicert-verify did not check this document';

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      'attestation-url': { type: 'string' },
      unverified: { type: 'boolean' },
      ...VERIFY_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(
      `usage: ${USAGE}\n\n` +
        '  --format intoto      the in-toto Statement v1 (SLSA provenance v1 predicate); AIBOM v1: the exact bytes\n' +
        '                       the TPM quote binds; original documents: synthesized from the events (unsigned)\n' +
        '  --format cyclonedx   a CycloneDX 1.6 ML-BOM (machine-learning-model, pedigree, datasets, formulation)\n' +
        '  --output FILE        write there instead of stdout\n' +
        '  --attestation-url U  where the AIBOM is published (CycloneDX externalReference of type attestation;\n' +
        '                       default: the input file name, as a relative reference)\n' +
        '  --unverified         export without verifying; the output then says so (in-toto: field\n' +
        '                       "aicert:unverified"; CycloneDX: metadata property aicert:verification)\n' +
        'The document is verified first with the aicert-verify flags given (--trust-root, --trust-store, --policy,\n' +
        '--measurements, --containers, --nonce, --at, --allow-unchecked-platform, --allow-simulation,\n' +
        '--no-require-aik-eku); a NOT VALID document is not exported (exit 1).\n',
    );
    return 0;
  }
  // One document, one known format.
  if (positionals.length !== 1) throw new UsageError(`exactly one ATTESTATION is required\nusage: ${USAGE}`);
  if (o.format !== 'intoto' && o.format !== 'cyclonedx') throw new UsageError(`--format must be intoto or cyclonedx\nusage: ${USAGE}`);
  const doc = readInput(positionals[0]!, 'attestation');
  // Verify first: an export that nothing marks as unverified is an export of a valid document.
  const verifyOpts = verifyOptionsFrom(o, USAGE);
  if (o.unverified && anyVerifyFlag(o)) throw new UsageError(`--unverified takes no verification flags\nusage: ${USAGE}`);
  if (!o.unverified) {
    const v = await verifyAibom(doc, verifyOpts);
    if (!v.valid) {
      const why = v.error ? `${v.error.code}: ${v.error.message}` : `could not check ${v.unchecked.join(', ')}`;
      stderr`aicert export: NOT VALID (${why}); nothing written (--unverified exports it marked as unverified)\n`;
      return 1;
    }
  }
  let out: Uint8Array;
  let warnings: string[] = [];
  if (o.format === 'intoto') {
    const r = exportInToto(doc);
    out = o.unverified ? markInToto(r.bytes) : r.bytes;
    warnings = r.warnings;
  } else {
    const url = o['attestation-url'] ?? (positionals[0] === '-' ? undefined : encodeURI(basename(positionals[0]!)));
    const bom = exportCycloneDx(doc, url ? { attestationUrl: url } : {});
    if (o.unverified) (bom.metadata as Record<string, unknown>).properties = [{ name: 'aicert:verification', value: UNVERIFIED_MARK }];
    out = utf8(JSON.stringify(bom, null, 2) + '\n');
  }
  if (o.unverified) warnings.unshift(UNVERIFIED_MARK);
  for (const w of warnings) stderr`aicert export: warning: ${w}\n`;
  // Write the export (stdout by default).
  if (o.output) writeFileSync(o.output, out);
  else process.stdout.write(out);
  return 0;
}

/** The statement with a first field "aicert:unverified" (its bytes are no longer the quoted ones, as they should not be). */
function markInToto(bytes: Uint8Array): Uint8Array {
  const statement = readJson(bytes, 'statement') as Record<string, unknown>;
  return utf8(JSON.stringify({ 'aicert:unverified': UNVERIFIED_MARK, ...statement }, null, 2) + '\n');
}
