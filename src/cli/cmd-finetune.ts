/**
 * `aicert finetune` (spec/cli.md): fine-tune on an attested runner — a new Azure Trusted Launch VM, or an
 * existing runner with --runner URL — then verify what comes back. Exit 0 done and verified, 1 verification failed
 * (cloud resources are still deleted), 2 usage or config error (nothing was created), 3 the flow could not complete.
 * The runner log goes to stderr live; with --json stdout holds exactly one JSON document.
 */
import { dirname } from 'node:path';
import { runFinetune, type FinetuneOptions, type FinetuneResult } from '../launcher/finetune.js';
import type { VerifyAibomResult } from '../aibom/types.js';
import { idCard } from './cmd-verify.js';
import { isCidr } from '../launcher/provision.js';
import { parse, printChecks, printJson, readInput, UsageError } from './io.js';
import { Escaped, stderr, stderrLines } from '../node/stderr.js';

const USAGE =
  'aicert finetune [--config aicert.yaml] [--dir DIR] [--runner URL] [--storage-url URL] [--trust-root PEM]... ' +
    '[--measurements FILE] [--containers FILE] [--allow-replayable-attestation] [--allow-unattested-platform] [--qemu DIR --mirror DIR] [--allow-from CIDR] [--upload-parallel N] [--delete-unsaved-outputs] [--json]';

const HELP = `usage: ${USAGE}

Fine-tunes the pinned base model on the pinned dataset of the config on an attested runner, and verifies the result.
  --config FILE                   axolotl config with pinned base_model/datasets (default aicert.yaml)
  --dir DIR                       where attestation.json, aibom.json and outputs/ go (default: the config's folder)
  --runner URL                    use this runner (e.g. https://127.0.0.1:8443); no VM is created
  --storage-url URL               blob container for the outputs (AZURE_STORAGE_CONNECTION_STRING, else Entra ID)
  --trust-root PEM                AK trust anchor (repeatable; default the Azure vTPM root 2023)
  --measurements FILE             golden PCR values {"measurements": {"<pcr>": "<hex>"}} (boot policy)
  --containers FILE               expected image ids {"<image>": "sha256:<hex>"}
  --qemu DIR                      boot the runner image DIR (aicert image build) locally under QEMU + OVMF + swtpm
                                  and run the flow against the runner inside it, verified with DIR/policy.json
  --mirror DIR                    with --qemu: the model/dataset mirror (ORG/NAME/<commit>/, datasets/ORG/NAME/<commit>/)
  --allow-replayable-attestation  accept a runner without nonce support (original aicert protocol; weaker)
  --allow-unattested-platform     send the config without --measurements: then nothing proves which firmware, kernel
                                  and OS the runner boots, only that its AK is in a TPM; without it, exit 1
  --allow-from CIDR               the only sources the VM's port 443 admits (default: open to all, with a warning)
  --upload-parallel N             blocks the runner uploads at once (1..32, default 4)
  --delete-unsaved-outputs        delete the VM even if outputs are not confirmed in storage (they are lost)
  --json                          one JSON document on stdout
Without --runner the VM settings come from aicert.azure in the config or AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP,
AZURE_LOCATION, AZURE_IMAGE_ID, AZURE_VM_SIZE, AZURE_SECURE_BOOT; credentials from DefaultAzureCredential.
Exit: 0 verified, 1 verification failed, 2 usage or config error, 3 the flow could not complete (after cleanup).`;

/** Human report: aTLS checks, each document's checks, the ID card, the verdict. */
function printHuman(r: FinetuneResult): void {
  const w = (s: string): void => void process.stdout.write(s + '\n');
  if (r.atls) {
    w('Attested TLS');
    printChecks(r.atls, w);
  }
  const doc = (name: string, v: VerifyAibomResult | undefined) => {
    if (!v) return;
    w('');
    w(name);
    printChecks(v.checks, w);
  };
  doc('attestation.json (original format)', r.attestation);
  doc('aibom.json (AIBOM v1)', r.aibom);
  const card = idCard((r.aibom ?? r.attestation)?.claims ?? {});
  if (card.length) {
    w('');
    w(r.exit === 0 ? 'ID card' : 'ID card (NOT verified: do not rely on it)');
    card.forEach(w);
  }
  if (r.files.length) {
    w('');
    r.files.forEach((f) => w(`wrote ${f}`));
  }
  w('');
  w(r.exit === 0 ? 'VERIFIED' : `FAILED (exit ${r.exit}): ${r.error ?? 'see above'}`);
}

