/**
 * `aicert eventlog FILE [--json] [--pcrs FILE]`: parses and replays an event log (format auto-detected), prints the
 * events and the replayed PCRs, and with --pcrs compares against expected values (exit 1 naming each mismatch).
 * Contract: spec/cli.md §aicert eventlog.
 */
import { MalformedInputError } from '../errors.js';
import { safe } from './text.js';
import { parseEventLog } from '../eventlog/detect.js';
import { compareLog } from '../eventlog/compare.js';
import { initialPcrValue, replay } from '../eventlog/replay.js';
import { eventCount, iterEvents } from '../eventlog/store.js';
import type { EventLog, LogEvent, PcrBanks } from '../eventlog/types.js';
import { toHex, tryFromHex } from '../util/bytes.js';
import { replayCcmr } from '../eventlog/cel-ccmr.js';
import { digestSize, hashAlgByName, hashName } from '../util/hash.js';
import { markJsonPrinted, MAX_LARGE_INPUT_BYTES, parse, readInput, UsageError } from './io.js';
import { StreamWriter } from './stream-out.js';
import { stderr, stderrLines } from '../node/stderr.js';
import { readJson } from '../util/json.js';

const USAGE = 'aicert eventlog FILE [--json] [--pcrs FILE]';

/** Expected values from --pcrs: bank alg -> pcr -> bytes. Accepts the contract form, or it wrapped in "pcrs"/"banks". */
export function parsePcrsFile(bytes: Uint8Array): PcrBanks {
  let doc: unknown;
  try {
    doc = readJson(bytes, '--pcrs');
  } catch {
    throw new MalformedInputError('--pcrs: not JSON', { path: 'pcrs' });
  }
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (obj(doc) && (obj(doc.pcrs) || obj(doc.banks))) doc = obj(doc.pcrs) ? doc.pcrs : doc.banks;
  if (!obj(doc)) throw new MalformedInputError('--pcrs: expected {"<bank>": {"<pcr>": "<hex>"}}', { path: 'pcrs' });
  const res: PcrBanks = new Map();
  for (const [bank, pcrs] of Object.entries(doc)) {
    const alg = hashAlgByName(bank);
    if (alg === undefined || !obj(pcrs)) throw new MalformedInputError(`--pcrs: unknown bank ${bank}`, { path: `pcrs.${bank}` });
    const m = new Map<number, Uint8Array>();
    for (const [p, hex] of Object.entries(pcrs)) {
      const n = Number(p);
      const v = typeof hex === 'string' ? tryFromHex(hex) : undefined;
      if (!/^\d+$/.test(p) || n > 23) throw new MalformedInputError(`--pcrs: invalid PCR index ${p}`, { path: `pcrs.${bank}.${p}` });
      if (!v || v.length !== digestSize(alg)) throw new MalformedInputError(`--pcrs: ${bank} PCR ${p} is not a ${digestSize(alg)}-byte hex value`, { path: `pcrs.${bank}.${p}` });
      m.set(n, v);
    }
    res.set(alg, m);
  }
  return res;
}

/** One line per failing (bank, PCR): the library's comparison (src/eventlog/compare.ts), same rules as a quote. */
export function comparePcrs(log: EventLog, _rep: PcrBanks, expected: PcrBanks): string[] {
  return compareLog(log, expected).results.filter((r) => r.status === 'mismatch' || r.status === 'bank-missing').map((r) => r.message);
}

/** The contract's `pcrs` object: bank name -> PCR -> lowercase hex, PCRs ascending. */
function pcrsJson(rep: PcrBanks): Record<string, Record<string, string>> {
  const o: Record<string, Record<string, string>> = {};
  for (const [alg, pcrs] of rep) {
    o[hashName(alg)] = Object.fromEntries([...pcrs].sort((a, b) => a[0] - b[0]).map(([p, v]) => [String(p), toHex(v)]));
  }
  return o;
}

/** Byte values inside decoded data (e.g. unknown CEL content) as lowercase hex, not as index→byte objects. */
function hexBytes(v: unknown, depth = 0): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (depth > 32 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => hexBytes(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hexBytes(x, depth + 1)]));
}

/** An event as JSON: digests keyed by bank name, raw data in hex, decoded data as decoded. */
function eventJson(e: LogEvent): Record<string, unknown> {
  return {
    index: e.index,
    pcr: e.pcr,
    type: e.type,
    typeName: e.typeName,
    digests: Object.fromEntries(e.digests.map((d) => [hashName(d.alg), toHex(d.digest)])),
    data: toHex(e.data),
    ...(e.decoded !== undefined ? { decoded: hexBytes(e.decoded) } : {}),
    ...(e.noExtend ? { noExtend: true } : {}),
    offset: e.offset,
  };
}

