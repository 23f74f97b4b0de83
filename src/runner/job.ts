/**
 * One fine-tune of the reference runner, measured exactly as the original aicert server did (src/runner/measure.ts):
 * PCR 14 gets the config, base image, model, dataset, other images (before training, so nothing unmeasured is
 * used), then timing and compute; PCR 8 the outputs. Then the original quote (no qualification) is taken, and the
 * AIBOM v1 statement event is extended last into PCR 8 so v1 quotes bound to sha256(D ‖ nonce) can follow.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildStatement } from './emit.js';
import type { Fetcher } from './fetchers.js';
import { Measurer, PyFloat, sha256Hex, type PyJson } from './measure.js';
import type { SandboxBackend } from './sandbox.js';
import { runTraining } from './trainer.js';
import { loadYaml } from '../wire/yaml.js';
import type { QuoteResult } from './tpm.js';

/** The validated config the launcher sent (src/wire/config.ts parseAxolotlConfig). */
export interface JobConfig {
  yaml: string;
  baseModel: { repo: string; revision: string; url: string };
  dataset: { repo: string; revision: string; url: string; file: string };
}

/** What the job needs from the server: a serialized TPM, paths and plug-ins. */
export interface JobEnv {
  measurer: Measurer;
  quoteAll: (qualificationHex?: string) => Promise<QuoteResult>;
  fetcher: Fetcher;
  /** How the training command is confined; measured as the training_sandbox event. */
  sandbox: SandboxBackend;
  trainCommand: readonly string[];
  /** Extra trainer environment (`--trainer-env`). */
  trainerEnv?: Record<string, string>;
  images: readonly { name: string; id: string }[];
  workDir: string;
  log: (text: string) => void;
  signal: AbortSignal;
}

/** The finished run: what /attestation and /storage-upload serve. */
export interface JobResult {
  legacyQuote: QuoteResult;
  statement: Uint8Array;
  outputDir: string;
  outputs: { path: string; sha256: string; size: number }[];
}

/** YAML text → the dict json.dumps would see (yaml ints stay ints, floats become PyFloat). */
export async function yamlToPy(text: string): Promise<PyJson> {
  const doc = (await loadYaml()).parseDocument(text, { intAsBigInt: true, uniqueKeys: true });
  if (doc.errors.length) throw new TypeError(`config YAML: ${doc.errors[0]!.message}`);
  const conv = (v: unknown, depth: number): PyJson => {
    if (depth > 64) throw new TypeError('config nested too deeply');
    if (v === null || v === undefined) return null;
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new TypeError('config integer out of range');
      return Number(v);
    }
    if (typeof v === 'number') return new PyFloat(v);
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (Array.isArray(v)) return v.map((x) => conv(x, depth + 1));
    if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, conv(x, depth + 1)]));
    throw new TypeError(`config value of type ${typeof v} is not supported`);
  };
  return conv(doc.toJS({ mapAsMap: false }), 0);
}

/** Runs one fine-tune end to end; rejects on any failure (the server reports it on /attestation). */
export async function runJob(cfg: JobConfig, env: JobEnv): Promise<JobResult> {
  const startedOn = new Date().toISOString();
  const say = (m: string) => env.log(`[runner] ${m}\n`);
  const dir = join(env.workDir, 'run');
  await rm(dir, { recursive: true, force: true });
  const outputDir = join(dir, 'outputs');
  const collectDir = join(dir, 'collected');
  await mkdir(outputDir, { recursive: true });
  const configFile = join(dir, 'aicert.yaml');
  await writeFile(configFile, cfg.yaml, { mode: 0o644 });

  // Fetch the pinned inputs; a fetcher that holds another commit is refused.
  say(`fetching base model ${cfg.baseModel.repo}@${cfg.baseModel.revision}`);
  const model = await env.fetcher({ kind: 'model', repo: cfg.baseModel.repo, revision: cfg.baseModel.revision }, env.signal);
  say(`fetching dataset ${cfg.dataset.repo}@${cfg.dataset.revision} (${cfg.dataset.file})`);
  const data = await env.fetcher({ kind: 'dataset', repo: cfg.dataset.repo, revision: cfg.dataset.revision, file: cfg.dataset.file }, env.signal);
  if (model.commit !== cfg.baseModel.revision || data.commit !== cfg.dataset.revision) throw new Error('fetched commit differs from the pinned one');

  // The sandbox is made before measuring: podman reports the image id it will run.
  const mounts = { modelDir: model.dir, datasetDir: data.dir, datasetFile: cfg.dataset.file, configFile, outputDir, ...(env.trainerEnv ? { env: env.trainerEnv } : {}) };
  const prepared = await env.sandbox.prepare(env.trainCommand, mounts);
  let r;
  try {
    // Measure every input before it is used, in the original order, then how training is confined.
    const m = env.measurer;
    await m.inputsBeforeTraining({
      config: await yamlToPy(cfg.yaml),
      configSha256: sha256Hex(cfg.yaml),
      images: prepared.image ? [...env.images, prepared.image] : env.images,
      model: { resource_type: 'model', repo: cfg.baseModel.url, hash: cfg.baseModel.revision, path: 'base-model' },
      dataset: { resource_type: 'dataset', repo: cfg.dataset.url, hash: cfg.dataset.revision, path: cfg.dataset.file },
      modelResolved: `sha1:${model.commit}`,
      datasetResolved: `sha1:${data.commit}`,
    });
    await m.sandbox(env.sandbox.describe());
    say(`training (sandbox: ${env.sandbox.kind})`);
    r = await runTraining(prepared, { ...mounts, collectDir }, env.log, env.signal);
  } finally {
    await prepared.cleanup();
  }
  // Timing, compute and the outputs, as the runner's own copy holds them.
  const m = env.measurer;
  await m.inputsAfterTraining({ finetuneSeconds: Math.round(r.seconds * 1e6) / 1e6, totalFlos: r.totalFlos });
  await m.outputs(r.outputs);
  say(`measured ${r.outputs.length} outputs`);

  // The original quote first (PCR 8 = outputs only), then the v1 statement event.
  const legacyQuote = await env.quoteAll();
  const statement = buildStatement(m.log[14], m.log[8][0]!, { invocationId: randomUUID(), startedOn, finishedOn: new Date().toISOString() });
  await m.statement(sha256Hex(statement));
  say('done');
  return { legacyQuote, statement, outputDir: r.outputDir, outputs: r.outputs };
}
