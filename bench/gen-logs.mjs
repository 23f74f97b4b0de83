// Synthetic TCG crypto-agile event logs for the size benchmarks (generated in memory: no committed big files).
import { createHash } from 'node:crypto';

/** The first event: TCG_PCR_EVENT carrying a Spec ID Event03 for the given banks ([alg, size] pairs). */
export function specIdHeader(banks = [[4, 20], [11, 32]]) {
  const algs = Buffer.alloc(4 + 4 * banks.length);
  algs.writeUInt32LE(banks.length, 0);
  banks.forEach(([a, s], i) => (algs.writeUInt16LE(a, 4 + 4 * i), algs.writeUInt16LE(s, 6 + 4 * i)));
  const spec = Buffer.concat([Buffer.from('Spec ID Event03\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 2, 0, 2]), algs, Buffer.from([0])]);
  const first = Buffer.alloc(32);
  first.writeUInt32LE(3, 4);
  first.writeUInt32LE(spec.length, 28);
  return Buffer.concat([first, spec]);
}

/**
 * About `bytes` bytes of 16-byte TCG_PCR_EVENT2 records (no digests, no data): the densest event stream a crypto-agile
 * log can hold. `type` defaults to EV_SEPARATOR, whose empty data fails to decode on every event.
 */
export function tinyEventsLog(bytes, type = 4) {
  const head = specIdHeader([[11, 32]]);
  const n = Math.max(1, Math.floor((bytes - head.length) / 16));
  const out = Buffer.alloc(head.length + 16 * n);
  head.copy(out, 0);
  for (let i = 0, o = head.length; i < n; i++, o += 16) {
    out.writeUInt32LE(i % 8, o);
    out.writeUInt32LE(type, o + 4);
  }
  return out;
}

/** About `mb` MB of sha1+sha256 EV_EFI_ACTION events of about 100 bytes each (a realistic event mix for the CLI). */
export function actionEventsLog(mb) {
  const parts = [specIdHeader()];
  let size = parts[0].length;
  for (let i = 0; size < mb * 1e6; i++) {
    const data = Buffer.from(`synthetic event ${i}`);
    const ev = Buffer.alloc(12 + 2 + 20 + 2 + 32 + 4 + data.length);
    ev.writeUInt32LE(i % 10, 0);
    ev.writeUInt32LE(0x80000007, 4);
    ev.writeUInt32LE(2, 8);
    ev.writeUInt16LE(4, 12);
    createHash('sha1').update(data).digest().copy(ev, 14);
    ev.writeUInt16LE(11, 34);
    createHash('sha256').update(data).digest().copy(ev, 36);
    ev.writeUInt32LE(data.length, 68);
    data.copy(ev, 72);
    parts.push(ev);
    size += ev.length;
  }
  return Buffer.concat(parts);
}
