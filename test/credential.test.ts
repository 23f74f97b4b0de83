// makeCredential against a software TPM2_ActivateCredential built from independent primitives: node:crypto
// (RSA-OAEP decrypt, ECDH, AES-CFB, HMAC) and the openssl CLI's KBKDF (= KDFa) and SSKDF (= KDFe). EK keys are
// generated here, so every EK shape (RSA, P-256/384/521, SHA-256/384/512, AES-128/256) is covered without a TPM;
// test/live/credential.test.ts has the real TPM as the oracle.
import { createDecipheriv, createECDH, createHmac, generateKeyPairSync, privateDecrypt, constants, createCipheriv, type KeyObject } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAicertError, MalformedInputError, VerificationError } from '../src/errors.js';
import { makeCredential } from '../src/tpm/credential.js';
import { aesCfbEncrypt } from '../src/tpm/credential-crypto.js';
import { parseTpmtPublic } from '../src/tpm/public.js';
import { concat, fromHex, toHex, utf8 } from '../src/util/bytes.js';
import { TPM_ALG } from '../src/util/hash.js';

const u16 = (n: number) => new Uint8Array([n >> 8, n & 0xff]);
const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const tpm2b = (b: Uint8Array) => concat(u16(b.length), b);
const b64u = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));
const HASH = { [TPM_ALG.SHA256]: ['sha256', 32], [TPM_ALG.SHA384]: ['sha384', 48], [TPM_ALG.SHA512]: ['sha512', 64] } as Record<number, [string, number]>;
const EK_ATTRS = 0x000300b2; // fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt
const SIGN_ATTRS = 0x00050072; // fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign

interface Ek {
  pub: Uint8Array;
  priv: KeyObject;
  type: 'rsa' | 'ecc';
  nameAlg: number;
  keyBits: number;
  curve?: string;
}

/** A TPMT_PUBLIC in the EK template shape (TCG EK Credential Profile), with the fields a test wants changed. */
function tpmtPublic(o: { type: 'rsa' | 'ecc'; nameAlg: number; attrs?: number; sym?: [number, number, number] | null; curveId?: number; unique: Uint8Array[] }): Uint8Array {
  const sym = o.sym === null ? u16(TPM_ALG.NULL) : concat(...(o.sym ?? [TPM_ALG.AES, 128, TPM_ALG.CFB]).map(u16));
  const head = concat(u16(o.type === 'rsa' ? TPM_ALG.RSA : TPM_ALG.ECC), u16(o.nameAlg), u32(o.attrs ?? EK_ATTRS), tpm2b(new Uint8Array(HASH[o.nameAlg]?.[1] ?? 32)), sym, u16(TPM_ALG.NULL));
  if (o.type === 'rsa') return concat(head, u16(o.unique[0]!.length * 8), u32(0), tpm2b(o.unique[0]!));
  return concat(head, u16(o.curveId!), u16(TPM_ALG.NULL), tpm2b(o.unique[0]!), tpm2b(o.unique[1]!));
}

function makeEk(type: 'rsa' | 'ecc', nameAlg: number, keyBits: number, curve?: 'P-256' | 'P-384' | 'P-521'): Ek {
  if (type === 'rsa') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    return { type, nameAlg, keyBits, priv: privateKey, pub: tpmtPublic({ type, nameAlg, sym: [TPM_ALG.AES, keyBits, TPM_ALG.CFB], unique: [b64u(jwk.n!)] }) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve! });
  const jwk = publicKey.export({ format: 'jwk' });
  const curveId = { 'P-256': 3, 'P-384': 4, 'P-521': 5 }[curve!];
  return { type, nameAlg, keyBits, curve, priv: privateKey, pub: tpmtPublic({ type, nameAlg, curveId, sym: [TPM_ALG.AES, keyBits, TPM_ALG.CFB], unique: [b64u(jwk.x!), b64u(jwk.y!)] }) };
}

/** openssl kdf: KBKDF is SP 800-108 counter mode ([i]₃₂ ‖ label ‖ 00 ‖ context ‖ [L]₃₂) = KDFa; SSKDF is KDFe. */
function openssl(kdf: 'KBKDF' | 'SSKDF', digest: string, key: Uint8Array, bytes: number, opts: string[]): Uint8Array {
  const args = ['kdf', '-keylen', String(bytes), '-kdfopt', `digest:${digest.toUpperCase()}`, '-kdfopt', `hexkey:${toHex(key)}`, ...opts.flatMap((o) => ['-kdfopt', o]), kdf];
  return fromHex(execFileSync('openssl', args, { encoding: 'utf8' }).trim().replace(/:/g, ''));
}

