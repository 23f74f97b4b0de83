/**
 * Event-data decoders, checked against tpm2-tools' own fixture YAML (expected-yaml-pretty, written by the tpm2-tools
 * test suite from these logs) and against hand-built structures. A decoder failure must never reject a log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEventData } from '../src/eventlog/decode.js';
import { decodeDevicePath, MAX_DEVICE_PATH_NODES } from '../src/eventlog/devicepath.js';
import { eventTypeName, parseTcgLog, TCG_EV } from '../src/eventlog/tcg.js';
import { buildAgileLog } from './eventlog-tcg-oracle.js';
import { vectorsDir } from './helpers/vectors.js';

const dir = vectorsDir();
const T = (f: string) => join(dir!, 'tpm2-tools', f);

/** EventNum -> { field: value } for the scalar `    Field: value` lines of a tpm2-tools fixture YAML. */
function fixtureFields(yaml: string): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  let cur: Record<string, string> = {};
  for (const line of yaml.split('\n')) {
    const n = /^- EventNum: (\d+)/.exec(line);
    if (n) out.set(Number(n[1]), (cur = {}));
    const kv = /^\s+(\w+): '?"?(.*?)"?'?$/.exec(line);
    if (kv && !(kv[1]! in cur)) cur[kv[1]!] = kv[2]!;
  }
  return out;
}

const FIXTURES = ['event-arch-linux.bin', 'event-bootorder.bin', 'event-gce-ubuntu-2104-log.bin', 'event-moklisttrusted.bin', 'event-sd-boot-fedora37.bin'];

