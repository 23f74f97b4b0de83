/**
 * Artifact checks in the core (browsers too): each given output is hashed with SHA-256, streaming, and matched
 * against the bound output digests (OMS-style report: matched, missing, extra, mismatched).
 * Hasher: where the runtime offers `process.getBuiltinModule('node:crypto')` (Node ≥ 20.16, Deno, Bun), its native
 * createHash (about 1.5 GB/s here); otherwise @noble/hashes (pure JS, about 150-200 MB/s). The module is looked up at
 * run time, never imported, so the core stays free of Node imports and the browser bundle is unchanged. Whole
 * folders in Node: `aicert/node` (verifyArtifacts) adds worker threads and disk-speed reads.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../util/bytes.js';
import { runtimeCrypto } from '../util/builtins.js';
import type { ArtifactReport, ArtifactSource } from './types.js';

interface Sha256Stream {
  update(b: Uint8Array): unknown;
  digest(): Uint8Array;
}
/** A streaming SHA-256: native where available, @noble/hashes otherwise. */
function createSha256(): Sha256Stream {
  const c = runtimeCrypto();
  return c ? c.createHash('sha256') : sha256.create();
}

/** Whole-file SHA-256 of bytes or a (async) iterable of chunks. */
export async function sha256Of(src: ArtifactSource): Promise<string> {
  const h = createSha256();
  if (src instanceof Uint8Array) {
    h.update(src);
    return toHex(h.digest());
  }
  if (Symbol.asyncIterator in src) {
    for await (const chunk of src as AsyncIterable<Uint8Array>) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError('artifact chunks must be Uint8Array');
      h.update(chunk);
    }
  } else if (Symbol.iterator in src) {
    for (const chunk of src as Iterable<Uint8Array>) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError('artifact chunks must be Uint8Array');
      h.update(chunk);
    }
  } else {
    throw new TypeError('an artifact must be a Uint8Array or an iterable of Uint8Array');
  }
  return toHex(h.digest());
}

/**
 * Hashes each named artifact and compares with the bound outputs. A name that is a bound output must have that
 * output's digest; any other name must match some bound digest by content (in-toto: subjects match by digest).
 * `ok` requires at least one artifact and every given artifact to match.
 */
export async function checkArtifacts(expected: { name: string; sha256: string }[], given: Record<string, ArtifactSource>): Promise<ArtifactReport> {
  const rep: ArtifactReport = { ok: false, matched: [], missing: [], extra: [], mismatched: [] };
  const byName = new Map(expected.map((e) => [e.name, e.sha256.toLowerCase()]));
  // digest -> the bound names with it (content matches are looked up, not searched: linear in the outputs)
  const digests = new Map<string, string[]>();
  for (const e of expected) {
    const d = e.sha256.toLowerCase();
    const names = digests.get(d);
    if (names) names.push(e.name);
    else digests.set(d, [e.name]);
  }
  const seen = new Set<string>();
  for (const [name, src] of Object.entries(given)) {
    const d = await sha256Of(src);
    const want = byName.get(name);
    if (want !== undefined) {
      (want === d ? rep.matched : rep.mismatched).push(name);
      if (want === d) seen.add(name);
    } else if (digests.has(d)) {
      rep.matched.push(name);
      for (const n of digests.get(d)!) seen.add(n);
    } else {
      rep.extra.push(name);
    }
  }
  rep.missing = expected.filter((e) => !seen.has(e.name)).map((e) => e.name);
  rep.ok = rep.matched.length > 0 && rep.mismatched.length === 0 && rep.extra.length === 0;
  return rep;
}
