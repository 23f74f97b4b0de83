/**
 * The training step of the reference runner: one command (argv, no shell) run through a sandbox backend
 * (src/runner/sandbox.ts) with the fetched inputs read-only and one writable outputs folder; its stdout/stderr become
 * the /build/status log. Once the sandbox's every process has ended, the outputs are copied out and hashed
 * (src/runner/outputs.ts), and every `trainer_state.json` among them contributes its `total_flos` (as the
 * original's compute_consumed events).
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson } from '../util/json.js';
import { collectOutputs, type CollectedOutput } from './outputs.js';
import type { PreparedRun, SandboxBackend, SandboxMounts } from './sandbox.js';

/** Host paths of the training run. */
export interface TrainingInputs extends SandboxMounts {
  /** Where the runner copies the outputs to: never visible to the sandbox. */
  collectDir: string;
}

export interface TrainingResult {
  seconds: number;
  totalFlos: number[];
  /** The runner's own copy: what is measured and uploaded. */
  outputDir: string;
  outputs: CollectedOutput[];
}

/** The command failed (non-zero exit, signal, or could not start), or its outputs are refused. */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Spawns the prepared process; resolves once it (and, through the sandbox, its whole process tree) has ended. */
function runPrepared(p: PreparedRun, log: (t: string) => void, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // detached: the unconfined backend's trainer gets its own process group, killed as a whole below.
    const child = spawn(p.file, p.args, { env: p.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killAll = () => {
      void p.kill();
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const onAbort = () => killAll();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', log);
    child.stderr.setEncoding('utf8').on('data', log);
    child.once('error', (e) => reject(signal?.aborted ? signal.reason : new TrainingError(`training command could not run: ${e.message}`)));
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      // Whatever is left in the group goes too (bwrap and podman already ended their pid namespace).
      killAll();
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else reject(new TrainingError(`training command ${sig ? `was killed by ${sig}` : `exited with ${code}`}`));
    });
  });
}

/** Runs the prepared command; `log` receives output chunks as text. Rejects with TrainingError, or the signal's reason. */
export async function runTraining(prepared: PreparedRun, inputs: TrainingInputs, log: (text: string) => void, signal?: AbortSignal): Promise<TrainingResult> {
  const t0 = process.hrtime.bigint();
  try {
    await runPrepared(prepared, log, signal);
  } finally {
    await prepared.cleanup();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let outputs: CollectedOutput[];
  try {
    outputs = await collectOutputs(inputs.outputDir, inputs.collectDir);
  } catch (e) {
    throw new TrainingError((e as Error).message);
  }
  if (outputs.length === 0) throw new TrainingError('training produced no output files');
  const totalFlos: number[] = [];
  for (const o of outputs.filter((x) => x.path === 'trainer_state.json' || x.path.endsWith('/trainer_state.json'))) {
    const v = await readFlos(join(inputs.collectDir, o.path), o.size);
    if (v !== undefined) totalFlos.push(v);
  }
  return { seconds, totalFlos, outputDir: inputs.collectDir, outputs };
}

/** total_flos of a trainer_state.json copy (≤ 16 MiB, else ignored); undefined when absent or not a finite number. */
async function readFlos(path: string, size: number): Promise<number | undefined> {
  if (size > 16 << 20) return undefined;
  const fh = await open(path, 'r');
  try {
    // The trainer's file is untrusted: the strict reader (spec/strict-encodings.md §JSON); any failure means "no value".
    const v = (readJson(new Uint8Array(await fh.readFile()), 'trainer_state.json', { maxDepth: 64 }) as { total_flos?: unknown } | null)?.total_flos;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Backend choice as the runner's options state it (re-exported for the server). */
export type { SandboxBackend };
