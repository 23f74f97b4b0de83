/**
 * Picks QEMU's accelerator for the local boot (spec/runner-image.md §6). /dev/kvm can be present and open yet unable to
 * run OVMF (nested virtualisation without the CPU features it needs: "KVM internal error", then a silent hang), so KVM
 * is used only when a probe boot of OVMF under KVM prints on its serial console within a bound; TCG otherwise.
 * `AICERT_QEMU_ACCEL=kvm|tcg` overrides the probe. The answer is kept for the process.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, copyFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from './qemu-tpm.js';

export type QemuAccel = 'kvm' | 'tcg';

/** How long the probe waits for OVMF's first serial byte under KVM (it prints within a second when KVM works). */
export const KVM_PROBE_MS = 10_000;

let chosen: Promise<QemuAccel> | undefined;

/** The accelerator every boot of this process uses. */
export function qemuAccel(ovmfCode: string, ovmfVars: string): Promise<QemuAccel> {
  chosen ??= pick(ovmfCode, ovmfVars);
  return chosen;
}

async function pick(ovmfCode: string, ovmfVars: string): Promise<QemuAccel> {
  // An explicit choice wins; anything else in the variable is a configuration error.
  const forced = process.env.AICERT_QEMU_ACCEL;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'kvm' && forced !== 'tcg') throw new TypeError(`AICERT_QEMU_ACCEL must be kvm or tcg, not ${JSON.stringify(forced)}`);
    return forced;
  }
  // No usable device node: TCG without probing.
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  return (await kvmBootsOvmf(ovmfCode, ovmfVars, KVM_PROBE_MS)) ? 'kvm' : 'tcg';
}

/** Boots OVMF alone under KVM and reports whether its serial console printed anything within `ms`. */
export async function kvmBootsOvmf(ovmfCode: string, ovmfVars: string, ms: number): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'aicert-kvm-probe-'));
  const serial = join(dir, 'serial.log');
  copyFileSync(ovmfVars, join(dir, 'vars.fd'));
  const child = spawn('qemu-system-x86_64', [
    '-nodefaults', '-no-user-config', '-machine', 'q35', '-accel', 'kvm', '-m', '256', '-display', 'none', '-no-reboot',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${ovmfCode}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${join(dir, 'vars.fd')}`, '-serial', `file:${serial}`,
  ], { stdio: 'ignore' });
  child.on('error', () => undefined);
  try {
    // Poll the serial file until OVMF writes to it, QEMU exits, or the bound passes.
    const end = Date.now() + ms;
    while (Date.now() < end && child.exitCode === null) {
      if ((await stat(serial).catch(() => undefined))?.size) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    await stopProcess(child, 1000);
    await rm(dir, { recursive: true, force: true });
  }
}
