// The stderr progress bar: silent unless the sink is a TTY; shows bytes, MB/s and ETA; redraws at most every interval.
import { describe, expect, test } from 'vitest';
import { createProgressBar, formatBytes, formatEta, renderProgress } from '../src/node/progress.js';

/** A fake terminal that records writes, with a controllable clock. */
function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 100, writes, write: (s: string) => void writes.push(s) };
}

describe('progress bar', () => {
  test('never writes when the sink is not a TTY', () => {
    const s = sink(false);
    const bar = createProgressBar(s, { intervalMs: 0 });
    bar.update(10, 100);
    bar.done();
    expect(s.writes).toEqual([]);
  });

  test('on a TTY: bytes done / total, MB/s from elapsed time, ETA, then the line is cleared', () => {
    const s = sink(true);
    let now = 0;
    const bar = createProgressBar(s, { intervalMs: 100, now: () => now });
    now = 2000; // 2 s for 3 GB: 1500 MB/s, 7 GB left: ETA 5 s
    bar.update(3e9, 10e9);
    now = 2050; // within the redraw interval: no write
    bar.update(3.1e9, 10e9);
    bar.done();
    expect(s.writes).toHaveLength(2);
    expect(s.writes[0]).toMatch(/^\r\[#{9}\.{21}\]\s+30%  3\.00 GB \/ 10\.0 GB  1500 MB\/s  ETA 5s\x1b\[K$/);
    expect(s.writes[1]).toBe('\r\x1b[K');
  });

  test('unknown total (stdin): bytes and rate only; narrow terminals get no bar', () => {
    expect(renderProgress(5e6, undefined, 1000)).toBe('5.00 MB  5 MB/s');
    expect(renderProgress(3e9, 10e9, 2000, 40)).not.toContain('[');
    expect(renderProgress(3e9, 10e9, 2000, 40).length).toBeLessThanOrEqual(40);
    expect(renderProgress(1, 2, 1000, 60)).toMatch(/^\[#+\.+\]/);
  });

  test('units', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(14e9)).toBe('14.0 GB');
    expect(formatBytes(123456789)).toBe('123 MB');
    expect(formatEta(42)).toBe('42s');
    expect(formatEta(185)).toBe('3m05s');
    expect(formatEta(3720)).toBe('1h02m');
    expect(formatEta(Infinity)).toBe('--');
  });
});
