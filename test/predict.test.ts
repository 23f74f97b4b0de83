/**
 * predictPcrs: (1) on a built UKI, every expected digest and PCR equals an independent node:crypto/pesign
 * computation of the documented rules; (2) on the boot generator's real UKI, PCR 4/9/11 equal the PCRs the guest
 * TPM reported (sysfs, both banks) and the expected events equal the firmware log's events; (3) mutated UKIs only
 * raise MalformedInputError.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { predictPcrs } from '../src/eventlog/predict.js';
import { parseTcgLog } from '../src/eventlog/tcg.js';
import { toHex } from '../src/util/bytes.js';
import { hashName, TPM_ALG } from '../src/util/hash.js';
import { buildPe, filler } from './helpers/pe-build.js';
import { BOOT_CACHE, hasTool, pesignHash } from './helpers/pe-samples.js';

const sha = (alg: 'sha1' | 'sha256', ...parts: (Uint8Array | string)[]) => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const replayHex = (alg: 'sha1' | 'sha256', digests: string[]) =>
  digests.reduce((pcr, d) => sha(alg, Buffer.from(pcr, 'hex'), Buffer.from(d, 'hex')), '00'.repeat(alg === 'sha1' ? 20 : 32));
const tmp = mkdtempSync(join(tmpdir(), 'aicert-predict-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small UKI: stub code, .sdmagic, then the systemd-stub payload sections (plus unmeasured .sbat and .pcrsig). */
function buildUki(version: string, cmdline = 'console=ttyS0 root=/dev/vda ro') {
  const kernel = buildPe({ sections: [{ name: '.text', data: filler(3000, 11) }, { name: '.data', data: filler(200, 12) }] }).bytes;
  const parts = {
    osrel: new TextEncoder().encode('ID=test\nVERSION_ID=1\n'),
    cmdline: new TextEncoder().encode(cmdline),
    initrd: filler(5000, 13),
    sbat: new TextEncoder().encode('sbat,1,SBAT Version,sbat,1\n'),
  };
  const uki = buildPe({
    sections: [
      { name: '.text', data: filler(1500, 10) },
      { name: '.sdmagic', data: new TextEncoder().encode(`#### LoaderInfo: systemd-stub ${version} ####\0`) },
      { name: '.sbat', data: parts.sbat },
      { name: '.osrel', data: parts.osrel },
      { name: '.cmdline', data: parts.cmdline },
      { name: '.pcrsig', data: new TextEncoder().encode('{}') },
      { name: '.linux', data: kernel },
      { name: '.initrd', data: parts.initrd },
    ],
  }).bytes;
  return { uki, kernel, ...parts };
}

