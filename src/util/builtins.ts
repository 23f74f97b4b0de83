/**
 * The runtime's own node:crypto and node:buffer where it hands them out without an import
 * (`process.getBuiltinModule`, Node ≥ 20.16, Deno, Bun); null elsewhere (browsers). Looked up at run time, never
 * imported, so browser-safe code can use native hashing and base64 in Node while the browser keeps its JavaScript.
 */

/** The part of node:crypto the hashers use. */
export interface RuntimeCrypto {
  createHash(alg: string): { update(b: Uint8Array): unknown; digest(): Uint8Array };
}

/** The part of node:buffer's Buffer the base64 reader uses. */
export interface RuntimeBuffer {
  from(s: string, enc: 'base64'): Uint8Array & { toString(enc: 'base64'): string };
}

const found = new Map<string, unknown>();

/** A builtin module's export `key` when it is a function, else null (looked up once per module). */
function builtin(id: string, key: string): unknown {
  if (found.has(id)) return found.get(id)!;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  let m: unknown = null;
  try {
    m = proc?.getBuiltinModule?.(id) ?? null;
  } catch {
    m = null;
  }
  const ok = m !== null && typeof (m as Record<string, unknown>)[key] === 'function' ? m : null;
  found.set(id, ok);
  return ok;
}

/** node:crypto from process.getBuiltinModule, or null when the runtime offers none. */
export function runtimeCrypto(): RuntimeCrypto | null {
  return builtin('node:crypto', 'createHash') as RuntimeCrypto | null;
}

/** node:buffer's Buffer from process.getBuiltinModule, or null when the runtime offers none. */
export function runtimeBuffer(): RuntimeBuffer | null {
  const m = builtin('node:buffer', 'Buffer') as { Buffer: RuntimeBuffer } | null;
  return m ? m.Buffer : null;
}
