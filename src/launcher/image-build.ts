/**
 * `aicert image build --out DIR` (spec/runner-image.md): runs image/build.sh (the reproducible bytes: UKI, raw disk,
 * fixed VHD), then derives the golden values: PCR 4/9/11 predicted from the UKI for OVMF/QEMU and for Azure Trusted
 * Launch (spec/uki-prediction.md), PCRs 0-7 of the QEMU flow from a reference boot of the disk on the machine
 * `aicert finetune --qemu` uses (checked: the firmware log replays to the PCRs the guest read, and the predicted
 * 4/9/11 equal the booted ones), and the trainer image id the runner measures. Writes policy.json (QEMU flow),
 * policy-azure.json, measurements_qemu.json / measurements_azure.json / container_measurements.json (original
 * formats) and manifest.json (package versions, build time = SOURCE_DATE_EPOCH, digests of every artifact).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { policyToJson, type Policy } from '../aibom/policy.js';
import { predictPcrs, type BootFlow } from '../eventlog/predict.js';
import { replay } from '../eventlog/replay.js';
import { parseTcgLog } from '../eventlog/tcg.js';
import { toHex } from '../util/bytes.js';
import { TPM_ALG } from '../util/hash.js';
import { bootImage } from './qemu.js';
import { readJson } from '../util/json.js';

export interface ImageBuildOptions {
  out: string;
  /** Downloaded .debs and scratch space (default image/.cache of the source tree). */
  cache?: string;
  /** Boot the disk once for PCRs 0-7 of the QEMU flow (default true). */
  referenceBoot?: boolean;
  /** Another network policy file (tests: a one-byte change must change the golden values). */
  firewall?: string;
  log?: (line: string) => void;
}

export interface ImageManifest {
  schema: 'aicert/runner-image/v1';
  profile: 'cpu';
  build_time: string;
  source_date_epoch: number;
  [k: string]: unknown;
}

/** The source tree's image/ folder (the build needs the repository: it bundles the runner from src/). */
export function imageSourceDir(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'image', 'build.sh')) && existsSync(join(d, 'src', 'runner'))) return join(d, 'image');
  }
  throw new Error('aicert image build needs a checkout of the aicert repository (image/build.sh and src/ next to it)');
}

/** sha256 and size of a file, streamed. */
async function digest(file: string): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(file, { highWaterMark: 4 << 20 })) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}

