/**
 * Golden PCR values for a Unified Kernel Image: what firmware (PCR 4), systemd-stub (PCR 11) and the Linux EFI stub
 * (PCR 9) will extend when the UKI is booted directly as the UEFI boot application. See spec/uki-prediction.md.
 * Verified against the project's own measured boot (OVMF + swtpm + systemd-stub 252, testvectors/boot).
 */
import { MalformedInputError } from '../errors.js';
import { concat, tryUtf8Decode, utf8 } from '../util/bytes.js';
import { extend, hash, TPM_ALG } from '../util/hash.js';
import { TCG_EV } from './names.js';
import { authenticodeHash, findSection, parsePe, sectionData, type PeImage } from './pe.js';
import type { EventDigest, PcrBanks } from './types.js';

/** The boot flows whose PCR 4 sequence aicert knows. */
export type BootFlow = 'ovmf' | 'azure-trusted-launch';

/** Input of predictPcrs. */
export interface PredictInput {
  /** The UKI file bytes (the PE image the firmware loads). */
  uki: Uint8Array;
  /** Firmware flow for PCR 4 (default 'ovmf'). */
  bootFlow?: BootFlow;
  /** Banks to predict (default sha1 and sha256; sha384/sha512 also work). */
  banks?: readonly number[];
  /** OVMF only: boot options that failed before the UKI (each adds a "Returning…"/"Calling…" pair). Default 0. */
  failedBootOptions?: number;
}

/** One event the boot is expected to log, with its digest in every predicted bank. */
export interface ExpectedEvent {
  pcr: number;
  type: number;
  typeName: string;
  /** What was measured (an action string, `Authenticode(UKI)`, a section name, ...). */
  description: string;
  digests: EventDigest[];
}

/** The result of predictPcrs. Digests are raw bytes; `pcrs` has the PCRs 4, 9 and 11 in every predicted bank. */
export interface PcrPrediction {
  bootFlow: BootFlow;
  /** systemd-stub version from the .sdmagic section, when present. */
  stubVersion: string | undefined;
  /** Which systemd-stub section list was applied to PCR 11. */
  stubSectionOrder: 'systemd-252' | 'uki-spec';
  authenticode: { uki: EventDigest[]; kernel: EventDigest[] };
  /** UKI sections systemd-stub measured into PCR 11, in measurement order. */
  measuredSections: { name: string; size: number }[];
  /** The kernel command line handed to the kernel (the .cmdline section), if any. */
  cmdline: string | undefined;
  events: ExpectedEvent[];
  pcrs: PcrBanks;
  /** Parts of this prediction that have not been checked against a real boot of that flow. */
  unverified: string[];
}

/** Sections systemd-stub 252 measures into PCR 11, in its order (.pcrsig is never measured; .sbat/.uname came later). */
export const STUB_252_SECTIONS = ['.linux', '.osrel', '.cmdline', '.initrd', '.splash', '.dtb', '.pcrpkey'] as const;
/** The canonical order of the UAPI UKI specification (all sections but .pcrsig), used for stubs newer than 252. */
export const UKI_SPEC_SECTIONS = ['.linux', '.osrel', '.cmdline', '.initrd', '.ucode', '.splash', '.dtb', '.uname', '.sbat', '.pcrpkey'] as const;

const CALLING = 'Calling EFI Application from Boot Option';
const RETURNING = 'Returning from EFI Application from Boot Option';
const SEPARATOR = new Uint8Array(4);

