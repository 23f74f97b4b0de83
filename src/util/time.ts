/**
 * The one ISO 8601 time reader every command and library option uses (spec/verification.md §Times): the RFC 3339
 * profile of ISO 8601 plus a bare date. `YYYY-MM-DD` (00:00 UTC) or `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with `Z` or
 * `±HH:MM`. Every field is range-checked (2030-02-31 is an error, not 3 March); a time without a zone is refused
 * (it would depend on the machine's time zone); anything else (`1`, `2030`, RFC 2822 text) is refused.
 * RFC 3339 §5.6 https://www.rfc-editor.org/rfc/rfc3339#section-5.6
 */
import { MalformedInputError } from '../errors.js';

const RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** Days in a month of the proleptic Gregorian calendar. */
function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** The instant an ISO 8601 / RFC 3339 text names, or undefined when it is not one (or names no real date). */
export function tryParseIsoTime(s: string): Date | undefined {
  const m = typeof s === 'string' ? RE.exec(s) : null;
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return undefined;
  const [h, mi, se] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (h > 23 || mi > 59 || se > 59) return undefined;
  let offset = 0;
  const z = m[8];
  if (z && z !== 'Z' && z !== 'z') {
    const [oh, om] = [Number(z.slice(1, 3)), Number(z.slice(4, 6))];
    if (oh > 23 || om > 59) return undefined;
    offset = (z[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, se, ms) - offset * 60_000;
  const date = new Date(t);
  // Date.UTC maps years 0-99 to 1900-1999: set the full year explicitly.
  if (y < 100) date.setUTCFullYear(y, mo - 1, d);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Like tryParseIsoTime, but a bad text is a MalformedInputError naming the field. */
export function parseIsoTime(s: string, path: string): Date {
  const t = tryParseIsoTime(s);
  if (!t) throw new MalformedInputError(`not an ISO 8601 time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ / ±HH:MM): ${JSON.stringify(String(s).slice(0, 40))}`, { path });
  return t;
}
