// Live: credentials made by aicert's makeCredential are opened by a real TPM (swtpm) with tpm2_activatecredential.
// The TPM is the oracle: it returns the secret only if the seed decrypts, the HMAC over encIdentity ‖ AK Name
// checks and the CFB decryption yields a well-formed TPM2B_DIGEST (TPM 2.0 Library Part 3 §12.5).
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerificationError } from '../../src/errors.js';
import { makeCredential, type MadeCredential } from '../../src/tpm/credential.js';
import { parseTpm2bPublic } from '../../src/tpm/public.js';
import { concat, toHex } from '../../src/util/bytes.js';
import { runCli } from '../helpers/cli.js';
import { startSwtpm, swtpmAvailable, type Swtpm } from '../helpers/swtpm.js';

const run = promisify(execFile);

// tpm2-tools' credential file (tpm2_makecredential -o / tpm2_activatecredential -i): BE u32 magic 0xBADCC0DE,
// BE u32 version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. Checked against tpm2_makecredential output below.
const HEADER = new Uint8Array([0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1]);
const credFile = (c: MadeCredential): Uint8Array => concat(HEADER, c.credentialBlob, c.encryptedSecret);

/** An EK and an AK under it; `policy` EKs need PolicySecret(endorsement), the others take the empty password. */
interface Keys {
  ekPub: Uint8Array;
  akPub: Uint8Array;
  akName: Uint8Array;
  policy: boolean;
  kind: string;
}
const KINDS = [
  { kind: 'rsa', ek: 'rsa', ak: ['-G', 'rsa'], policy: true, digest: 32 },
  { kind: 'ecc', ek: 'ecc', ak: ['-G', 'ecc', '-s', 'ecdsa'], policy: true, digest: 32 },
  { kind: 'ecc384', ek: 'ecc384', ak: ['-G', 'ecc', '-s', 'ecdsa'], policy: false, digest: 48 },
] as const;

let tpm: Swtpm | undefined;
let dir = '';
const keys = new Map<string, Keys>();
let counter = 0;

async function tool(args: string[]): Promise<string> {
  const { stdout } = await run(args[0]!, args.slice(1), { env: tpm!.env, cwd: dir, timeout: 20_000 });
  return stdout;
}

/** Runs TPM2_ActivateCredential on the swtpm; returns the recovered secret, or the tool's error. */
async function activate(k: Keys, file: Uint8Array): Promise<Uint8Array> {
  const n = counter++;
  await writeFile(join(dir, `cred${n}.bin`), file);
  await tool(['tpm2_flushcontext', '-t']); // swtpm has 3 transient slots: free them before loading EK + AK
  const common = ['tpm2_activatecredential', '-c', `ak_${k.kind}.ctx`, '-C', `ek_${k.kind}.ctx`, '-i', `cred${n}.bin`, '-o', `out${n}.bin`];
  if (!k.policy) {
    await tool(common);
  } else {
    await tool(['tpm2_startauthsession', '--policy-session', '-S', `s${n}.ctx`]);
    try {
      await tool(['tpm2_policysecret', '-S', `s${n}.ctx`, '-c', 'e']);
      await tool([...common, '-P', `session:s${n}.ctx`]);
    } finally {
      await tool(['tpm2_flushcontext', `s${n}.ctx`]).catch(() => undefined); // already gone after a successful activation
    }
  }
  return new Uint8Array(await readFile(join(dir, `out${n}.bin`)));
}

/** The TPM's error for a credential it must refuse (the activation has to fail inside TPM2_ActivateCredential). */
async function refusal(k: Keys, file: Uint8Array): Promise<string> {
  const err = await activate(k, file).then(
    () => undefined,
    (e: unknown) => e as { stderr?: string },
  );
  expect(err, 'activation should fail').toBeDefined();
  return /Esys_ActivateCredential\((0x[0-9A-F]+)\) - (.*)/i.exec(err?.stderr ?? '')?.slice(1).join(' ') ?? `no TPM error in: ${err?.stderr}`;
}

const secretOf = (n: number, fill = 0x5a): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (fill + 13 * i) & 0xff);

