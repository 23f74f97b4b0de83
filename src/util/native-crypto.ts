/**
 * The runtime's own node:crypto where it hands the module out without an import (`process.getBuiltinModule`,
 * Node ≥ 20.16, Deno, Bun); null elsewhere (browsers). Looked up at run time, never imported, so browser-safe code
 * can use OpenSSL's hashes in Node while the browser bundle keeps its JavaScript ones.
 */

/** The part of node:crypto the hashers use. */
export interface RuntimeCrypto {
  createHash(alg: string): { update(b: Uint8Array): unknown; digest(): Uint8Array };
}

let found: RuntimeCrypto | null | undefined;

/** node:crypto from process.getBuiltinModule, or null when the runtime offers none (looked up once). */
export function runtimeCrypto(): RuntimeCrypto | null {
  if (found !== undefined) return found;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const m = proc?.getBuiltinModule?.('node:crypto') as RuntimeCrypto | undefined;
    found = m && typeof m.createHash === 'function' ? m : null;
  } catch {
    found = null;
  }
  return found;
}
