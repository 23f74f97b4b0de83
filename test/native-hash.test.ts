// The CLI routes the synchronous hash() through node:crypto (src/node/native-hash.ts): every algorithm must give
// the digest openssl gives for the same bytes, and SM3 (not offered) must stay on the JavaScript implementation.
import { execFileSync } from 'node:child_process';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { useNodeHashes } from '../src/node/native-hash.js';
import { hash, setNativeHash, TPM_ALG } from '../src/util/hash.js';
import { toHex } from '../src/util/bytes.js';
import { runtimeCrypto } from '../src/util/builtins.js';

const data = new TextEncoder().encode('aicert native hash check\n'.repeat(100));
const openssl = (alg: string): string => execFileSync('openssl', ['dgst', `-${alg}`, '-r'], { input: data, encoding: 'utf8' }).slice(0, -1).split(' ')[0]!;

afterAll(() => setNativeHash(undefined));

describe('hash() on node:crypto', () => {
  const algs: Array<[number, string]> = [[TPM_ALG.SHA1, 'sha1'], [TPM_ALG.SHA256, 'sha256'], [TPM_ALG.SHA384, 'sha384'], [TPM_ALG.SHA512, 'sha512'], [TPM_ALG.SHA3_256, 'sha3-256'], [TPM_ALG.SHA3_384, 'sha3-384'], [TPM_ALG.SHA3_512, 'sha3-512']];
  test('each digest equals openssl dgst, before and after useNodeHashes', () => {
    for (const [alg, name] of algs) {
      setNativeHash(null);
      const js = hash(alg, data);
      useNodeHashes();
      const native = hash(alg, data);
      expect(toHex(native), name).toBe(openssl(name));
      expect(native, name).toEqual(js);
      expect(Object.getPrototypeOf(native), name).toBe(Uint8Array.prototype);
    }
  });

  test('SM3 is not offered and falls back to the JavaScript hash (GB/T 32905 example "abc")', () => {
    useNodeHashes();
    expect(toHex(hash(TPM_ALG.SM3_256, new TextEncoder().encode('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });
});

// Without useNodeHashes (the library in Node): inputs of 4 KiB or more (statements, outputs events) go to the
// runtime's node:crypto through process.getBuiltinModule; the digest must be the @noble/hashes one on the same bytes.
describe('hash() default in a runtime with process.getBuiltinModule', () => {
  const big = new Uint8Array(300_000).map((_, i) => (i * 131 + (i >> 9)) & 0xff);
  const noble: Array<[number, (b: Uint8Array) => Uint8Array, string]> = [[TPM_ALG.SHA1, sha1, 'sha1'], [TPM_ALG.SHA256, sha256, 'sha256'], [TPM_ALG.SHA384, sha384, 'sha384'], [TPM_ALG.SHA512, sha512, 'sha512']];

  test('bulk inputs are hashed by node:crypto, with the noble digest', () => {
    setNativeHash(undefined);
    const c = runtimeCrypto();
    expect(c).not.toBeNull();
    const spy = vi.spyOn(c!, 'createHash');
    try {
      for (const [alg, fn, name] of noble) {
        spy.mockClear();
        const d = hash(alg, big);
        expect(spy, name).toHaveBeenCalledWith(name);
        expect(d, name).toEqual(fn(big));
        expect(Object.getPrototypeOf(d), name).toBe(Uint8Array.prototype);
      }
      // Small inputs stay in JavaScript (and agree too).
      spy.mockClear();
      expect(hash(TPM_ALG.SHA256, big.subarray(0, 4095))).toEqual(sha256(big.subarray(0, 4095)));
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  test('setNativeHash(null) keeps bulk inputs in JavaScript', () => {
    const spy = vi.spyOn(runtimeCrypto()!, 'createHash');
    try {
      setNativeHash(null);
      expect(hash(TPM_ALG.SHA256, big)).toEqual(sha256(big));
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      setNativeHash(undefined);
    }
  });
});