/** Computes the UKI's Authenticode hashes and its expected PCR 4, 9 and 11 events and values. */
export function predictPcrs(input: PredictInput): PcrPrediction {
  if (!input || !(input.uki instanceof Uint8Array)) throw new TypeError('predictPcrs: uki must be a Uint8Array');
  const bootFlow = input.bootFlow ?? 'ovmf';
  if (bootFlow !== 'ovmf' && bootFlow !== 'azure-trusted-launch') throw new TypeError(`unknown boot flow ${String(bootFlow)}`);
  const failed = input.failedBootOptions ?? 0;
  if (!Number.isSafeInteger(failed) || failed < 0 || failed > 64) throw new TypeError('failedBootOptions must be an integer 0..64');
  const banks = [...(input.banks ?? [TPM_ALG.SHA1, TPM_ALG.SHA256])];
  if (banks.length === 0) throw new TypeError('banks must not be empty');
  const unverified: string[] = [];

  // Parse the UKI and the kernel PE image inside its .linux section.
  const uki = parsePe(input.uki);
  const linux = findSection(uki, '.linux');
  if (!linux) throw new MalformedInputError('not a UKI: no .linux section', { path: 'sections' });
  const kernel = parsePe(sectionData(uki, linux));
  const stubVersion = readStubVersion(uki);
  const major = stubVersion ? Number.parseInt(stubVersion, 10) : Number.NaN;
  const legacy = Number.isFinite(major) && major <= 252;
  if (!legacy) unverified.push(`PCR 11 section list for systemd-stub ${stubVersion ?? '(unknown version)'} follows the UKI specification`);

  const each = (f: (alg: number) => Uint8Array): EventDigest[] => banks.map((alg) => ({ alg, digest: f(alg) }));
  const ofData = (data: Uint8Array) => each((alg) => hash(alg, data));
  const events: ExpectedEvent[] = [];
  const add = (pcr: number, type: keyof typeof TCG_EV, description: string, digests: EventDigest[]) =>
    events.push({ pcr, type: TCG_EV[type], typeName: type, description, digests });
  const ukiHash = each((alg) => authenticodeHash(uki, alg));
  const kernelHash = each((alg) => authenticodeHash(kernel, alg));

  // PCR 4, firmware: boot-option action(s), the separator, then the UKI image (LoadImage by the boot manager).
  add(4, 'EV_EFI_ACTION', CALLING, ofData(utf8(CALLING)));
  add(4, 'EV_SEPARATOR', 'separator', ofData(SEPARATOR));
  if (bootFlow === 'ovmf') {
    for (let i = 0; i < failed; i++) {
      add(4, 'EV_EFI_ACTION', RETURNING, ofData(utf8(RETURNING)));
      add(4, 'EV_EFI_ACTION', CALLING, ofData(utf8(CALLING)));
    }
    if (failed > 0) unverified.push('OVMF failed-boot-option actions (sequence from aicert compute_expected_pcr4.py)');
  } else {
    unverified.push('Azure Trusted Launch PCR 4 sequence (assumed: Calling action, separator, UKI, kernel)');
  }
  add(4, 'EV_EFI_BOOT_SERVICES_APPLICATION', 'Authenticode(UKI)', ukiHash);

  // PCR 11, systemd-stub: for each present section, sha(name + NUL) then sha(content as mapped, VirtualSize bytes).
  const order: readonly string[] = legacy ? STUB_252_SECTIONS : UKI_SPEC_SECTIONS;
  const measuredSections: { name: string; size: number }[] = [];
  for (const name of order) {
    const s = findSection(uki, name);
    if (!s) continue;
    const data = sectionData(uki, s);
    measuredSections.push({ name, size: data.length });
    add(11, 'EV_IPL', `${name} (name)`, ofData(concat(utf8(name), new Uint8Array(1))));
    add(11, 'EV_IPL', `${name} (content)`, ofData(data));
  }

  // PCR 4 again: systemd-stub hands the kernel PE image to LoadImage, which firmware measures.
  add(4, 'EV_EFI_BOOT_SERVICES_APPLICATION', 'Authenticode(kernel in .linux)', kernelHash);

  // PCR 9, Linux EFI stub: LoadOptions (the .cmdline as UTF-16LE plus NUL), then the initrd it loads.
  const cmdline = readCmdline(uki);
  if (cmdline !== undefined) add(9, 'EV_EVENT_TAG', 'LOADED_IMAGE::LoadOptions', ofData(utf16leZ(cmdline)));
  const initrd = findSection(uki, '.initrd');
  if (initrd) add(9, 'EV_EVENT_TAG', 'Linux initrd', ofData(sectionData(uki, initrd)));

  // Replay the expected events from zero (PCRs 4, 9 and 11 start at zero).
  const pcrs: PcrBanks = new Map();
  for (const alg of banks) {
    const bank = new Map<number, Uint8Array>();
    for (const e of events) {
      const d = e.digests.find((x) => x.alg === alg)!.digest;
      bank.set(e.pcr, extend(alg, bank.get(e.pcr) ?? new Uint8Array(d.length), d));
    }
    pcrs.set(alg, bank);
  }
  return {
    bootFlow, stubVersion, stubSectionOrder: legacy ? 'systemd-252' : 'uki-spec',
    authenticode: { uki: ukiHash, kernel: kernelHash }, measuredSections, cmdline, events, pcrs, unverified,
  };
}

/** The version in systemd-stub's `#### LoaderInfo: systemd-stub <version> ####` marker (.sdmagic). */
function readStubVersion(img: PeImage): string | undefined {
  const s = findSection(img, '.sdmagic');
  if (!s) return undefined;
  const text = String.fromCharCode(...sectionData(img, s).subarray(0, 256));
  return /LoaderInfo: systemd-stub ([^ \0]+) ####/.exec(text)?.[1];
}

/** The .cmdline section as systemd-stub converts it: bytes up to the first NUL, UTF-8 decoded. */
function readCmdline(img: PeImage): string | undefined {
  const s = findSection(img, '.cmdline');
  if (!s) return undefined;
  const raw = sectionData(img, s);
  const nul = raw.indexOf(0);
  const text = tryUtf8Decode(nul < 0 ? raw : raw.subarray(0, nul));
  if (text === undefined) throw new MalformedInputError('.cmdline is not valid UTF-8', { path: 'sections.cmdline' });
  return text;
}

/** UTF-16LE code units of a string followed by a NUL code unit (EFI LoadOptions). */
export function utf16leZ(s: string): Uint8Array {
  const out = new Uint8Array(2 * s.length + 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >> 8;
  }
  return out;
}
