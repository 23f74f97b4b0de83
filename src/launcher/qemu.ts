/**
 * Boots the runner image locally (spec/runner-image.md §Local mode): QEMU q35 + OVMF + swtpm, TCG (KVM when
 * a probe shows it boots OVMF, src/launcher/qemu-accel.ts), the image's raw disk read-only, the runner's port 443 forwarded to a loopback port, the launch
 * nonce and the input mirror passed through fw_cfg (not measured: the runner measures both). The machine is the same
 * for the reference boot of `aicert image build` and for `aicert finetune --qemu`, so PCRs 0-7 match. QEMU and swtpm
 * are stopped by PID on every path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { qemuAccel, type QemuAccel } from './qemu-accel.js';
import { freePort, startVmTpm, stopProcess, type VmTpm } from './qemu-tpm.js';
import { ToolError } from '../wire/tool-error.js';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
/** Guest memory and vCPUs: part of the machine, hence of the golden PCRs 0-7; keep them fixed. */
const MEMORY_MIB = 2048;
const MAC = '52:54:00:a1:ce:01';

export interface BootOptions {
  /** `aicert image build` output folder (disk.raw). */
  imageDir: string;
  /** Launch nonce (lowercase hex) passed as fw_cfg opt/aicert/nonce. */
  nonceHex: string;
  /** A tar of the model/dataset mirror (fw_cfg opt/aicert/mirror.tar); default an empty tar. */
  mirrorTar?: string;
  /** Loopback port for the runner (default a free one). */
  hostPort?: number;
  /** Stop once the boot evidence is on the console (reference boot) instead of waiting for the runner. */
  evidenceOnly?: boolean;
  /** Give up after this long (default 15 min: TCG is slow). */
  timeoutMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface BootedVm {
  /** https://127.0.0.1:PORT (absent for evidenceOnly). */
  url?: string;
  /** Throwaway AK root of this run's TPM (PEM). */
  trustRootPem: string;
  /** Framed files the guest printed: binary_bios_measurements, pcrs.txt. */
  evidence: Map<string, Uint8Array>;
  /** Seconds from QEMU start to the runner's READY (or to the evidence). */
  bootSeconds: number;
  serial(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Framed blocks `@@AICERT BEGIN name` / base64 / `@@AICERT END name sha256` of a serial log; checks each digest. One
 * pass over the lines (the log is the guest's and is read again at every poll): a BEGIN line opens a block (replacing
 * one never closed), the END line of the same name closes it.
 */
export function parseFramedBlocks(serial: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let open: { name: string; body: string[] } | undefined;
  for (const raw of serial.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const begin = /^@@AICERT BEGIN (\S+)$/.exec(line);
    if (begin) {
      open = { name: begin[1]!, body: [] };
      continue;
    }
    if (!open) continue;
    const end = line.startsWith(`@@AICERT END ${open.name} `) ? /^([0-9a-f]{64})$/.exec(line.slice(14 + open.name.length)) : null;
    if (!end) {
      open.body.push(line);
      continue;
    }
    // a closed block: its bytes must have the digest the END line states
    const bytes = new Uint8Array(Buffer.from(open.body.join('').replace(/\s+/g, ''), 'base64'));
    if (createHash('sha256').update(bytes).digest('hex') !== end[1]) throw new ToolError('TRANSFER_CORRUPTED', `serial transfer corrupted ${open.name}`);
    out.set(open.name, bytes);
    open = undefined;
  }
  return out;
}

/** The QEMU argument list (one machine for every boot of the image). */
function qemuArgs(accel: QemuAccel, disk: string, vars: string, sock: string, serial: string, port: number, nonceHex: string, mirror: string): string[] {
  return [
    '-nodefaults', '-no-user-config', '-machine', 'q35', '-accel', accel, '-smp', '1', '-m', String(MEMORY_MIB),
    '-display', 'none', '-no-reboot',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
    '-chardev', `socket,id=tpmc,path=${sock}`, '-tpmdev', 'emulator,id=tpm0,chardev=tpmc', '-device', 'tpm-tis,tpmdev=tpm0',
    '-drive', `if=none,id=disk,format=raw,readonly=on,file=${disk}`, '-device', 'virtio-blk-pci,drive=disk,bootindex=0',
    // no option ROM: the NIC adds no code to PCR 2
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:443`, '-device', `virtio-net-pci,netdev=n0,mac=${MAC},romfile=`,
    '-fw_cfg', `name=opt/aicert/nonce,string=${nonceHex}`, '-fw_cfg', `name=opt/aicert/mirror.tar,file=${mirror}`,
    '-serial', `file:${serial}`,
  ];
}

/** Boots the image; resolves once the runner printed READY (or the evidence is complete). */
export async function bootImage(o: BootOptions): Promise<BootedVm> {
  const log = o.log ?? (() => undefined);
  if (!/^[0-9a-f]{2,128}$/.test(o.nonceHex)) throw new TypeError('nonceHex must be lowercase hex');
  const disk = resolve(o.imageDir, 'disk.raw');
  for (const f of [disk, OVMF_CODE, OVMF_VARS]) if (!existsSync(f)) throw new ToolError('INPUT_MISSING', `missing ${f}`);
  const work = await mkdtemp(join(tmpdir(), 'aicert-qemu-'));
  let tpm: VmTpm | undefined, qemu: ChildProcess | undefined;
  const serialFile = join(work, 'serial.log');
  const serial = () => readFile(serialFile, 'latin1').catch(() => '');
  const stop = async () => {
    await stopProcess(qemu);
    await tpm?.stop();
    await rm(work, { recursive: true, force: true });
  };
  try {
    tpm = await startVmTpm(work);
    copyFileSync(OVMF_VARS, join(work, 'vars.fd'));
    const mirror = o.mirrorTar ?? join(work, 'empty.tar');
    if (!o.mirrorTar) await writeFile(mirror, Buffer.alloc(10240));
    const port = o.hostPort ?? (await freePort());
    const t0 = Date.now();
    const accel = await qemuAccel(OVMF_CODE, OVMF_VARS);
    log(`booting ${disk} (${accel.toUpperCase()}), runner on 127.0.0.1:${port}`);
    qemu = spawn('qemu-system-x86_64', qemuArgs(accel, disk, join(work, 'vars.fd'), tpm.socket, serialFile, port, o.nonceHex, mirror), { stdio: ['ignore', 'ignore', 'pipe'] });
    let qemuErr = '';
    qemu.stderr!.setEncoding('utf8').on('data', (d: string) => (qemuErr += d));
    const end = t0 + (o.timeoutMs ?? 900_000);
    for (;;) {
      o.signal?.throwIfAborted();
      const text = await serial();
      const failed = /^@@AICERT (FAILED .*|STOPPED .*)$/m.exec(text);
      if (failed) throw new ToolError('VM_BOOT_FAILED', `the image failed to start: ${failed[1]}\n${text.slice(-2000)}`);
      if (/Shell> /.test(text)) throw new ToolError('VM_BOOT_FAILED', 'OVMF could not boot the image (UEFI shell)');
      const evidence = /^@@AICERT END pcrs\.txt /m.test(text);
      const ready = /^READY (https:\/\/\S+)/m.exec(text);
      if ((o.evidenceOnly && evidence) || ready) {
        const bootSeconds = (Date.now() - t0) / 1000;
        log(`${ready ? 'runner ready' : 'boot evidence received'} after ${bootSeconds.toFixed(1)} s`);
        return { ...(ready ? { url: `https://127.0.0.1:${port}` } : {}), trustRootPem: tpm.rootPem, evidence: parseFramedBlocks(text), bootSeconds, serial, stop };
      }
      if (qemu.exitCode !== null) throw new ToolError('PROCESS_FAILED', `qemu exited (${qemu.exitCode}): ${qemuErr.trim()}\n${text.slice(-2000)}`);
      if (Date.now() > end) throw new ToolError('TIMEOUT', `the VM did not become ready within ${((o.timeoutMs ?? 900_000) / 1000).toFixed(0)} s\n${text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    await stop();
    throw e;
  }
}
