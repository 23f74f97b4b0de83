/**
 * Azure confidential VMs as a launcher option next to Trusted Launch (spec/confidential-vms.md): `securityType:
 * ConfidentialVM` on a VM size family that has it (SEV-SNP: DCas/ECas/DCads/ECads v5+, NCCads_H100_v5; TDX:
 * DCes/ECes/DCeds/ECeds v5+), vTPM on, and the VM guest state encrypted with the platform key. The runner then reads
 * the HCL report from vTPM NV index 0x01400001 and includes it in the AIBOM (`evidence.cvm`).
 */
export type SecurityType = 'TrustedLaunch' | 'ConfidentialVM';

const CONFIDENTIAL_SIZES = [/^Standard_(DC|EC)\d+(as|ads|es|eds)_v[56]$/i, /^Standard_NCC\d+ads_H100_v5$/i];

/** Undefined when the size can run the security type, else the reason. */
export function checkSecurityType(securityType: SecurityType, vmSize: string): string | undefined {
  if (securityType === 'TrustedLaunch') return undefined;
  return CONFIDENTIAL_SIZES.some((r) => r.test(vmSize))
    ? undefined
    : `securityType ConfidentialVM needs a confidential VM size (e.g. Standard_DC4as_v5, Standard_DC4es_v5, Standard_NCC40ads_H100_v5), got ${JSON.stringify(vmSize)}`;
}

/** The ARM `securityProfile` of the VM and the extra `managedDisk` settings of its OS disk. */
export function securityProfile(securityType: SecurityType, secureBoot: boolean): { profile: Record<string, unknown>; managedDisk: Record<string, unknown> } {
  const uefiSettings = { secureBootEnabled: secureBoot, vTpmEnabled: true };
  if (securityType === 'ConfidentialVM') {
    return { profile: { securityType: 'ConfidentialVM', uefiSettings }, managedDisk: { securityProfile: { securityEncryptionType: 'VMGuestStateOnly' } } };
  }
  return { profile: { securityType: 'TrustedLaunch', uefiSettings }, managedDisk: {} };
}
