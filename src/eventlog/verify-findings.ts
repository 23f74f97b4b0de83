/**
 * Policy findings on verified events (they do not make verifyLog fail; a policy decides what to do with them).
 * Separator and PCR 7 state checks follow go-attestation secureboot.go; data-digest checks follow systemd-pcrlock.
 * TCG PC Client Platform Firmware Profile r1.06 §3.3.4.8 (PCR 7), §10.4.1 (EV_SEPARATOR)
 * https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/
 * Event types are not covered by any digest: findings that depend on a type say so in their message.
 */
import { bytesEqual } from '../util/bytes.js';
import { digestSize, hash, hashName } from '../util/hash.js';
import { looksText, looksUtf16 } from './decode-util.js';
import { TCG_EV } from './names.js';
import type { LogEvent } from './types.js';

/** Stable finding codes. */
export type FindingCode =
  | 'DUPLICATE_SEPARATOR'
  | 'SEPARATOR_ERROR'
  | 'SEPARATOR_NONZERO'
  | 'PCR7_EVENT_AFTER_SEPARATOR'
  | 'EVENT_DATA_DIGEST_MISMATCH';

/** One policy finding. */
export interface PolicyFinding {
  code: FindingCode;
  /** 'warning' for states secure-boot policies reject; 'info' for normal-but-notable ones (shim authority events). */
  severity: 'warning' | 'info';
  pcr: number;
  eventIndex: number;
  message: string;
}

/** Types whose digest must be H(event data) (systemd-pcrlock checks these strictly). */
const DATA_HASHED = new Set<number>([
  TCG_EV.EV_SEPARATOR,
  TCG_EV.EV_EFI_ACTION,
  TCG_EV.EV_EFI_GPT_EVENT,
  TCG_EV.EV_EFI_VARIABLE_DRIVER_CONFIG,
  TCG_EV.EV_S_CRTM_VERSION,
]);

/** systemd-boot's EV_IPL strings are UTF-16LE and hashed as stored; grub's ASCII EV_IPL strings are not. */
const hashedAsStored = (e: LogEvent) => DATA_HASHED.has(e.type) || (e.type === TCG_EV.EV_IPL && !looksText(e.data) && looksUtf16(e.data));

/** Findings for a list of verified, extending events. */
export function policyFindings(events: readonly LogEvent[]): PolicyFinding[] {
  const out: PolicyFinding[] = [];
  const seenSeparator = new Map<number, number>();
  for (const e of events) {
    const f = (code: FindingCode, message: string, severity: PolicyFinding['severity'] = 'warning') =>
      out.push({ code, severity, pcr: e.pcr, eventIndex: e.index, message });
    // PCR 7 after its separator: only authority events are expected (shim); anything else breaks secure-boot state.
    const sepAt = seenSeparator.get(e.pcr);
    if (e.pcr === 7 && sepAt !== undefined && e.type !== TCG_EV.EV_SEPARATOR) {
      const auth = e.type === TCG_EV.EV_EFI_VARIABLE_AUTHORITY;
      f('PCR7_EVENT_AFTER_SEPARATOR', `event ${e.index} (${e.typeName}, type untrusted) follows the PCR 7 separator (event ${sepAt})`, auth ? 'info' : 'warning');
    }
    if (e.type === TCG_EV.EV_SEPARATOR) {
      if (sepAt !== undefined) f('DUPLICATE_SEPARATOR', `event ${e.index}: second separator in PCR ${e.pcr} (first: event ${sepAt})`);
      else seenSeparator.set(e.pcr, e.index);
      const d = e.data;
      const v = d.length === 4 ? (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0 : undefined;
      if (v === 1 || v === 0xffffffff) f('SEPARATOR_ERROR', `event ${e.index}: separator in PCR ${e.pcr} signals a firmware error`);
      else if (v !== 0) f('SEPARATOR_NONZERO', `event ${e.index}: separator data in PCR ${e.pcr} is not 00000000`);
    }
    // Where the digest must be H(data), say when the data shown is not what was measured.
    if (hashedAsStored(e)) {
      const bad = e.digests.filter((d) => digestSize(d.alg) !== undefined && !bytesEqual(hash(d.alg, e.data), d.digest)).map((d) => hashName(d.alg));
      if (bad.length) f('EVENT_DATA_DIGEST_MISMATCH', `event ${e.index} (${e.typeName}): ${bad.join(', ')} digest is not the hash of its data; the decoded data is not what was measured`);
    }
  }
  return out;
}