describe('built UKI: every digest matches an independent computation', () => {
  const u = buildUki('252.39-1~deb12u2');
  const p = predictPcrs({ uki: u.uki });
  const ev = (alg: 'sha1' | 'sha256', pcr: number) =>
    p.events.filter((e) => e.pcr === pcr).map((e) => toHex(e.digests.find((d) => hashName(d.alg) === alg)!.digest));

  it.skipIf(!hasTool('pesign'))('Authenticode of the UKI and of its .linux kernel = pesign', () => {
    writeFileSync(join(tmp, 'uki.efi'), u.uki);
    writeFileSync(join(tmp, 'kernel.efi'), u.kernel);
    for (const alg of ['sha1', 'sha256'] as const) {
      const bank = alg === 'sha1' ? TPM_ALG.SHA1 : TPM_ALG.SHA256;
      expect(toHex(p.authenticode.uki.find((d) => d.alg === bank)!.digest)).toBe(pesignHash(join(tmp, 'uki.efi'), alg));
      expect(toHex(p.authenticode.kernel.find((d) => d.alg === bank)!.digest)).toBe(pesignHash(join(tmp, 'kernel.efi'), alg));
      expect(ev(alg, 4)).toEqual([
        sha(alg, 'Calling EFI Application from Boot Option'),
        sha(alg, new Uint8Array(4)),
        pesignHash(join(tmp, 'uki.efi'), alg),
        pesignHash(join(tmp, 'kernel.efi'), alg),
      ]);
    }
  });

  it('PCR 11: name+NUL then content for .linux .osrel .cmdline .initrd (stub 252: .sbat and .pcrsig unmeasured)', () => {
    expect(p.stubVersion).toBe('252.39-1~deb12u2');
    expect(p.measuredSections.map((s) => s.name)).toEqual(['.linux', '.osrel', '.cmdline', '.initrd']);
    for (const alg of ['sha1', 'sha256'] as const) {
      const want = [
        sha(alg, '.linux\0'), sha(alg, u.kernel), sha(alg, '.osrel\0'), sha(alg, u.osrel),
        sha(alg, '.cmdline\0'), sha(alg, u.cmdline), sha(alg, '.initrd\0'), sha(alg, u.initrd),
      ];
      expect(ev(alg, 11)).toEqual(want);
      expect(toHex(p.pcrs.get(alg === 'sha1' ? TPM_ALG.SHA1 : TPM_ALG.SHA256)!.get(11)!)).toBe(replayHex(alg, want));
    }
  });

  it('PCR 9: the cmdline as UTF-16LE with its NUL, then the initrd', () => {
    const want = [sha('sha256', Buffer.from('console=ttyS0 root=/dev/vda ro\0', 'utf16le')), sha('sha256', u.initrd)];
    expect(ev('sha256', 9)).toEqual(want);
    expect(toHex(p.pcrs.get(TPM_ALG.SHA256)!.get(9)!)).toBe(replayHex('sha256', want));
    expect(p.cmdline).toBe('console=ttyS0 root=/dev/vda ro');
  });

  it('newer stubs use the UKI-spec order (.sbat measured) and are flagged unverified', () => {
    const q = predictPcrs({ uki: buildUki('256.7').uki });
    expect(q.stubSectionOrder).toBe('uki-spec');
    expect(q.measuredSections.map((s) => s.name)).toEqual(['.linux', '.osrel', '.cmdline', '.initrd', '.sbat']);
    expect(q.unverified.length).toBeGreaterThan(0);
  });

  it('Azure Trusted Launch: same PCR 4 sequence assumption, marked unverified; OVMF failed options add actions', () => {
    const az = predictPcrs({ uki: u.uki, bootFlow: 'azure-trusted-launch' });
    expect(toHex(az.pcrs.get(TPM_ALG.SHA256)!.get(4)!)).toBe(replayHex('sha256', ev('sha256', 4)));
    expect(az.unverified.some((s) => s.includes('Azure'))).toBe(true);
    const f = predictPcrs({ uki: u.uki, failedBootOptions: 1, banks: [TPM_ALG.SHA256] });
    const e4 = f.events.filter((e) => e.pcr === 4).map((e) => e.description);
    expect(e4.slice(0, 4)).toEqual([
      'Calling EFI Application from Boot Option', 'separator',
      'Returning from EFI Application from Boot Option', 'Calling EFI Application from Boot Option',
    ]);
  });

  it('mutated UKIs -> only MalformedInputError', () => {
    const base = buildUki('252').uki;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 1023 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const b = base.slice();
        for (const [at, v] of edits) b[at] = v;
        try {
          predictPcrs({ uki: b, banks: [TPM_ALG.SHA256] });
        } catch (e) {
          if (!(e instanceof MalformedInputError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
    expect(() => predictPcrs({ uki: buildPe({ sections: [{ name: '.text', data: filler(10) }] }).bytes })).toThrow(MalformedInputError);
    expect(() => predictPcrs({ uki: 'x' as unknown as Uint8Array })).toThrow(TypeError);
  });
});

// The generator's real UKI against what the guest's TPM reported for the same (reproducible) build.
const bootDir = process.env.AICERT_BOOT_DIR ?? resolve(import.meta.dirname, '../testvectors/boot/out');
const ukiPath = join(BOOT_CACHE, 'build/uki.efi');
const canBuild = ['apt-get', 'dpkg-deb', 'objcopy', 'sgdisk', 'mformat', 'busybox', 'tpm2'].every(hasTool);

describe('real UKI vs the measured boot', () => {
  let sameBuild = false;
  beforeAll(() => {
    if (!existsSync(join(bootDir, 'build.json'))) return;
    // build.sh is cached, locked and reproducible: the same package versions give the UKI the vector was made from
    if (canBuild) {
      spawnSync('bash', [resolve(import.meta.dirname, '../testvectors/boot/build.sh'), BOOT_CACHE], { stdio: 'ignore', timeout: 170_000 });
    }
    if (!existsSync(ukiPath)) return;
    const built = JSON.parse(readFileSync(join(bootDir, 'build.json'), 'utf8')).files['uki.efi'].sha256;
    sameBuild = built === sha('sha256', readFileSync(ukiPath));
  }, 180_000);

  it('PCR 4, 9 and 11 equal the guest sysfs PCRs in both banks; events equal the firmware log', (ctx) => {
    if (!sameBuild) {
      console.warn(`NOTICE: no built UKI matching ${bootDir}/build.json (Debian packages changed? run npm run vectors:boot); skipped.`);
      return ctx.skip();
    }
    const p = predictPcrs({ uki: new Uint8Array(readFileSync(ukiPath)) });
    const sysfs = JSON.parse(readFileSync(join(bootDir, 'pcrs.json'), 'utf8'));
    const log = parseTcgLog(new Uint8Array(readFileSync(join(bootDir, 'binary_bios_measurements'))));
    for (const [alg, bank] of p.pcrs) {
      for (const pcr of [4, 9, 11]) {
        expect(toHex(bank.get(pcr)!), `${hashName(alg)} PCR ${pcr}`).toBe(sysfs[hashName(alg)][String(pcr)]);
        const fromLog = log.events.filter((e) => e.pcr === pcr && !e.noExtend).map((e) => toHex(e.digests.find((d) => d.alg === alg)!.digest));
        const predicted = p.events.filter((e) => e.pcr === pcr).map((e) => toHex(e.digests.find((d) => d.alg === alg)!.digest));
        expect(predicted).toEqual(fromLog);
      }
    }
    const ah = JSON.parse(readFileSync(join(bootDir, 'authenticode.json'), 'utf8'));
    expect(toHex(p.authenticode.uki.find((d) => d.alg === TPM_ALG.SHA256)!.digest)).toBe(ah['uki.efi']);
    expect(toHex(p.authenticode.kernel.find((d) => d.alg === TPM_ALG.SHA256)!.digest)).toBe(ah['vmlinuz']);
  });
});
