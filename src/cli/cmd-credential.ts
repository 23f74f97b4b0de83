/**
 * `aicert credential --ek FILE (--ak FILE | --ak-name HEX|FILE) --secret FILE [--out FILE] [--json]`: seals a secret
 * to an EK for one AK, like `tpm2_makecredential -T none` (spec/credential-activation.md). `--out` writes the
 * tpm2-tools credential file that `tpm2_activatecredential -i` reads. Exit 0 made, 1 the EK or AK is not fit for
 * credential activation, 2 malformed input or usage.
 */
import { writeFileSync } from 'node:fs';
import { makeCredential } from '../tpm/credential.js';
import { parsePublicBytes } from '../tpm/public.js';
import { concat, toHex, tryFromHex } from '../util/bytes.js';
import { parse, printJson, readInput, UsageError } from './io.js';
import { stderr } from '../node/stderr.js';

const USAGE = 'aicert credential --ek FILE (--ak FILE | --ak-name HEX|FILE) --secret FILE [--out FILE] [--json]';
const HELP = `usage: ${USAGE}

Seals --secret to the EK so that only the TPM holding that EK releases it, and only for that AK (TPM2_MakeCredential).
  --ek FILE        EK public area: TPM2B_PUBLIC or TPMT_PUBLIC (tpm2_createek -u)
  --ak FILE        AK public area (tpm2_createak -u); it must be a restricted, fixedTPM signing key
  --ak-name X      or the AK Name: hex, or a file with the binary Name (tpm2_createak -n)
  --secret FILE    the secret, 1 to digest-size bytes of the EK's nameAlg ('-' reads stdin)
  --out FILE       write the tpm2-tools credential file (tpm2_activatecredential -i)
  --json           print {akName, credentialBlob, encryptedSecret} as hex`;

// tpm2-tools' credential file: BE u32 magic 0xBADCC0DE, BE u32 version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET.
const FILE_HEADER = new Uint8Array([0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1]);

/** --ak-name: hex on the command line, else a file holding the binary Name. */
function readAkName(v: string): Uint8Array {
  return (/^[0-9a-fA-F]+$/.test(v) && v.length % 2 === 0 ? tryFromHex(v) : undefined) ?? readInput(v, '--ak-name');
}

/** Runs the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    { ek: { type: 'string' }, ak: { type: 'string' }, 'ak-name': { type: 'string' }, secret: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  if (!o.ek || !o.secret || (o.ak === undefined) === (o['ak-name'] === undefined)) throw new UsageError(`--ek, --secret and one of --ak or --ak-name are required\nusage: ${USAGE}`);
  if (!o.out && !o.json) throw new UsageError(`nothing to write: give --out FILE or --json\nusage: ${USAGE}`);

  // Read every input first: a malformed file is exit 2 before anything is written.
  const ekPublic = readInput(o.ek, '--ek');
  const akPublic = o.ak !== undefined ? parsePublicBytes(readInput(o.ak, '--ak')) : undefined;
  const akName = akPublic?.name ?? readAkName(o['ak-name']!);
  const secret = readInput(o.secret, '--secret');
  if (secret.length === 0) throw new UsageError('--secret is empty');

  // Seal; makeCredential refuses an EK that is not a storage key and an AK public area that is not a restricted signer.
  const c = await makeCredential({ ekPublic, akName: akPublic ?? akName, secret });
  if (o.out) writeFileSync(o.out, concat(FILE_HEADER, c.credentialBlob, c.encryptedSecret));
  if (o.json) printJson({ akName: toHex(akName), credentialBlob: toHex(c.credentialBlob), encryptedSecret: toHex(c.encryptedSecret), ...(o.out ? { file: o.out } : {}) });
  else stderr`credential for AK ${toHex(akName)} written to ${o.out}\n`;
  return 0;
}