describe.skipIf(!dir)('decoders agree with the tpm2-tools fixture YAML', () => {
  it.each(FIXTURES)('%s: device paths, variable names/data, GPT headers, SpecID', (f) => {
    const log = parseTcgLog(new Uint8Array(readFileSync(T(f))));
    const fx = fixtureFields(readFileSync(T(`expected-yaml-pretty/${f}.yaml`), 'utf8'));
    let checked = 0;
    for (const [n, want] of fx) {
      const e = log.events[n]!;
      expect(e.typeName).toBe(want.EventType);
      const d = e.decoded as Record<string, any>;
      if (want.DevicePath !== undefined) {
        expect(d.devicePath ?? d.loadOption?.devicePath).toBe(want.DevicePath);
        checked++;
      }
      if (want.UnicodeName !== undefined) {
        expect([d.name, d.variableGuid, d.data]).toEqual([want.UnicodeName, want.VariableName, want.VariableData?.toLowerCase() ?? d.data]);
        checked++;
      }
      if (want.Signature === 'EFI PART') {
        expect(d.header).toMatchObject({ signature: 'EFI PART', diskGuid: want.DiskGUID, myLba: want.MyLBA });
        checked++;
      }
      if (want.Signature === 'Spec ID Event03') {
        expect(d).toMatchObject({ kind: 'SpecID', uintnSize: Number(want.uintnSize) });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('EV_EFI_ACTION strings, separators, S-CRTM version, systemd-boot UTF-16 EV_IPL and BootOrder decode', () => {
    const sd = parseTcgLog(new Uint8Array(readFileSync(T('event-sd-boot-fedora37.bin'))));
    const ipl = sd.events.find((e) => e.type === TCG_EV.EV_IPL)!;
    expect(ipl.decoded).toEqual({ string: ' console=ttyS0 console=tty0 efi=debug ', encoding: 'utf-16le' });
    const action = sd.events.find((e) => e.type === TCG_EV.EV_EFI_ACTION)!;
    expect(action.decoded).toEqual({ string: 'Calling EFI Application from Boot Option', encoding: 'ascii' });
    expect(sd.events.find((e) => e.type === TCG_EV.EV_SEPARATOR)!.decoded).toEqual({ value: '0x00000000', isError: false });
    const arch = parseTcgLog(new Uint8Array(readFileSync(T('event-arch-linux.bin'))));
    expect(arch.events.find((e) => e.type === TCG_EV.EV_S_CRTM_VERSION)!.decoded).toEqual({ guid: '546bfb1e-1d0c-4055-a4ad-4ef4bf17b83a' });
    const bo = parseTcgLog(new Uint8Array(readFileSync(T('event-bootorder.bin'))));
    expect(bo.events.find((e) => (e.decoded as any)?.name === 'BootOrder')!.decoded).toMatchObject({ bootOrder: ['0001', '0000', '0002'] }) // fixture VariableData 010000000200;
    expect(bo.events.find((e) => (e.decoded as any)?.name === 'Boot0001')!.decoded).toMatchObject({ loadOption: { description: 'UEFI Misc Device' } });
  });
});

describe('decoder robustness', () => {
  it('a malformed UEFI_IMAGE_LOAD_EVENT keeps the raw bytes and a decode error; the log still parses', () => {
    const bad = new Uint8Array(40).fill(0xff); // LengthOfDevicePath 2^64-1
    const log = parseTcgLog(buildAgileLog([{ pcr: 4, type: TCG_EV.EV_EFI_BOOT_SERVICES_APPLICATION, data: bad }]));
    expect(log.events[1]!.data).toEqual(bad);
    expect((log.events[1]!.decoded as { error: string }).error).toMatch(/too large|needs/);
  });

  it('a GPT event declaring 2^40 partitions fails in the decoder only', () => {
    const d = decodeEventData(TCG_EV.EV_EFI_GPT_EVENT, (() => {
      const b = new Uint8Array(92 + 8);
      const v = new DataView(b.buffer);
      b.set(new TextEncoder().encode('EFI PART'));
      v.setUint32(84, 128, true);
      v.setBigUint64(92, 1n << 40n, true);
      return b;
    })());
    expect((d as { error: string }).error).toMatch(/partitions/);
  });

  it('device paths are capped in node count and reject truncated nodes', () => {
    const node = [1, 1, 6, 0, 0, 1];
    const many = new Uint8Array(Array.from({ length: MAX_DEVICE_PATH_NODES + 1 }, () => node).flat());
    expect(() => decodeDevicePath(many)).toThrow(/more than 64 nodes/);
    expect(() => decodeDevicePath(new Uint8Array([1, 1, 0xff, 0xff]))).toThrow(/needs/);
    expect(() => decodeDevicePath(new Uint8Array([1, 1, 2, 0]))).toThrow(/length 2 < 4/);
    expect(decodeDevicePath(new Uint8Array([2, 1, 12, 0, 0xd0, 0x41, 0x03, 0x0a, 0, 0, 0, 0, 0x7f, 0xff, 4, 0])).text).toBe('PciRoot(0x0)');
  });

  it('unknown event types stay raw and get a stable name', () => {
    const log = parseTcgLog(buildAgileLog([{ pcr: 4, type: 0x1234, data: new Uint8Array([1, 2, 3]) }]));
    expect(log.events[1]!.decoded).toBeUndefined();
    expect(log.events[1]!.typeName).toBe('EV_UNKNOWN_0x00001234');
    expect(eventTypeName(TCG_EV.EV_EFI_HCRTM_EVENT)).toBe('EV_EFI_HCRTM_EVENT');
  });

  it('StartupLocality and SP800-155 Event3 EV_NO_ACTION data decode', () => {
    const te = new TextEncoder();
    expect(decodeEventData(3, new Uint8Array([...te.encode('StartupLocality\0'), 3]))).toEqual({ kind: 'StartupLocality', locality: 3 });
    const str = (s: string) => [s.length, ...te.encode(s)];
    const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
    const ev3 = new Uint8Array([
      ...te.encode('SP800-155 Event3'), ...u32(11129), ...new Array(16).fill(0), ...str('Google'), ...str('Google Compute Engine'),
      ...str('1'), ...str('Google'), ...u32(11129), ...str('GCE'), ...u32(2), ...u32(3), 1, 2, 3, ...u32(0), ...u32(0),
    ]);
    expect(decodeEventData(3, ev3)).toMatchObject({ kind: 'SP800-155', platformModel: 'Google Compute Engine', rimLocator: { type: 2, data: '010203' } });
  });
});
