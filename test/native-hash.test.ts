// The CLI routes the synchronous hash() through node:crypto (src/node/native-hash.ts): every algorithm must give
// the digest openssl gives for the same bytes, and SM3 (not offered) must stay on the JavaScript implementation.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, test } from 'vitest';
import { useNodeHashes } from '../src/node/native-hash.js';
import { hash, setNativeHash, TPM_ALG } from '../src/util/hash.js';
import { toHex } from '../src/util/bytes.js';

const data = new TextEncoder().encode('aicert native hash check\n'.repeat(100));
const openssl = (alg: string): string => execFileSync('openssl', ['dgst', `-${alg}`, '-r'], { input: data, encoding: 'utf8' }).slice(0, -1).split(' ')[0]!;

afterAll(() => setNativeHash(undefined));

describe('hash() on node:crypto', () => {
  const algs: Array<[number, string]> = [[TPM_ALG.SHA1, 'sha1'], [TPM_ALG.SHA256, 'sha256'], [TPM_ALG.SHA384, 'sha384'], [TPM_ALG.SHA512, 'sha512'], [TPM_ALG.SHA3_256, 'sha3-256'], [TPM_ALG.SHA3_384, 'sha3-384'], [TPM_ALG.SHA3_512, 'sha3-512']];
  test('each digest equals openssl dgst, before and after useNodeHashes', () => {
    for (const [alg, name] of algs) {
      setNativeHash(undefined);
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
