/**
 * `aicert image build --out DIR` and `aicert image upload` (spec/runner-image.md): the runner image, built bit for
 * bit reproducibly with its golden values, and put on an Azure compute gallery. Exit 0 done, 2 usage, 1 failure.
 */
import { parse, printJson, UsageError } from './io.js';
import { stderrLines } from '../node/stderr.js';

const USAGE = 'aicert image build --out DIR [--cache DIR] [--no-reference-boot] [--firewall FILE] [--json]\n' +
  '       aicert image upload --image DIR --storage-url URL --storage-account-id ID --gallery ID --definition NAME --version X.Y.Z --region R... [--location L] [--json]';

const HELP = `usage: ${USAGE}

build   writes DIR/uki.efi, disk.raw, disk.vhd, policy.json (QEMU/OVMF flow: PCRs 0-7 from a reference boot,
        4/9/11 predicted), policy-azure.json, measurements_qemu.json, measurements_azure.json,
        container_measurements.json and manifest.json (package versions, digests). Needs the repository checkout,
        the Debian packages of .ci/apt-packages and the pinned packages of image/packages.lock.
  --cache DIR          downloaded kernel/stub packages (default image/.cache)
  --no-reference-boot  skip the QEMU boot: policy.json then pins PCR 4/9/11 only
  --firewall FILE      build with another network policy (nft file) instead of image/firewall.nft
upload  uploads DIR/disk.vhd as a page blob, creates or updates the gallery image definition (Gen2,
        TrustedLaunchSupported, Specialized, Linux) and an image version replicated to the regions; prints image_id.`;

const log = stderrLines('aicert image: ');

async function build(argv: string[]): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    { out: { type: 'string' }, cache: { type: 'string' }, 'no-reference-boot': { type: 'boolean' }, firewall: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  if (!o.out || positionals.length) throw new UsageError(`--out DIR is required\nusage: ${USAGE}`);
  const { buildImage } = await import('../launcher/image-build.js');
  const r = await buildImage({ out: o.out, ...(o.cache ? { cache: o.cache } : {}), ...(o.firewall ? { firewall: o.firewall } : {}), referenceBoot: !o['no-reference-boot'], log });
  const a = r.manifest.artifacts as Record<string, { size: number; sha256: string }>;
  if (o.json) printJson({ ok: true, out: o.out, manifest: r.manifest, ...(r.referenceBootSeconds ? { reference_boot_seconds: r.referenceBootSeconds } : {}) });
  else {
    for (const [n, d] of Object.entries(a)) process.stdout.write(`${d.sha256}  ${n}  (${d.size} bytes)\n`);
    if (r.referenceBootSeconds) process.stdout.write(`reference boot: ${r.referenceBootSeconds.toFixed(1)} s\n`);
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'build') return build(rest);
  if (sub === 'upload') return (await import('./cmd-image-upload.js')).upload(rest, USAGE);
  throw new UsageError(`unknown subcommand '${sub}'\nusage: ${USAGE}`);
}