/** --allow-from, --delete-unsaved-outputs, --upload-parallel (launcher options of src/launcher/finetune.ts). */
function uploadFlags(o: { 'allow-from'?: string; 'delete-unsaved-outputs'?: boolean; 'upload-parallel'?: string }): Partial<FinetuneOptions> {
  const par = o['upload-parallel'];
  if (par !== undefined && !/^([1-9]|[12]\d|3[0-2])$/.test(par)) throw new UsageError('--upload-parallel must be 1..32');
  if (o['allow-from'] !== undefined && !isCidr(o['allow-from'])) throw new UsageError(`--allow-from must be an IP address or CIDR, got ${o['allow-from']}`);
  return {
    ...(o['allow-from'] ? { allowFrom: o['allow-from'] } : {}),
    ...(o['delete-unsaved-outputs'] ? { deleteUnsavedOutputs: true } : {}),
    ...(par ? { upload: { parallel: Number(par) } } : {}),
  };
}

export async function run(argv: string[], deps: Partial<FinetuneOptions> = {}): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      config: { type: 'string' },
      dir: { type: 'string' },
      runner: { type: 'string' },
      'storage-url': { type: 'string' },
      'trust-root': { type: 'string', multiple: true },
      measurements: { type: 'string' },
      containers: { type: 'string' },
      'allow-replayable-attestation': { type: 'boolean' },
      qemu: { type: 'string' },
      mirror: { type: 'string' },
      'allow-unattested-platform': { type: 'boolean' },
      'allow-from': { type: 'string' },
      'delete-unsaved-outputs': { type: 'boolean' },
      'upload-parallel': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  if ((o.qemu !== undefined) !== (o.mirror !== undefined)) throw new UsageError(`--qemu and --mirror go together\nusage: ${USAGE}`);
  if (o.qemu && o.runner) throw new UsageError(`--qemu and --runner exclude each other\nusage: ${USAGE}`);
  const log = deps.log ?? stderrLines('aicert finetune: ');
  const local = o.qemu ? await (await import('../launcher/qemu-finetune.js')).qemuFinetuneOptions(o.qemu, o.mirror!, o.dir ?? dirname(o.config ?? 'aicert.yaml'), log) : {};
  const opts: FinetuneOptions = {
    ...local,
    ...deps,
    config: o.config ?? 'aicert.yaml',
    ...(o.dir ? { dir: o.dir } : {}),
    ...(o.runner ? { runnerUrl: o.runner } : {}),
    ...(o['storage-url'] ? { storageUrl: o['storage-url'] } : {}),
    ...(o['trust-root'] ? { trustAnchors: o['trust-root'].map((p) => readInput(p, 'trust root')) } : {}),
    ...(o.measurements ? { measurements: readInput(o.measurements, 'measurements file') } : {}),
    ...(o.containers ? { containers: readInput(o.containers, 'containers file') } : {}),
    ...(o['allow-replayable-attestation'] ? { allowReplayable: true } : {}),
    ...(o['allow-unattested-platform'] ? { allowUnattestedPlatform: true } : {}),
    ...uploadFlags(o),
    log,
  };
  const r = await runFinetune(opts);
  if (r.error) stderr`aicert finetune: ${new Escaped(r.exit === 2 ? 'error' : 'failed')}: ${r.error}\n`;
  if (o.json) {
    const v = (x: VerifyAibomResult | undefined) => x && { valid: x.valid, checks: x.checks, claims: x.claims, ...(x.error ? { error: x.error } : {}) };
    // the one error object of spec/cli.md §JSON: exit 1 verification failed, 2 usage/config, 3 the flow
    const error = r.error ? { code: r.aibom?.error?.code ?? r.attestation?.error?.code ?? (r.exit === 1 ? 'VERIFICATION_FAILED' : r.exit === 2 ? 'USAGE' : 'FLOW_FAILED'), message: r.error } : undefined;
    printJson({ exit: r.exit, verified: r.exit === 0, runId: r.runId, replayable: r.replayable, error, atls: r.atls, attestation: v(r.attestation), aibom: v(r.aibom), files: r.files });
  } else if (r.exit !== 2) printHuman(r);
  return r.exit;
}