/** Runs image/build.sh; its progress lines go to `log`. */
function runBuildScript(o: ImageBuildOptions, out: string): Promise<void> {
  const dir = imageSourceDir();
  const args = [join(dir, 'build.sh'), out, ...(o.cache ? [resolve(o.cache)] : [])];
  const env = { ...process.env, ...(o.firewall ? { AICERT_IMAGE_FIREWALL: resolve(o.firewall) } : {}) };
  return new Promise((res, rej) => {
    const c = spawn('bash', args, { env, stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    c.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      for (const l of d.split('\n').filter(Boolean)) o.log?.(l);
    });
    c.once('error', rej);
    c.once('close', (code) => (code === 0 ? res() : rej(new Error(`image/build.sh failed (${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/** PCR 4/9/11 (sha256) predicted from the UKI for one boot flow. */
function predicted(uki: Uint8Array, flow: BootFlow): Record<string, string> {
  const p = predictPcrs({ uki, bootFlow: flow, banks: [TPM_ALG.SHA256] });
  const bank = p.pcrs.get(TPM_ALG.SHA256)!;
  return Object.fromEntries([...bank].sort((a, b) => a[0] - b[0]).map(([i, v]) => [String(i), toHex(v)]));
}

/** Reference boot: PCRs 0-7 (sha256) of the QEMU flow; checks replay = guest PCRs and prediction = guest PCRs. */
async function referenceBoot(out: string, qemuPredicted: Record<string, string>, log: (l: string) => void): Promise<{ pcrs: Record<string, string>; bootSeconds: number }> {
  const vm = await bootImage({ imageDir: out, nonceHex: randomBytes(32).toString('hex'), evidenceOnly: true, log });
  try {
    const logBytes = vm.evidence.get('binary_bios_measurements'), pcrsTxt = vm.evidence.get('pcrs.txt');
    if (!logBytes || !pcrsTxt) throw new Error('the reference boot printed no event log or PCRs');
    const sysfs = new Map<string, string>();
    for (const l of new TextDecoder().decode(pcrsTxt).trim().split('\n')) {
      const [bank, i, v] = l.trim().split(/\s+/);
      if (bank === 'sha256') sysfs.set(i!, v!.toLowerCase());
    }
    const rep = replay(parseTcgLog(logBytes)).get(TPM_ALG.SHA256)!;
    for (const [i, v] of rep) {
      if (toHex(v) !== sysfs.get(String(i))) throw new Error(`reference boot: the event log replays PCR ${i} to ${toHex(v)}, the TPM holds ${sysfs.get(String(i))}`);
    }
    for (const [i, v] of Object.entries(qemuPredicted)) {
      if (sysfs.get(i) !== v) throw new Error(`reference boot: PCR ${i} is ${sysfs.get(i)}, predicted ${v}`);
    }
    await mkdir(join(out, 'reference'), { recursive: true });
    await writeFile(join(out, 'reference', 'binary_bios_measurements'), logBytes);
    await writeFile(join(out, 'reference', 'pcrs.txt'), pcrsTxt);
    return { pcrs: Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [String(i), sysfs.get(String(i))!])), bootSeconds: vm.bootSeconds };
  } finally {
    await vm.stop();
  }
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
const toPcrSets = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [v]]));

/** Builds the image into `o.out`; returns its manifest and how long the reference boot took. */
export async function buildImage(o: ImageBuildOptions): Promise<{ manifest: ImageManifest; referenceBootSeconds?: number }> {
  const log = o.log ?? (() => undefined);
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  await runBuildScript(o, out);
  const build = readJson(new Uint8Array(await readFile(join(out, 'build.json'))), 'build.json') as Record<string, unknown> & { source_date_epoch: number; trainer: { name: string; id: string } };
  const uki = new Uint8Array(await readFile(join(out, 'uki.efi')));
  const qemu = predicted(uki, 'ovmf'), azure = predicted(uki, 'azure-trusted-launch');
  const ref = o.referenceBoot === false ? undefined : await referenceBoot(out, qemu, log);
  const containers = { [build.trainer.name]: build.trainer.id };
  const qemuPcrs = { ...(ref?.pcrs ?? {}), ...qemu };
  const policies: Record<string, Policy> = {
    'policy.json': { description: `aicert runner image (cpu), QEMU/OVMF flow${ref ? '' : ' (no reference boot: PCRs 0-7 not pinned)'}`, pcrs: { sha256: toPcrSets(qemuPcrs) }, containers: { [build.trainer.name]: [build.trainer.id] } },
    'policy-azure.json': { description: 'aicert runner image (cpu), Azure Trusted Launch flow (PCR 4/9/11 predicted)', pcrs: { sha256: toPcrSets(azure) }, containers: { [build.trainer.name]: [build.trainer.id] }, platformSubjects: ['.TrustedVM.Azure.Microsoft'] },
  };
  for (const [f, p] of Object.entries(policies)) await writeFile(join(out, f), json(policyToJson(p)));
  await writeFile(join(out, 'measurements_qemu.json'), json({ measurements: qemuPcrs }));
  await writeFile(join(out, 'measurements_azure.json'), json({ measurements: azure }));
  await writeFile(join(out, 'container_measurements.json'), json(containers));
  const names = ['uki.efi', 'disk.raw', 'disk.vhd', 'build.json', 'policy.json', 'policy-azure.json', 'measurements_qemu.json', 'measurements_azure.json', 'container_measurements.json',
    ...(ref ? ['reference/binary_bios_measurements', 'reference/pcrs.txt'] : [])];
  const artifacts: Record<string, { size: number; sha256: string }> = {};
  for (const n of names) artifacts[n] = await digest(join(out, n));
  const manifest: ImageManifest = {
    schema: 'aicert/runner-image/v1',
    profile: 'cpu',
    build_time: new Date(build.source_date_epoch * 1000).toISOString(),
    source_date_epoch: build.source_date_epoch,
    packages: build.packages,
    unpinned: build.unpinned,
    kernel_cmdline: build.cmdline,
    trainer: build.trainer,
    inputs: build.inputs,
    golden: { qemu: qemuPcrs, azure, reference_boot: ref ? { machine: 'qemu q35, OVMF_CODE_4M.fd, swtpm tpm-tis, virtio-blk, virtio-net (no ROM)' } : null },
    artifacts,
  };
  await writeFile(join(out, 'manifest.json'), json(manifest));
  return { manifest, ...(ref ? { referenceBootSeconds: ref.bootSeconds } : {}) };
}
