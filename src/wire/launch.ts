/**
 * The launch nonce the launcher puts into the VM's ARM userData and the runner reads from IMDS
 * (spec/runner-protocol.md §Launch nonce). No Node APIs beyond Buffer-free base64 and TextDecoder.
 */
import { MalformedInputError } from '../errors.js';
import { readJson } from '../util/json.js';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (h: string): Uint8Array => new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));

/** userData for the VM: base64 of {"aicert_launch":{"version":1,"run_id":…,"nonce":<64 hex>}}. */
export function launchUserData(runId: string, nonce: Uint8Array): string {
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) throw new TypeError('launch nonce must be 32 bytes');
  const doc = { aicert_launch: { version: 1, run_id: runId, nonce: toHex(nonce) } };
  return btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(doc))));
}

/** Reads launchUserData's output back (for the runner); MalformedInputError with a field path when it is not one. */
export function parseLaunchUserData(b64: string): { runId: string; nonce: Uint8Array } {
  // Strict base64 first: lenient decoders silently drop characters outside the alphabet.
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0)
    throw new MalformedInputError('launch userData is not base64', { path: 'userData' });
  let v: { aicert_launch?: { version?: unknown; run_id?: unknown; nonce?: unknown } } | null;
  try {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    v = readJson(bytes, 'launch userData') as typeof v;
  } catch (e) {
    throw new MalformedInputError('launch userData is not UTF-8 JSON', { path: 'userData' }, { cause: e });
  }
  const l = v !== null && typeof v === 'object' ? v.aicert_launch : undefined;
  if (!l || typeof l !== 'object') throw new MalformedInputError('not aicert launch userData', { path: 'userData.aicert_launch' });
  if (l.version !== 1) throw new MalformedInputError('unsupported launch userData version', { path: 'userData.aicert_launch.version' });
  if (typeof l.run_id !== 'string' || !RUN_ID.test(l.run_id))
    throw new MalformedInputError('run_id is not a run identifier', { path: 'userData.aicert_launch.run_id' });
  if (typeof l.nonce !== 'string' || !/^[0-9a-f]{64}$/.test(l.nonce))
    throw new MalformedInputError('nonce is not 32 bytes of lowercase hex', { path: 'userData.aicert_launch.nonce' });
  return { runId: l.run_id, nonce: fromHex(l.nonce) };
}
