/**
 * The pluggable training step of the reference runner: one command (argv, no shell) run with the fetched inputs in
 * its environment; its stdout/stderr become the /build/status log. Afterwards every file under the output directory
 * is an output (sorted POSIX paths, whole-file sha256), and every `trainer_state.json` among them contributes its
 * `total_flos` (as the original's compute_consumed events).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { hashFile } from '../node/hashing.js';

/** Environment given to the training command. */
export interface TrainingInputs {
  modelDir: string;
  datasetDir: string;
  datasetFile: string;
  /** The axolotl YAML exactly as received. */
  configFile: string;
  outputDir: string;
}

export interface TrainingResult {
  seconds: number;
  totalFlos: number[];
  outputs: { path: string; sha256: string; size: number }[];
}

/** The command failed (non-zero exit, signal, or could not start). */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Runs the command; `log` receives output chunks as text. Rejects with TrainingError, or the signal's reason. */
export async function runTraining(
  command: readonly string[],
  inputs: TrainingInputs,
  log: (text: string) => void,
  signal?: AbortSignal,
): Promise<TrainingResult> {
  if (command.length === 0) throw new TypeError('training command is empty');
  const t0 = process.hrtime.bigint();
  const env = {
    ...process.env,
    AICERT_MODEL_DIR: inputs.modelDir,
    AICERT_DATASET_DIR: inputs.datasetDir,
    AICERT_DATASET_FILE: inputs.datasetFile,
    AICERT_CONFIG_FILE: inputs.configFile,
    AICERT_OUTPUT_DIR: inputs.outputDir,
  };
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    child.stdout.setEncoding('utf8').on('data', log);
    child.stderr.setEncoding('utf8').on('data', log);
    child.once('error', (e) => reject(signal?.aborted ? signal.reason : new TrainingError(`training command could not run: ${e.message}`)));
    child.once('close', (code, sig) => {
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else reject(new TrainingError(`training command ${sig ? `was killed by ${sig}` : `exited with ${code}`}`));
    });
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const outputs = await listOutputs(inputs.outputDir);
  if (outputs.length === 0) throw new TrainingError('training produced no output files');
  const totalFlos: number[] = [];
  for (const o of outputs.filter((x) => x.path === 'trainer_state.json' || x.path.endsWith('/trainer_state.json'))) {
    const v = (JSON.parse(await readFile(join(inputs.outputDir, o.path), 'utf8')) as { total_flos?: unknown }).total_flos;
    if (typeof v === 'number' && Number.isFinite(v)) totalFlos.push(v);
  }
  return { seconds, totalFlos, outputs };
}

/** Every regular file below DIR: POSIX relative path, sha256, size; sorted by path (UTF-16 code units, as measure.ts). */
export async function listOutputs(dir: string): Promise<{ path: string; sha256: string; size: number }[]> {
  const out: { path: string; sha256: string; size: number }[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ path: relative(dir, p).split(sep).join('/'), ...(await hashFile(p)) });
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

