// The launcher's ConfidentialVM option: config/env validation against the VM size family, and the ARM security
// profile (Azure's documented shape for confidential VMs: securityType ConfidentialVM, vTPM on, VMGuestStateOnly).
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveAzureSettings } from '../src/launcher/config.js';
import { checkSecurityType, securityProfile } from '../src/launcher/confidential.js';

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
});