describe.skipIf(!swtpmAvailable())('makeCredential activated by swtpm (tpm2_activatecredential)', () => {
  beforeAll(async () => {
    tpm = await startSwtpm({ transport: 'unix' });
    dir = join(tpm.dir, 'work');
    await mkdir(dir);
    for (const k of KINDS) {
      await tool(['tpm2_createek', '-G', k.ek, '-c', `ek_${k.kind}.ctx`, '-u', `ek_${k.kind}.pub`]);
      await tool(['tpm2_createak', '-C', `ek_${k.kind}.ctx`, ...k.ak, '-c', `ak_${k.kind}.ctx`, '-u', `ak_${k.kind}.pub`, '-n', `ak_${k.kind}.name`]);
      await tool(['tpm2_flushcontext', '-t']);
      keys.set(k.kind, {
        kind: k.kind,
        policy: k.policy,
        ekPub: new Uint8Array(await readFile(join(dir, `ek_${k.kind}.pub`))),
        akPub: new Uint8Array(await readFile(join(dir, `ak_${k.kind}.pub`))),
        akName: new Uint8Array(await readFile(join(dir, `ak_${k.kind}.name`))),
      });
    }
  });
  afterAll(async () => {
    await tpm?.stop();
  });

  for (const k of KINDS) {
    const lengths = k.digest === 48 ? [1, 16, 32, 48] : [1, 16, 32];
    it(`${k.kind} EK: the TPM recovers secrets of ${lengths.join('/')} bytes`, async () => {
      const ks = keys.get(k.kind)!;
      expect(parseTpm2bPublic(ks.akPub).name).toEqual(ks.akName); // the name tpm2_createak wrote is the one aicert computes
      for (const len of lengths) {
        const secret = secretOf(len, len);
        const cred = await makeCredential({ ekPublic: ks.ekPub, akName: ks.akName, secret });
        expect(await activate(ks, credFile(cred))).toEqual(secret);
      }
    });

    it(`${k.kind} EK: AK public area instead of the Name; TPMT_PUBLIC instead of TPM2B_PUBLIC`, async () => {
      const ks = keys.get(k.kind)!;
      const secret = secretOf(20, 0x33);
      const cred = await makeCredential({ ekPublic: ks.ekPub.subarray(2), akName: ks.akPub, secret });
      expect(await activate(ks, credFile(cred))).toEqual(secret);
    });

    it(`${k.kind} EK: the TPM refuses a credential for another AK Name and any flipped byte`, async () => {
      const ks = keys.get(k.kind)!;
      const secret = secretOf(16, 0x77);
      const other = ks.akName.slice();
      other[other.length - 1]! ^= 1;
      const wrong = await makeCredential({ ekPublic: ks.ekPub, akName: other, secret });
      expect(await refusal(ks, credFile(wrong))).toMatch(/^0x1DF .*integrity check failed/); // TPM_RC_INTEGRITY

      const good = await makeCredential({ ekPublic: ks.ekPub, akName: ks.akName, secret });
      expect(await activate(ks, credFile(good))).toEqual(secret);
      const blob = good.credentialBlob;
      // A flipped byte of integrityHMAC (offset 4) or of encIdentity (last byte) fails the HMAC check.
      for (const at of [4, blob.length - 1]) {
        const c = { credentialBlob: blob.slice(), encryptedSecret: good.encryptedSecret };
        c.credentialBlob[at]! ^= 0x01;
        expect(await refusal(ks, credFile(c)), `credentialBlob[${at}]`).toMatch(/^0x1DF .*integrity check failed/);
      }
      // A flipped byte of encryptedSecret: ECC gives TPM_RC_ECC_POINT (x is no longer on the curve); for RSA-OAEP,
      // libtpms (swtpm) answers TPM_RC_FAILURE here rather than TPM_RC_VALUE: any TPM refusal is accepted.
      const c = { credentialBlob: blob, encryptedSecret: good.encryptedSecret.slice() };
      c.encryptedSecret[10]! ^= 0x01;
      expect(await refusal(ks, credFile(c))).toMatch(k.kind === 'rsa' ? /^0x[0-9A-F]+ / : /^0x2E7 .*not on the required curve/);
      expect(await activate(ks, credFile(good))).toEqual(secret); // the TPM still works
    });
  }

  it('tpm2_makecredential writes the same file layout, and its output activates too', async () => {
    const ks = keys.get('rsa')!;
    const secret = secretOf(32, 1);
    await writeFile(join(dir, 'tools-secret.bin'), secret);
    await tool(['tpm2_makecredential', '-T', 'none', '-u', 'ek_rsa.pub', '-s', 'tools-secret.bin', '-n', toHex(ks.akName), '-o', 'tools-cred.bin']);
    const theirs = new Uint8Array(await readFile(join(dir, 'tools-cred.bin')));
    const ours = credFile(await makeCredential({ ekPublic: ks.ekPub, akName: ks.akName, secret }));
    // Same header, same TPM2B sizes (2+32 HMAC, 2+34 encIdentity; 256-byte OAEP block); the seed differs.
    expect(theirs.length).toBe(ours.length);
    expect(theirs.subarray(0, 12)).toEqual(ours.subarray(0, 12));
    const secretAt = 8 + 2 + ((ours[8]! << 8) | ours[9]!);
    expect(theirs.subarray(secretAt, secretAt + 2)).toEqual(ours.subarray(secretAt, secretAt + 2));
    expect(await activate(ks, theirs)).toEqual(secret);
    expect(await activate(ks, ours)).toEqual(secret);
  });

  it('a fixed random source gives the same credential, which still activates (ECC is fully deterministic)', async () => {
    const ks = keys.get('ecc')!;
    const random = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
    const secret = secretOf(32, 9);
    const a = await makeCredential({ ekPublic: ks.ekPub, akName: ks.akName, secret, random });
    const b = await makeCredential({ ekPublic: ks.ekPub, akName: ks.akName, secret, random });
    expect(a).toEqual(b);
    expect(await activate(ks, credFile(a))).toEqual(secret);
  });

  it('an AK (a signing key) offered as the EK is refused with EK_NOT_STORAGE_KEY', async () => {
    const ks = keys.get('rsa')!;
    const err = await makeCredential({ ekPublic: ks.akPub, akName: ks.akName, secret: secretOf(16) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect((err as VerificationError).code).toBe('EK_NOT_STORAGE_KEY');
  });

  it('aicert credential writes the file tpm2_activatecredential reads (--ak-name as the tpm2_createak file and as hex, --ak)', async () => {
    for (const k of KINDS) {
      const ks = keys.get(k.kind)!;
      const secret = secretOf(k.digest, 0x21);
      await writeFile(join(dir, 'cli-secret.bin'), secret);
      const name = toHex(ks.akName);
      for (const akArgs of [['--ak-name', join(dir, `ak_${k.kind}.name`)], ['--ak-name', name], ['--ak', join(dir, `ak_${k.kind}.pub`)]]) {
        const out = join(dir, `cli-${k.kind}.cred`);
        const r = await runCli(['credential', '--ek', join(dir, `ek_${k.kind}.pub`), ...akArgs, '--secret', join(dir, 'cli-secret.bin'), '--out', out, '--json']);
        expect(r.code, r.err).toBe(0);
        const j = JSON.parse(r.out) as { akName: string; credentialBlob: string; encryptedSecret: string };
        expect(j.akName).toBe(name);
        const file = new Uint8Array(await readFile(out));
        expect(toHex(file)).toBe('badcc0de00000001' + j.credentialBlob + j.encryptedSecret);
        expect(await activate(ks, file)).toEqual(secret);
      }
    }
  });

  it('aicert credential: exit 1 for an AK that is no restricted signer, exit 2 for an oversize secret or bad usage', async () => {
    const ks = keys.get('rsa')!;
    await writeFile(join(dir, 'cli-long.bin'), secretOf(33));
    const ek = join(dir, 'ek_rsa.pub');
    const bad = await runCli(['credential', '--ek', ek, '--ak', ek, '--secret', join(dir, 'cli-long.bin'), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).error.code).toBe('AK_NOT_RESTRICTED_SIGNING');
    expect((await runCli(['credential', '--ek', ek, '--ak-name', toHex(ks.akName), '--secret', join(dir, 'cli-long.bin'), '--json'])).code).toBe(2);
    expect((await runCli(['credential', '--ek', ek, '--secret', join(dir, 'cli-long.bin'), '--json'])).code).toBe(2);
    expect((await runCli(['credential', '--ek', join(dir, 'absent.pub'), '--ak-name', toHex(ks.akName), '--secret', join(dir, 'cli-long.bin'), '--json'])).code).toBe(2);
  });

  it('a storage key (the EK itself) offered as the AK public area is refused with AK_NOT_RESTRICTED_SIGNING', async () => {
    const ks = keys.get('rsa')!;
    const err = await makeCredential({ ekPublic: ks.ekPub, akName: ks.ekPub, secret: secretOf(16) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect((err as VerificationError).code).toBe('AK_NOT_RESTRICTED_SIGNING');
  });
});
