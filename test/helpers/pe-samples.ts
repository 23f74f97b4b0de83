/**
 * Real PE/COFF files for the Authenticode tests: EFI binaries from Debian packages (apt-get download into the
 * gitignored testvectors/boot/.cache/debs, shared with the boot generator) and the generator's UKI and kernel.
 * Returns an empty list (after a printed notice) where pesign or the packages are unavailable.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const BOOT_CACHE = resolve(import.meta.dirname, '../../testvectors/boot/.cache');
const DEBS = join(BOOT_CACHE, 'debs');
const PACKAGES = ['shim-signed', 'shim-unsigned', 'grub-efi-amd64-signed', 'systemd-boot-efi'];

/** True when a command is on PATH. */
export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** `pesign -h` Authenticode digest (hex) of a file, for an independent cross-check. */
export function pesignHash(file: string, digest: 'sha256' | 'sha1' = 'sha256'): string {
  const out = execFileSync('pesign', ['-h', '-d', digest, '-i', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = /hash:\s*([0-9a-f]+)/.exec(out);
  if (!m) throw new Error(`pesign printed no hash for ${file}: ${out}`);
  return m[1]!;
}

let cached: string[] | undefined;
/** Paths of real PE files: EFI binaries from Debian packages plus the boot generator's UKI and kernel if built. */
export function peSamples(): string[] {
  if (cached) return cached;
  cached = [];
  if (!hasTool('pesign') || !hasTool('dpkg-deb')) {
    console.warn('NOTICE: pesign/dpkg-deb not installed; Authenticode cross-checks against pesign are skipped.');
    return cached;
  }
  mkdirSync(DEBS, { recursive: true });
  const dir = join(BOOT_CACHE, 'pe-samples');
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.efi(\.signed|\.stub)?$/.test(e.name)) cached!.push(p);
    }
  };
  for (const pkg of PACKAGES) {
    let deb = readdirSync(DEBS).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb && hasTool('apt-get')) {
      spawnSync('apt-get', ['download', '-q', pkg], { cwd: DEBS, stdio: 'ignore' });
      deb = readdirSync(DEBS).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    }
    // extracted once per package version into the cache (rename makes concurrent test workers safe)
    const into = join(dir, deb ? deb.replace(/\.deb$/, '') : '');
    if (deb && !existsSync(into)) {
      const part = `${into}.${process.pid}`;
      rmSync(part, { recursive: true, force: true });
      try {
        mkdirSync(part, { recursive: true });
        execFileSync('dpkg-deb', ['-x', join(DEBS, deb), part], { stdio: 'ignore' });
        renameSync(part, into);
      } catch {
        rmSync(part, { recursive: true, force: true }); // another worker won the race, or the .deb is still downloading
      }
    }
    if (deb) walk(join(into, 'usr/lib'));
  }
  for (const f of ['uki.efi', 'vmlinuz']) if (existsSync(join(BOOT_CACHE, 'build', f))) cached.push(join(BOOT_CACHE, 'build', f));
  if (cached.length === 0) console.warn('NOTICE: no Debian EFI packages could be fetched; pesign cross-checks are skipped.');
  return cached;
}
