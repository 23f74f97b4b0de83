/**
 * `aicert export --format intoto|cyclonedx ATTESTATION [--output FILE] [--attestation-url URL]`: writes the in-toto
 * Statement (AIBOM v1: its exact signed-over bytes; original attestation.json: one synthesized from the measured
 * events) or a CycloneDX 1.6 ML-BOM. Exports describe and verify nothing; run aicert-verify for that.
 * Exit 0 written, 2 malformed input or bad usage.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { exportCycloneDx, exportInToto } from '../aibom/export.js';
import { utf8 } from '../util/bytes.js';
import { parse, readInput, UsageError } from './io.js';

const USAGE = 'aicert export --format intoto|cyclonedx ATTESTATION [--output FILE] [--attestation-url URL]';

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      'attestation-url': { type: 'string' },
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
        'Exports verify nothing: run aicert-verify first.\n',
    );
    return 0;
  }
  // One document, one known format.
  if (positionals.length !== 1) throw new UsageError(`exactly one ATTESTATION is required\nusage: ${USAGE}`);
  if (o.format !== 'intoto' && o.format !== 'cyclonedx') throw new UsageError(`--format must be intoto or cyclonedx\nusage: ${USAGE}`);
  const doc = readInput(positionals[0]!, 'attestation');
  let out: Uint8Array;
  let warnings: string[] = [];
  if (o.format === 'intoto') {
    const r = exportInToto(doc);
    out = r.bytes;
    warnings = r.warnings;
  } else {
    const url = o['attestation-url'] ?? (positionals[0] === '-' ? undefined : encodeURI(basename(positionals[0]!)));
    const bom = exportCycloneDx(doc, url ? { attestationUrl: url } : {});
    out = utf8(JSON.stringify(bom, null, 2) + '\n');
  }
  for (const w of warnings) process.stderr.write(`aicert export: warning: ${w}\n`);
  // Write the export (stdout by default).
  if (o.output) writeFileSync(o.output, out);
  else process.stdout.write(out);
  return 0;
}
