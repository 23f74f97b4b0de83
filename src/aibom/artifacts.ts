/**
 * Artifact checks in the core (browsers too): each given output is hashed with @noble/hashes SHA-256, streaming, and
 * matched against the bound output digests (OMS-style report: matched, missing, extra, mismatched). For large weights
 * in Node use the CLI (`aicert-verify --model`) or `aicert/node`, which hash with node:crypto on worker threads.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../util/bytes.js';
import type { ArtifactReport, ArtifactSource } from './types.js';

/** Whole-file SHA-256 of bytes or a (async) iterable of chunks. */
export async function sha256Of(src: ArtifactSource): Promise<string> {
  if (src instanceof Uint8Array) return toHex(sha256(src));
  const h = sha256.create();
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
  const digests = new Set(expected.map((e) => e.sha256.toLowerCase()));
  const seen = new Set<string>();
  for (const [name, src] of Object.entries(given)) {
    const d = await sha256Of(src);
    const want = byName.get(name);
    if (want !== undefined) {
      (want === d ? rep.matched : rep.mismatched).push(name);
      if (want === d) seen.add(name);
    } else if (digests.has(d)) {
      rep.matched.push(name);
      for (const e of expected) if (e.sha256.toLowerCase() === d) seen.add(e.name);
    } else {
      rep.extra.push(name);
    }
  }
  rep.missing = expected.filter((e) => !seen.has(e.name)).map((e) => e.name);
  rep.ok = rep.matched.length > 0 && rep.mismatched.length === 0 && rep.extra.length === 0;
  return rep;
}