/** TPM2_ActivateCredential (Part 3 §12.5) with node:crypto + openssl: returns the secret or throws. */
function activate(ek: Ek, akName: Uint8Array, blob: Uint8Array, encSecret: Uint8Array): Uint8Array {
  const [digest, size] = HASH[ek.nameAlg]!;
  const inner = encSecret.subarray(2);
  expect((encSecret[0]! << 8) | encSecret[1]!).toBe(inner.length);
  let seed: Uint8Array;
  if (ek.type === 'rsa') {
    const label = Buffer.from('IDENTITY\0', 'latin1');
    seed = new Uint8Array(privateDecrypt({ key: ek.priv, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: digest, oaepLabel: label }, inner));
  } else {
    const xLen = (inner[0]! << 8) | inner[1]!;
    const ephX = inner.subarray(2, 2 + xLen);
    const ephY = inner.subarray(4 + xLen);
    expect((inner[2 + xLen]! << 8) | inner[3 + xLen]!).toBe(ephY.length);
    const ecdh = createECDH({ 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[ek.curve!]!);
    ecdh.setPrivateKey(b64u(ek.priv.export({ format: 'jwk' }).d!));
    const z = new Uint8Array(ecdh.computeSecret(concat(new Uint8Array([4]), ephX, ephY)));
    const ekX = parseTpmtPublic(ek.pub).params as { x: Uint8Array };
    seed = openssl('SSKDF', digest, z, size, [`hexinfo:${toHex(concat(utf8('IDENTITY\0'), ephX, ekX.x))}`]);
  }
  expect(seed.length).toBe(size);
  expect((blob[0]! << 8) | blob[1]!).toBe(blob.length - 2);
  const hmacLen = (blob[2]! << 8) | blob[3]!;
  const integrity = blob.subarray(4, 4 + hmacLen);
  const encIdentity = blob.subarray(4 + hmacLen);
  const hmacKey = openssl('KBKDF', digest, seed, size, ['mac:HMAC', `hexsalt:${toHex(utf8('INTEGRITY'))}`]);
  const expected = createHmac(digest, hmacKey).update(encIdentity).update(akName).digest();
  if (!expected.equals(integrity)) throw new Error('integrity check failed');
  const symKey = openssl('KBKDF', digest, seed, ek.keyBits / 8, ['mac:HMAC', `hexsalt:${toHex(utf8('STORAGE'))}`, `hexinfo:${toHex(akName)}`]);
  const d = createDecipheriv(`aes-${ek.keyBits}-cfb`, symKey, Buffer.alloc(16));
  const plain = new Uint8Array(Buffer.concat([d.update(encIdentity), d.final()]));
  expect((plain[0]! << 8) | plain[1]!).toBe(plain.length - 2);
  return plain.subarray(2);
}

const opensslKdf = spawnSync('openssl', ['kdf', '-help']).status === 0;
const name = (alg: number, fill: number) => concat(u16(alg), new Uint8Array(HASH[alg]![1]).fill(fill));

describe('AES-CFB from WebCrypto AES-CTR', () => {
  it('matches node:crypto aes-*-cfb for every length 0..70 and key size', async () => {
    for (const bits of [128, 192, 256]) {
      const key = Uint8Array.from({ length: bits / 8 }, (_, i) => i * 3 + 1);
      for (let len = 0; len <= 70; len++) {
        const pt = Uint8Array.from({ length: len }, (_, i) => (i * 29 + len) & 0xff);
        const c = createCipheriv(`aes-${bits}-cfb`, key, Buffer.alloc(16));
        const want = new Uint8Array(Buffer.concat([c.update(pt), c.final()]));
        expect(await aesCfbEncrypt(key, pt), `${bits}/${len}`).toEqual(want);
      }
    }
  });
});

describe.skipIf(!opensslKdf)('makeCredential opened by a node:crypto + openssl ActivateCredential', () => {
  const cases: [string, () => Ek][] = [
    ['RSA-2048, SHA-256, AES-128', () => makeEk('rsa', TPM_ALG.SHA256, 128)],
    ['RSA-2048, SHA-384, AES-256', () => makeEk('rsa', TPM_ALG.SHA384, 256)],
    ['P-256, SHA-256, AES-128', () => makeEk('ecc', TPM_ALG.SHA256, 128, 'P-256')],
    ['P-384, SHA-384, AES-256', () => makeEk('ecc', TPM_ALG.SHA384, 256, 'P-384')],
    ['P-521, SHA-512, AES-256', () => makeEk('ecc', TPM_ALG.SHA512, 256, 'P-521')],
  ];
  for (const [label, mk] of cases) {
    it(label, async () => {
      const ek = mk();
      const size = HASH[ek.nameAlg]![1];
      for (const [len, akAlg] of [[1, TPM_ALG.SHA256], [16, TPM_ALG.SHA384], [size, TPM_ALG.SHA256]] as const) {
        const secret = Uint8Array.from({ length: len }, (_, i) => 255 - i);
        const akName = name(akAlg, len);
        const { credentialBlob, encryptedSecret } = await makeCredential({ ekPublic: ek.pub, akName, secret });
        expect(activate(ek, akName, credentialBlob, encryptedSecret)).toEqual(secret);
        expect(() => activate(ek, name(akAlg, len + 1), credentialBlob, encryptedSecret)).toThrow(/integrity/);
      }
    });
  }
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof VerificationError ? e.code : (e as Error).name));

describe('makeCredential input checks', () => {
  const rsaN = new Uint8Array(256).fill(0xc5);
  const p256 = makeEk('ecc', TPM_ALG.SHA256, 128, 'P-256');
  const ekWith = (o: Partial<Parameters<typeof tpmtPublic>[0]>) => tpmtPublic({ type: 'rsa', nameAlg: TPM_ALG.SHA256, unique: [rsaN], ...o });
  const akName = name(TPM_ALG.SHA256, 1);
  const secret = new Uint8Array(16);

  it('refuses EKs that are not restricted decryption keys with a CFB symmetric definition', async () => {
    expect(await codeOf(makeCredential({ ekPublic: ekWith({ attrs: SIGN_ATTRS, sym: null }), akName, secret }))).toBe('EK_NOT_STORAGE_KEY');
    expect(await codeOf(makeCredential({ ekPublic: ekWith({ attrs: EK_ATTRS & ~0x10000 }), akName, secret }))).toBe('EK_NOT_STORAGE_KEY');
    expect(await codeOf(makeCredential({ ekPublic: ekWith({ attrs: EK_ATTRS | 0x40000 }), akName, secret }))).toBe('EK_NOT_STORAGE_KEY');
    expect(await codeOf(makeCredential({ ekPublic: ekWith({ sym: null }), akName, secret }))).toBe('EK_NOT_STORAGE_KEY');
    expect(await codeOf(makeCredential({ ekPublic: ekWith({ sym: [TPM_ALG.AES, 128, TPM_ALG.CBC] }), akName, secret }))).toBe('EK_NOT_STORAGE_KEY');
  });

  it('reports algorithms it does not implement as KEY_UNSUPPORTED', async () => {
    expect(await codeOf(makeCredential({ ekPublic: ekWith({ nameAlg: TPM_ALG.SHA3_256 }), akName, secret }))).toBe('KEY_UNSUPPORTED');
    expect(await codeOf(makeCredential({ ekPublic: ekWith({ sym: [TPM_ALG.SM4, 128, TPM_ALG.CFB] }), akName, secret }))).toBe('KEY_UNSUPPORTED');
    const bn = tpmtPublic({ type: 'ecc', nameAlg: TPM_ALG.SHA256, curveId: 0x10, unique: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)] });
    expect(await codeOf(makeCredential({ ekPublic: bn, akName, secret }))).toBe('KEY_UNSUPPORTED');
  });

  it('rejects malformed keys, names and arguments', async () => {
    const offCurve = tpmtPublic({ type: 'ecc', nameAlg: TPM_ALG.SHA256, curveId: 3, unique: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)] });
    expect(await codeOf(makeCredential({ ekPublic: offCurve, akName, secret }))).toBe('MalformedInputError');
    const even = ekWith({ unique: [new Uint8Array(256).fill(0xc4)] }); // imports into WebCrypto, fails to encrypt
    expect(await codeOf(makeCredential({ ekPublic: even, akName, secret }))).toBe('MalformedInputError');
    expect(await codeOf(makeCredential({ ekPublic: p256.pub, akName: new Uint8Array([0, 0x0b, 1, 2]), secret }))).toBe('MalformedInputError');
    expect(await codeOf(makeCredential({ ekPublic: p256.pub, akName, secret: new Uint8Array(33) }))).toBe('TypeError');
    expect(await codeOf(makeCredential({ ekPublic: p256.pub, akName, secret: new Uint8Array(0) }))).toBe('TypeError');
    expect(await codeOf(makeCredential({ ekPublic: 'ek' as never, akName, secret }))).toBe('TypeError');
    expect(await codeOf(makeCredential({ ekPublic: p256.pub, akName, secret, random: () => new Uint8Array(3) }))).toBe('TypeError');
    expect(await codeOf(makeCredential(null as never))).toBe('TypeError');
  });

  it('fuzz: arbitrary or mutated EK bytes only ever give typed errors', async () => {
    const valid = [p256.pub, ekWith({})];
    const isTyped = (e: unknown) => isAicertError(e) || e instanceof TypeError;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })).map(([b, flips]) => {
            const m = b.slice();
            for (const [at, x] of flips) m[at % m.length]! ^= x;
            return m;
          }),
        ),
        async (ekPublic) => {
          const r = await makeCredential({ ekPublic, akName, secret }).then(() => undefined, (e: unknown) => e);
          if (r !== undefined && !isTyped(r)) throw r;
          if (r instanceof MalformedInputError) expect(r.code).toBe('MALFORMED_INPUT');
        },
      ),
      { numRuns: 400 },
    );
  });
});
