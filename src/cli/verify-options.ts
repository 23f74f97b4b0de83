/**
 * The verification flags shared by `aicert verify` and `aicert export` (spec/cli.md §aicert-verify, §aicert export): one parser, so
 * a document is exported only under the same rules it is verified under.
 */
import type { VerifyAibomOptions } from '../aibom/types.js';
import { tryFromHex } from '../util/bytes.js';
import { tryParseIsoTime } from '../util/time.js';
import { readInput, usageError } from './io.js';
import { readHardwareRoots, readTrustStores } from './quote-inputs.js';
import { safe } from './text.js';

/** parseArgs options of the verification flags. */
export const VERIFY_FLAGS = {
  'trust-root': { type: 'string', multiple: true },
  measurements: { type: 'string' },
  containers: { type: 'string' },
  policy: { type: 'string' },
  nonce: { type: 'string' },
  at: { type: 'string' },
  'trust-store': { type: 'string', multiple: true },
  'no-require-aik-eku': { type: 'boolean' },
  'amd-roots': { type: 'string', multiple: true },
  'intel-root': { type: 'string', multiple: true },
  'allow-unchecked-platform': { type: 'boolean' },
  'allow-simulation': { type: 'boolean' },
} as const;

/** Values parseArgs gives for VERIFY_FLAGS. */
export interface VerifyFlagValues {
  'trust-root'?: string[];
  measurements?: string;
  containers?: string;
  policy?: string;
  nonce?: string;
  at?: string;
  'trust-store'?: string[];
  'no-require-aik-eku'?: boolean;
  'amd-roots'?: string[];
  'intel-root'?: string[];
  'allow-unchecked-platform'?: boolean;
  'allow-simulation'?: boolean;
}

/** Whether any verification flag was given. */
export const anyVerifyFlag = (o: VerifyFlagValues): boolean => Object.keys(VERIFY_FLAGS).some((k) => o[k as keyof VerifyFlagValues] !== undefined);

/** VerifyAibomOptions from the flags (files read, hex and times parsed strictly); bad values are usage errors. */
export function verifyOptionsFrom(o: VerifyFlagValues, usage: string): VerifyAibomOptions {
  const opts: VerifyAibomOptions = {};
  if (o.nonce !== undefined) {
    const n = tryFromHex(o.nonce);
    if (!n || n.length === 0) throw usageError(`--nonce must be hex, got '${safe(o.nonce, 80)}'`, usage);
    opts.nonce = n;
  }
  if (o.at !== undefined) {
    const at = tryParseIsoTime(o.at);
    if (!at) throw usageError(`--at must be an ISO 8601 time, got '${safe(o.at, 80)}'`, usage);
    opts.at = at;
  }
  if (o['trust-root']) opts.trustAnchors = o['trust-root'].map((p) => readInput(p, 'trust root'));
  // Named stores whose anchors carry their own EKU rule (spec/confidential-vms.md §7).
  const stores = readTrustStores(o['trust-store']);
  if (stores) opts.anchorRules = stores;
  if (o['no-require-aik-eku']) opts.requireAikEku = false;
  // Confidential-VM hardware roots: only the configured ones (spec/confidential-vms.md §Hardware roots).
  const hw = readHardwareRoots(o, opts.trustAnchors !== undefined || stores !== undefined);
  opts.amdRoots = hw.amd;
  opts.intelRoots = hw.intel;
  if (o.measurements) opts.measurements = readInput(o.measurements, 'measurements file');
  if (o.containers) opts.containers = readInput(o.containers, 'containers file');
  if (o.policy) opts.policy = readInput(o.policy, 'policy file');
  if (o['allow-unchecked-platform']) opts.allowUncheckedPlatform = true;
  if (o['allow-simulation']) opts.allowSimulation = true;
  return opts;
}
