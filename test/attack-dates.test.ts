/**
 * One strict ISO 8601 reader for every command (src/util/time.ts): impossible dates are errors, not the next month,
 * and `aicert quote` and `aicert verify` agree on every `--at` text. Expected instants come from Date.UTC fields
 * written out by hand from the calendar, not from the reader. spec/verification.md §Times.
 */
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { parseIsoTime, tryParseIsoTime } from '../src/util/time.js';
import { runCli } from './helpers/cli.js';

const Q = resolve(import.meta.dirname, '../testvectors/quote');

describe('strict ISO 8601 times', () => {
  test('real dates and times, with Z or an offset, are read exactly', () => {
    expect(tryParseIsoTime('2030-02-28')?.getTime()).toBe(Date.UTC(2030, 1, 28));
    expect(tryParseIsoTime('2028-02-29T12:00:00Z')?.getTime()).toBe(Date.UTC(2028, 1, 29, 12));
    expect(tryParseIsoTime('2026-06-01T02:30:00+02:30')?.getTime()).toBe(Date.UTC(2026, 5, 1, 0, 0));
    expect(tryParseIsoTime('2026-06-01T00:00:00.1234Z')?.getTime()).toBe(Date.UTC(2026, 5, 1, 0, 0, 0, 123));
    expect(tryParseIsoTime('0050-01-01')?.getUTCFullYear()).toBe(50);
  });

  test('impossible or ambiguous texts are refused (was: 2030-02-31 became 3 March, "1" became 2001)', () => {
    for (const s of ['2030-02-31', '2029-02-29', '2030-13-01', '2030-00-10', '2030-04-31', '2030-01-01T24:00:00Z', '2030-01-01T10:60Z', '2030-01-01T10:00:60Z',
      '2030-01-01T10:00:00', '2030-01-01T10:00:00+24:00', '1', '2030', '2030-1-1', 'Tue, 1 Dec 2026 10:00:00 GMT', ' 2030-01-01', '2030-01-01 ', '']) {
      expect(tryParseIsoTime(s), s).toBeUndefined();
    }
    expect(() => parseIsoTime('2030-02-31', 'at')).toThrow(MalformedInputError);
  });

  test('aicert quote and aicert verify give the same usage error for --at 1 and --at 2030-02-31', async () => {
    const d = (f: string) => resolve(Q, 'ak-rsa', f);
    for (const at of ['1', '2030-02-31']) {
      const q = await runCli(['quote', '--ak', d('ak.pub'), '--message', d('quote.msg'), '--signature', d('quote.sig'), '--at', at]);
      const v = await runCli(['verify', resolve(import.meta.dirname, '../testvectors/demo/aibom.json'), '--at', at]);
      expect([q.code, v.code], at).toEqual([2, 2]);
      expect(q.err + q.out).toMatch(/--at must be an ISO 8601 time/);
      expect(v.err + v.out).toMatch(/--at must be an ISO 8601 time/);
    }
  });
});
