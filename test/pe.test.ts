/**
 * Authenticode PE hash against pesign (an independent implementation) on real EFI binaries from Debian packages
 * (shim signed/unsigned, grub signed, systemd-boot and its stub) and the boot generator's UKI and kernel, plus the
 * exclusions the spec defines (CheckSum, Certificate Table entry and table) and trailing data.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticodeHash, findSection, hashedSections, parsePe, sectionData } from '../src/eventlog/pe.js';
import { toHex } from '../src/util/bytes.js';
import { TPM_ALG } from '../src/util/hash.js';
import { pesignHash, peSamples } from './helpers/pe-samples.js';

const samples = peSamples();
const read = (p: string) => new Uint8Array(readFileSync(p));
const tmp = mkdtempSync(join(tmpdir(), 'aicert-pe-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(samples.length === 0)('Authenticode hash = pesign -h', () => {
  it('covers signed and unsigned images', () => {
    const names = samples.map((p) => basename(p));
    expect(names).toContain('shimx64.efi.signed');
    expect(names).toContain('linuxx64.efi.stub');
    expect(samples.some((p) => parsePe(read(p)).certTable.size > 0)).toBe(true);
  });

  it.each(samples.map((p) => [basename(p), p]))('%s (sha256 and sha1)', (_n, path) => {
    const b = read(path);
    expect(toHex(authenticodeHash(b))).toBe(pesignHash(path, 'sha256'));
    expect(toHex(authenticodeHash(b, TPM_ALG.SHA1))).toBe(pesignHash(path, 'sha1'));
  });

  it('ignores the CheckSum field and, on a signed image, the certificate table and its directory entry', () => {
    const path = samples.find((p) => basename(p) === 'shimx64.efi.signed')!;
    const b = read(path);
    const img = parsePe(b);
    const ref = toHex(authenticodeHash(img));
    const m = b.slice();
    m[img.checksumOffset]! ^= 0xff;
    m[img.certTable.offset + 20]! ^= 0xff; // inside the WIN_CERTIFICATE signature blob
    expect(toHex(authenticodeHash(m))).toBe(ref);
    // Stripping the signature (entry zeroed, table cut off) gives the same image hash: what was signed.
    const stripped = b.slice(0, img.certTable.offset);
    stripped.fill(0, img.certDirEntryOffset!, img.certDirEntryOffset! + 8);
    writeFileSync(join(tmp, 'stripped.efi'), stripped);
    expect(toHex(authenticodeHash(stripped))).toBe(ref);
    expect(pesignHash(join(tmp, 'stripped.efi'))).toBe(ref);
    // Any byte that is hashed changes it.
    const t = b.slice();
    t[hashedSections(img)[0]!.pointerToRawData]! ^= 1;
    expect(toHex(authenticodeHash(t))).not.toBe(ref);
  });

  it('hashes data after the last section (unsigned image with appended bytes), as pesign does', () => {
    const path = samples.find((p) => basename(p) === 'systemd-bootx64.efi')!;
    const b = read(path);
    const img = parsePe(b);
    const last = hashedSections(img).at(-1)!;
    const extra = new Uint8Array([...b, ...new TextEncoder().encode('trailing data!!')]);
    writeFileSync(join(tmp, 'trailing.efi'), extra);
    expect(last.pointerToRawData + last.sizeOfRawData).toBeLessThanOrEqual(b.length);
    expect(toHex(authenticodeHash(extra))).toBe(pesignHash(join(tmp, 'trailing.efi')));
    expect(toHex(authenticodeHash(extra))).not.toBe(toHex(authenticodeHash(b)));
  });

  const uki = samples.find((p) => basename(p) === 'uki.efi');
  if (samples.length && !uki) console.warn('NOTICE: boot generator UKI not built; UKI section check skipped');
  it.skipIf(!uki)('reads UKI sections as mapped (VirtualSize bytes); .linux is the kernel, byte for byte (objcopy agrees)', () => {
    const img = parsePe(read(uki!));
    const out = join(tmp, 'linux.bin');
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.linux', uki!, out]);
    expect(Buffer.from(sectionData(img, findSection(img, '.linux')!)).equals(readFileSync(out))).toBe(true);
  });
});
