// The launcher's ConfidentialVM option: config/env validation against the VM size family, and the ARM security
// profile (Azure's documented shape for confidential VMs: securityType ConfidentialVM, vTPM on, VMGuestStateOnly).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArmClient } from '../src/launcher/arm.js';
import { ConfigError, resolveAzureSettings } from '../src/launcher/config.js';
import { checkSecurityType, securityProfile } from '../src/launcher/confidential.js';
import { createRun, provision, teardown } from '../src/launcher/provision.js';
import { startFakeArm } from './helpers/fake-arm.js';

const SUB = '0b7e3a42-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const IMAGE = `/subscriptions/${SUB}/resourceGroups/imgs/providers/Microsoft.Compute/galleries/g1/images/os/versions/1.0.0`;
const env = { AZURE_SUBSCRIPTION_ID: SUB, AZURE_RESOURCE_GROUP: 'rg', AZURE_LOCATION: 'westeurope', AZURE_IMAGE_ID: IMAGE };

describe('ConfidentialVM option', () => {
  it('defaults to Trusted Launch; AZURE_SECURITY_TYPE=ConfidentialVM needs a confidential size', () => {
    expect(resolveAzureSettings(undefined, env).securityType).toBeUndefined();
    expect(() => resolveAzureSettings(undefined, { ...env, AZURE_SECURITY_TYPE: 'ConfidentialVM' })).toThrow(ConfigError);
    const s = resolveAzureSettings(undefined, { ...env, AZURE_SECURITY_TYPE: 'ConfidentialVM', AZURE_VM_SIZE: 'Standard_NCC40ads_H100_v5' });
    expect(s.securityType).toBe('ConfidentialVM');
    expect(() => resolveAzureSettings(undefined, { ...env, AZURE_SECURITY_TYPE: 'Confidential' })).toThrow(/TrustedLaunch or ConfidentialVM/);
  });
  it('size families: SEV-SNP (DCas/ECas/DCads v5, NCCads H100) and TDX (DCes/ECes v5) pass, others fail', () => {
    for (const ok of ['Standard_DC4as_v5', 'Standard_EC16ads_v5', 'Standard_DC8es_v5', 'Standard_EC4eds_v5', 'Standard_NCC40ads_H100_v5']) expect(checkSecurityType('ConfidentialVM', ok), ok).toBeUndefined();
    for (const bad of ['Standard_NC24ads_A100_v4', 'Standard_D4s_v5', 'Standard_DC4s_v3']) expect(checkSecurityType('ConfidentialVM', bad), bad).toMatch(/confidential VM size/);
  });
  it('ARM body: ConfidentialVM security profile with vTPM and VMGuestStateOnly disk encryption; Trusted Launch unchanged', () => {
    expect(securityProfile('ConfidentialVM', true)).toEqual({
      profile: { securityType: 'ConfidentialVM', uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
      managedDisk: { securityProfile: { securityEncryptionType: 'VMGuestStateOnly' } },
    });
    expect(securityProfile('TrustedLaunch', false)).toEqual({ profile: { securityType: 'TrustedLaunch', uefiSettings: { secureBootEnabled: false, vTpmEnabled: true } }, managedDisk: {} });
  });
  it('end to end through the loopback ARM fake: the VM PUT carries the ConfidentialVM profile and the disk its encryption type; teardown removes all', async () => {
    const fake = await startFakeArm({ resourceGroups: ['rg'] });
    const home = mkdtempSync(join(tmpdir(), 'aicert-cvm-home-'));
    try {
      const arm = new ArmClient({ endpoint: fake.url, credential: fake.credential, fetch: fake.fetch, minPollIntervalMs: 5, pollIntervalMs: 5, baseDelayMs: 5, maxDelayMs: 20 });
      const azure = { ...resolveAzureSettings(undefined, { ...env, AZURE_SECURITY_TYPE: 'ConfidentialVM', AZURE_VM_SIZE: 'Standard_NCC40ads_H100_v5' }), secureBoot: true };
      const run = await createRun(arm, azure, { home, config: 'aicert.yaml' });
      await provision({ arm, azure, run, nonce: randomBytes(32), callerIp: '203.0.113.7' });
      const vm = fake.requests.find((q) => q.method === 'PUT' && q.path.endsWith('-vm'))!.body;
      expect(vm.properties.hardwareProfile.vmSize).toBe('Standard_NCC40ads_H100_v5');
      expect(vm.properties.securityProfile).toEqual({ securityType: 'ConfidentialVM', uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } });
      expect(vm.properties.storageProfile.osDisk.managedDisk.securityProfile).toEqual({ securityEncryptionType: 'VMGuestStateOnly' });
      expect((await teardown(run, arm, { conflictDelayMs: 100 })).failed).toEqual([]);
      expect(fake.resources()).toEqual([]);
    } finally {
      await fake.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
