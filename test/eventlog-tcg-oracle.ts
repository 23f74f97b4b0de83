/**
 * Test-only independent oracle: a minimal TCG log walker and PCR replay written separately from src/eventlog, hashing
 * with node:crypto (OpenSSL). Tests compare the library against it and against origin-provided values; it shares no
 * code with the implementation under test. Also a tiny builder for hostile crypto-agile logs.
 */
import { createHash } from 'node:crypto';

const OSSL: Record<number, [string, number]> = { 0x04: ['sha1', 20], 0x0b: ['sha256', 32], 0x0c: ['sha384', 48], 0x0d: ['sha512', 64], 0x12: ['sm3', 32] };

/** node:crypto hash by TPM alg id. */
export function h(alg: number, ...parts: Uint8Array[]): Buffer {
  const x = createHash(OSSL[alg]![0]);
  for (const p of parts) x.update(p);
  return x.digest();
}

/** bank alg -> pcr -> hex, replayed independently (EV_NO_ACTION skipped; PCR0 locality/H-CRTM; 17-22 0xFF). */
export function oracleReplay(buf: Uint8Array): Map<number, Map<number, string>> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const agile = b.length > 48 && b.readUInt32LE(4) === 3 && b.subarray(32, 48).toString('latin1') === 'Spec ID Event03\0';
  const sizes = new Map<number, number>();
  let o = 0;
  const evs: { pcr: number; type: number; data: Buffer; digests: Map<number, Buffer> }[] = [];
  if (agile) {
    const n = b.readUInt32LE(56);
    for (let i = 0; i < n; i++) sizes.set(b.readUInt16LE(60 + 4 * i), b.readUInt16LE(62 + 4 * i));
    o = 32 + 28 + 4 * n + 1 + b[60 + 4 * n]!;
  } else sizes.set(4, 20);
  while (o < b.length) {
    if (b.subarray(o).every((x) => x === 0xff) || b.subarray(o).every((x) => x === 0)) break;
    const pcr = b.readUInt32LE(o);
    const type = b.readUInt32LE(o + 4);
    const digests = new Map<number, Buffer>();
    o += 8;
    if (agile) {
      const c = b.readUInt32LE(o);
      o += 4;
      for (let i = 0; i < c; i++) {
        const alg = b.readUInt16LE(o);
        digests.set(alg, b.subarray(o + 2, o + 2 + sizes.get(alg)!));
        o += 2 + sizes.get(alg)!;
      }
    } else {
      digests.set(4, b.subarray(o, o + 20));
      o += 20;
    }
    const len = b.readUInt32LE(o);
    evs.push({ pcr, type, data: b.subarray(o + 4, o + 4 + len), digests });
    o += 4 + len;
  }
  const loc = evs.find((e) => e.type === 3 && e.pcr === 0 && e.data.subarray(0, 16).toString('latin1') === 'StartupLocality\0');
  const hcrtm = evs.some((e) => e.type === 0x80000010 && e.pcr === 0);
  const out = new Map<number, Map<number, string>>();
  for (const e of evs) {
    if (e.type === 3 || e.pcr > 23) continue;
    for (const [alg, d] of e.digests) {
      if (!OSSL[alg]) continue;
      const bank = out.get(alg) ?? out.set(alg, new Map()).get(alg)!;
      let cur = bank.get(e.pcr);
      if (cur === undefined) {
        const z = Buffer.alloc(OSSL[alg]![1], e.pcr >= 17 && e.pcr <= 22 ? 0xff : 0);
        if (e.pcr === 0) z[z.length - 1] = hcrtm ? 4 : loc ? loc.data[16]! : 0;
        cur = z.toString('hex');
      }
      bank.set(e.pcr, h(alg, Buffer.from(cur, 'hex'), d).toString('hex'));
    }
  }
  return out;
}

/** One event for the builder: digests default to H(data) in every listed bank. */
export interface BuildEvent {
  pcr: number;
  type: number;
  data: Uint8Array;
  /** Banks to include (default: all SpecID banks); `digest` overrides a bank's digest. */
  banks?: number[];
  digest?: Record<number, Uint8Array>;
  /** Raw EventSize to write instead of data.length (for overflow tests). */
  eventSize?: number;
}

/** Builds a crypto-agile log: SpecID event (sha1/sha256 by default), then the given events. */
export function buildAgileLog(events: BuildEvent[], banks: number[] = [0x04, 0x0b]): Uint8Array {
  const spec: Buffer[] = [Buffer.from('Spec ID Event03\0', 'latin1')];
  const hdr = Buffer.alloc(12);
  hdr.writeUInt32LE(0, 0);
  hdr.writeUInt8(0, 4);
  hdr.writeUInt8(2, 5);
  hdr.writeUInt8(0, 6);
  hdr.writeUInt8(2, 7);
  hdr.writeUInt32LE(banks.length, 8);
  spec.push(hdr);
  for (const a of banks) {
    const x = Buffer.alloc(4);
    x.writeUInt16LE(a, 0);
    x.writeUInt16LE(OSSL[a]![1], 2);
    spec.push(x);
  }
  spec.push(Buffer.from([0]));
  const specData = Buffer.concat(spec);
  const first = Buffer.alloc(32);
  first.writeUInt32LE(3, 4);
  first.writeUInt32LE(specData.length, 28);
  const parts: Buffer[] = [first, specData];
  for (const e of events) {
    const use = e.banks ?? banks;
    const head = Buffer.alloc(12);
    head.writeUInt32LE(e.pcr >>> 0, 0);
    head.writeUInt32LE(e.type >>> 0, 4);
    head.writeUInt32LE(use.length, 8);
    parts.push(head);
    for (const a of use) {
      const id = Buffer.alloc(2);
      id.writeUInt16LE(a, 0);
      parts.push(id, Buffer.from(e.digest?.[a] ?? h(a, e.data)));
    }
    const len = Buffer.alloc(4);
    len.writeUInt32LE((e.eventSize ?? e.data.length) >>> 0, 0);
    parts.push(len, Buffer.from(e.data));
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Oracle result as the library's PcrBanks shape (bank -> pcr -> bytes), for use as "quoted" values. */
export function asPcrBanks(m: Map<number, Map<number, string>>): Map<number, Map<number, Uint8Array>> {
  const out = new Map<number, Map<number, Uint8Array>>();
  for (const [alg, pcrs] of m) out.set(alg, new Map([...pcrs].map(([p, v]) => [p, new Uint8Array(Buffer.from(v, 'hex'))])));
  return out;
}