/** A one-line summary of an event's decoded data for the human table. */
function summary(e: LogEvent): string {
  const d = e.decoded as Record<string, unknown> | undefined;
  const cut = (s: string) => (s.length > 100 ? s.slice(0, 97) + '...' : s);
  if (d && typeof d === 'object') {
    if (typeof d.error === 'string') return `(decode error: ${d.error}) ${cut(toHex(e.data))}`;
    if (typeof d.string === 'string') return JSON.stringify(cut(d.string));
    if (d.kind === 'SpecID') return `Spec ID Event03: ${(d.algorithms as { name: string }[]).map((a) => a.name).join(', ')}`;
    if (d.kind === 'StartupLocality') return `StartupLocality ${d.locality}`;
    if (typeof d.devicePath === 'string') return cut(d.devicePath);
    if (typeof d.name === 'string') return cut(`${d.name} (${d.variableGuid}) ${d.dataLength} bytes`);
    if (typeof d.version === 'string') return JSON.stringify(d.version);
    if (typeof d.isError === 'boolean') return `separator ${d.value}${d.isError ? ' (error)' : ''}`;
    return cut(JSON.stringify(d));
  }
  return e.data.length ? cut(toHex(e.data)) : '';
}

/** Prints the human table (streamed, with backpressure): index, PCR, type, digests and decoded data, then the replayed PCRs. */
async function printHuman(log: EventLog, rep: PcrBanks, w: StreamWriter): Promise<void> {
  const out = (s: string) => w.line(s);
  await out(`format: ${log.format}   banks: ${log.banks.map(hashName).join(', ')}   events: ${eventCount(log)}`);
  for (const x of log.warnings) await out(`warning: ${safe(x, 400)}`);
  await out('');
  await out(`${'#'.padStart(5)}  ${'PCR'.padStart(3)}  ${'TYPE'.padEnd(34)} DATA`);
  for (const e of iterEvents(log)) {
    const pcr = e.pcr > 23 ? '0x' + e.pcr.toString(16) : String(e.pcr);
    await out(`${String(e.index).padStart(5)}  ${pcr.padStart(3)}  ${safe(e.typeName).padEnd(34)} ${safe(summary(e), 300)}${e.noExtend ? '  [not extended]' : ''}`);
    for (const d of e.digests) await out(`${''.padStart(12)}${hashName(d.alg).padEnd(8)} ${toHex(d.digest)}`);
  }
  await out('');
  await out('replayed PCRs:');
  for (const [alg, pcrs] of rep) {
    await out(`  ${hashName(alg)}:`);
    for (const [p, v] of [...pcrs].sort((a, b) => a[0] - b[0])) await out(`    ${String(p).padStart(2)}: ${toHex(v)}`);
  }
}

/** Runs the command; returns the exit code (errors propagate to main.ts, which maps them). */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, pcrs: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one event-log FILE\nusage: ${USAGE}`);
  // The file's bytes belong to this command alone, so a TCG log adopts them instead of copying.
  const log = parseEventLog(readInput(positionals[0]!, 'event log', MAX_LARGE_INPUT_BYTES), { tcg: { adopt: true } });
  const rep = replay(log);
  const expected = values.pcrs !== undefined ? parsePcrsFile(readInput(values.pcrs, 'PCR file')) : undefined;
  const cmp = expected ? compareLog(log, expected) : undefined;
  const bad = cmp ? cmp.results.filter((r) => r.status === 'mismatch' || r.status === 'bank-missing').map((r) => r.message) : [];
  // Output is streamed event by event: memory for one chunk of text, whatever the size of the log.
  const w = new StreamWriter();
  if (values.json) {
    const mismatch = cmp && !cmp.ok ? { error: { code: 'PCR_REPLAY_MISMATCH', message: bad.length ? `${bad.length} expected PCR value(s) differ from the replay` : 'no expected PCR value could be compared with the log' } } : {};
    markJsonPrinted();
    // CEL CCMR records extend confidential-computing MRs, reported apart from PCRs (spec/confidential-vms.md §10).
    const mrs = replayCcmr(log);
    await w.jsonDocument({ format: log.format, pcrs: pcrsJson(rep), ...(mrs.size ? { mrs: pcrsJson(mrs) } : {}), ...(cmp ? { comparison: cmp } : {}), ...mismatch }, 'events', (function* () {
      for (const e of iterEvents(log)) yield eventJson(e);
    })());
    for (const x of log.warnings) stderr`warning: ${x}\n`;
  } else await printHuman(log, rep, w);
  // Name each mismatching PCR (stderr with --json so stdout stays one JSON document).
  const say = values.json ? stderrLines('') : (s: string) => void w.line(s);
  for (const b of bad) say(`MISMATCH ${b}`);
  const untouched = cmp?.results.filter((r) => r.status === 'not-in-log' || r.status === 'bank-not-in-log' || r.status === 'not-quoted') ?? [];
  for (const r of untouched) say(`not compared: ${r.message}`);
  const n = cmp?.results.filter((r) => r.status === 'match').length ?? 0;
  if (cmp?.ok) say(`all ${n} compared PCR values match${untouched.length ? ` (${untouched.length} expected values not compared: the log does not extend them)` : ''}`);
  else if (cmp && bad.length === 0) say('no expected PCR value could be compared with the log');
  await w.flush();
  return cmp && !cmp.ok ? 1 : 0;
}
