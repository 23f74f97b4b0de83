/**
 * Node's OpenSSL hashes for the synchronous hash() of src/util/hash.ts: the same digests as the JavaScript ones,
 * without running (and, at a cold start, interpreting) them in JavaScript. SM3 stays in JavaScript.
 */
import { createHash } from 'node:crypto';
import { setNativeHash, type HashName } from '../util/hash.js';

const OPENSSL: Partial<Record<HashName, string>> = { sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', sha3_256: 'sha3-256', sha3_384: 'sha3-384', sha3_512: 'sha3-512' };

/** Makes hash() use node:crypto for the algorithms above (a plain Uint8Array copy of each digest). */
export function useNodeHashes(): void {
  setNativeHash((name, data) => {
    const algo = OPENSSL[name];
    return algo ? new Uint8Array(createHash(algo).update(data).digest()) : undefined;
  });
}
