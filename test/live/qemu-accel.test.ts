/**
 * The local boot's accelerator choice (src/launcher/qemu-accel.ts): an override is honoured or refused, and the KVM
 * probe is bounded and leaves no QEMU behind whatever the host's KVM does (here it may hang silently).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KVM_PROBE_MS, kvmBootsOvmf } from '../../src/launcher/qemu-accel.js';
import { OVMF_CODE, OVMF_VARS } from '../../src/launcher/qemu.js';

const has = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status === 0;
const canProbe = has('qemu-system-x86_64') && existsSync(OVMF_CODE) && existsSync('/dev/kvm');
if (!canProbe) console.warn('NOTICE: qemu-system-x86_64, OVMF or /dev/kvm absent; the KVM probe test is skipped.');

/** A fresh copy of the module, so that the per-process choice starts empty. */
async function freshAccel() {
  vi.resetModules();
  return (await import('../../src/launcher/qemu-accel.js')).qemuAccel;
}

describe('QEMU accelerator choice', () => {
  afterEach(() => {
    delete process.env.AICERT_QEMU_ACCEL;
  });

  it('honours AICERT_QEMU_ACCEL=tcg and =kvm without probing', async () => {
    process.env.AICERT_QEMU_ACCEL = 'tcg';
    expect(await (await freshAccel())('/nonexistent/code.fd', '/nonexistent/vars.fd')).toBe('tcg');
    process.env.AICERT_QEMU_ACCEL = 'kvm';
    expect(await (await freshAccel())('/nonexistent/code.fd', '/nonexistent/vars.fd')).toBe('kvm');
  });

  it('refuses any other value of AICERT_QEMU_ACCEL', async () => {
    process.env.AICERT_QEMU_ACCEL = 'hvf';
    await expect((await freshAccel())(OVMF_CODE, OVMF_VARS)).rejects.toThrow(/kvm or tcg/);
  });

  it.skipIf(!canProbe)('the KVM probe answers within its bound and stops its QEMU', { timeout: KVM_PROBE_MS + 20_000 }, async () => {
    const ok = await kvmBootsOvmf(OVMF_CODE, OVMF_VARS, KVM_PROBE_MS);
    expect(typeof ok).toBe('boolean');
    const left = spawnSync('pgrep', ['-f', 'aicert-kvm-probe-'], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
    console.log(`KVM probe on this host: ${ok ? 'OVMF boots under KVM' : 'KVM unusable, TCG will be used'}`);
  });
});
