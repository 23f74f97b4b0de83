/**
 * `aicert runs [--json]` (spec/cli.md): lists the runs recorded in $AICERT_HOME/runs (default ~/.aicert).
 * --json prints the state documents as one JSON array. Exit 0; 2 on bad usage or when a state file is unreadable
 * (the readable runs are still listed).
 */
import { aicertHome, listRuns, type RunState } from '../launcher/state.js';
import { parse, printJson, UsageError } from './io.js';
import { stderr } from '../node/stderr.js';
import { safe } from './text.js';

const USAGE = 'aicert runs [--json]';

export async function run(argv: string[], deps: { home?: string } = {}): Promise<number> {
  const { values: o, positionals } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (o.help) {
    process.stdout.write(`usage: ${USAGE}\n\nLists fine-tune runs recorded in $AICERT_HOME/runs (default ~/.aicert/runs) and the cloud\nresources each still owns. 'aicert down RUN' deletes them.\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  // Read every state file; report unreadable ones on stderr.
  const home = deps.home ?? aicertHome();
  const { runs, unreadable } = await listRuns(home);
  for (const u of unreadable) stderr`aicert runs: skipping ${u.file}: ${u.error}\n`;
  if (o.json) printJson(runs);
  else process.stdout.write(formatTable(runs));
  return unreadable.length ? 2 : 0;
}

/** One line per run: id, status, creation time, live resources, public IP. */
function formatTable(runs: RunState[]): string {
  if (!runs.length) return 'no runs recorded\n';
  const rows = runs.map((r) => {
    const live = r.resources.filter((x) => x.status !== 'deleted').length;
    // every cell escaped: state files carry cloud answers and the trainer's output names
    return [r.runId, r.status, r.createdAt.replace(/\.\d+Z$/, 'Z'), `${live} live`, `${r.resourceGroup}/${r.location}`, r.publicIp ?? '-'].map((c) => safe(c, 120));
  });
  const head = ['RUN', 'STATUS', 'CREATED', 'RESOURCES', 'GROUP/REGION', 'PUBLIC IP'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const table = [head, ...rows].map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd() + '\n').join('');
  // Where each live VM's serial log is (boot diagnostics), and what a kept VM holds.
  const notes = runs.flatMap((r) => {
    if (!r.resources.some((x) => x.kind === 'virtualMachine' && x.status !== 'deleted')) return [];
    return [...(r.serialLog ? [`${safe(r.runId)}: serial log: ${safe(r.serialLog, 400)}`] : []), ...(r.status === 'kept' && r.unsavedOutputs ? [`${safe(r.runId)}: KEPT, holds the only copy of ${safe(r.unsavedOutputs, 600)}`] : [])];
  });
  return table + (notes.length ? '\n' + notes.map((n) => `${n}\n`).join('') : '');
}
