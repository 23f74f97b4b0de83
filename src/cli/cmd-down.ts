/**
 * `aicert down RUN` (spec/cli.md): deletes every cloud resource a recorded run still owns (VM → disk → NIC →
 * IP → NSG → vnet). Exit 0 when nothing is left, 3 when a cloud call failed (run it again), 2 on bad usage or an
 * unknown run. The ARM endpoint is AZURE_ARM_ENDPOINT, else the one recorded in the run's state file.
 */
import { ArmClient, type ArmClientOptions } from '../launcher/arm.js';
import { downRun, type TeardownOptions } from '../launcher/provision.js';
import { aicertHome, RunNotFoundError } from '../launcher/state.js';
import { parse, UsageError } from './io.js';
import { stderr, stderrLines } from '../node/stderr.js';

const USAGE = 'aicert down RUN';

export interface DownDeps {
  home?: string;
  /** ARM client options (credential, fetch, CA…) for tests and embedders. */
  arm?: ArmClientOptions;
  /** Teardown back-off (how long transient refusals are retried, an injected clock). */
  teardown?: Omit<TeardownOptions, 'log'>;
}

export async function run(argv: string[], deps: DownDeps = {}): Promise<number> {
  const { values: o, positionals } = parse(argv, { help: { type: 'boolean', short: 'h' } }, USAGE);
  if (o.help) {
    process.stdout.write(`usage: ${USAGE}\n\nDeletes every cloud resource run RUN still owns ('aicert runs' lists them).\nTransient refusals (a NIC reserved after a failed VM create, 409, 429, 5xx) are retried for up to 20 minutes\nper resource. Exit 0 when nothing is left, 3 when a cloud call failed (run it again: it resumes).\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`exactly one RUN is required\nusage: ${USAGE}`);
  const runId = positionals[0]!;
  const log = stderrLines('aicert down: ');
  // Delete what the state file lists; failures are recorded there and reported here.
  let report;
  try {
    report = await downRun(runId, {
      home: deps.home ?? aicertHome(),
      arm: (s) => new ArmClient({ endpoint: process.env.AZURE_ARM_ENDPOINT || s.armEndpoint, log, ...deps.arm }),
      log,
      ...(deps.teardown ? { teardown: deps.teardown } : {}),
    });
  } catch (e) {
    if (e instanceof RunNotFoundError) {
      stderr`aicert down: ${e.message} (see 'aicert runs')\n`;
      return 2;
    }
    throw e;
  }
  for (const f of report.failed) stderr`aicert down: could not delete ${f.id}: ${f.error}\n`;
  const gone = report.deleted.length + report.absent.length;
  if (report.failed.length) {
    process.stdout.write(`run ${runId}: ${report.failed.length} resource(s) could not be deleted; run 'aicert down ${runId}' again\n`);
    return 3;
  }
  process.stdout.write(gone ? `run ${runId}: deleted ${report.deleted.length}, already gone ${report.absent.length}; nothing left\n` : `run ${runId}: nothing left\n`);
  return 0;
}
