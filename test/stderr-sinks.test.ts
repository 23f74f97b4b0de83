/**
 * Untrusted text on stderr (spec/cli.md §Human reports, spec/runner-protocol.md §Flow): one stderr writer
 * (src/node/stderr.ts) escapes every interpolated value, no other file in src/ writes to stderr, and the runner's log
 * stream (a hostile trainer's output) reaches the builder's terminal line by line, escaped and bounded; the runner
 * itself keeps only the last 4 MiB of it. The runner runs on swtpm with a trainer that prints escape sequences.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { Agent } from 'node:https';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressBar } from '../src/launcher/blob.js';
import { RunnerClient } from '../src/launcher/runner-client.js';
import { escaped, LogLines, MAX_LOG_LINE } from '../src/node/stderr.js';
import { makeCa, makeMirror, provisionedSwtpm, spawnRunner, tempDir, type RunnerProcess } from './helpers/runner-rig.js';
import { swtpmAvailable, type Swtpm } from './helpers/swtpm.js';
import { within } from './helpers/bounded.js';

const SRC = resolve(import.meta.dirname, '../src');
const files = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : n.endsWith('.ts') ? [join(d, n)] : []));
/** Terminal control: ESC, C1 controls, a lone CR, BEL, bidi overrides. */
const CONTROL = /[\x1b\x07\r\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('one stderr writer', () => {
  it('no file in src/ or bin/ but src/node/stderr.ts writes to stderr or the console (was: 27 raw writes)', () => {
    const raw = [...files(SRC), ...files(resolve(SRC, '../bin'))].flatMap((f) =>
      f.endsWith('node/stderr.ts') ? [] : readFileSync(f, 'utf8').split('\n').flatMap((l, i) => (/process\.stderr\.write|\bconsole\.(error|warn|log|info|debug)\b/.test(l) ? [`${f.slice(SRC.length + 1)}:${i + 1}`] : [])),
    );
    expect(files(SRC).length).toBeGreaterThan(100);
    expect(raw).toEqual([]);
    // the stderr stream itself is only handed to progress bars (numbers) or used for the fixed help text
    const allowed = /createProgressBar\(process\.stderr\)|sink: ProgressSink = process\.stderr|out: NodeJS\.WriteStream = process\.stderr|\(cmd \? process\.stdout : process\.stderr\)\.write\(HELP|default process\.stderr/;
    const streams = files(SRC).flatMap((f) =>
      f.endsWith('node/stderr.ts') ? [] : readFileSync(f, 'utf8').split('\n').flatMap((l, i) => (/process\.stderr/.test(l) && !allowed.test(l) ? [`${f.slice(SRC.length + 1)}:${i + 1}`] : [])),
    );
    expect(streams).toEqual([]);
  });

  it('the download progress lines escape the output name (the trainer names its outputs; was: raw)', () => {
    let out = '';
    const p = progressBar({ isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream);
    p(1, 2, 'model\x1b[2J\nVALID.bin');
    expect(out).toBe('downloading model\\x1b[2J\\nVALID.bin\n');
  });

  it('the template escapes every interpolated value and keeps its own text', () => {
    const hostile = 'x\x1b[2J\nVALID \u202e';
    const line = escaped`aicert: ${hostile}\n`;
    expect(line).toBe('aicert: x\\x1b[2J\\nVALID \\u{202e}\n');
    expect(line.slice(0, -1)).not.toMatch(CONTROL);
  });

  it('log lines: escape sequences escaped, CR ends a line, an endless line is passed on in bounded pieces', () => {
    let out = '';
    const l = new LogLines((t) => (out += t));
    l.write('step 1\x1b[2J\x1b[H');
    l.write('\r\nVALID\rfake\n');
    for (let i = 0; i < 100; i++) l.write('y'.repeat(100_000));
    l.end();
    expect(out).not.toMatch(CONTROL);
    expect(out.split('\n').slice(0, 3)).toEqual(['step 1\\x1b[2J\\x1b[H', 'VALID', 'fake']);
    for (const line of out.split('\n')) expect(line.length).toBeLessThan(MAX_LOG_LINE + 100);
  });
});

describe.skipIf(!swtpmAvailable())('a hostile trainer against the runner log', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let sw: Swtpm;
  let runner: RunnerProcess;
  let configYaml: string;
  // 6 MiB of output, then an escape sequence that would clear the screen and print a fake verdict.
  const TRAINER = "const l='z'.repeat(1023)+'\\n';for(let i=0;i<6*1024;i++)process.stdout.write(l);process.stdout.write('\\x1b[2J\\x1b[HVALID\\r\\n');";

  beforeAll(async () => {
    tmp = await tempDir('aicert-logs-');
    const ca = await makeCa(join(tmp.dir, 'ca'));
    sw = await provisionedSwtpm(ca);
    const m = await makeMirror(join(tmp.dir, 'mirror'));
    configYaml = m.configYaml;
    runner = await spawnRunner({ tcti: sw.tcti, mirror: m.mirror, workDir: join(tmp.dir, 'work'), args: ['--unconfined-training', '--cert-chain', join(ca.dir, 'intermediate.pem')], command: [process.execPath, '-e', TRAINER] });
  });
  afterAll(async () => {
    await runner?.stop();
    await sw?.stop();
    await tmp?.rm();
  });

  it('the runner keeps the last 4 MiB; the launcher shows it escaped (was: 6 MiB kept, ESC printed raw)', async () => {
    const client = new RunnerClient({ url: runner.url, agent: new Agent({ rejectUnauthorized: false }) });
    await client.sendConfig(configYaml);
    await client.start();
    // the live stream through the launcher's filter: nothing that drives a terminal
    let shown = '';
    const lines = new LogLines((t) => (shown += t));
    await within(client.streamLogs((t) => lines.write(t)), 120_000, 'the live log stream to end');
    lines.end();
    expect(shown).toMatch(/\[runner\] status: (done|failed)/);
    expect(shown).not.toMatch(CONTROL);
    // read again from the start once the run is over: the runner kept only the last 4 MiB, the escape at its end
    let raw = '';
    await within(client.streamLogs((t) => (raw += t)), 120_000, 'the second log stream to end');
    expect(raw.length).toBeLessThanOrEqual(4 << 20);
    expect(raw).toMatch(CONTROL);
    expect(shown).toContain('\\x1b[2J\\x1b[HVALID');
  });
});
