#!/usr/bin/env node
// tiny-trainer.mjs — the deterministic "fine-tune" the reference runner runs in tests (its training command).
// Reads the runner's AICERT_* environment (model dir, dataset file, config file, output dir) and writes
// OUTPUT/lora-out/adapter_model.safetensors (F32 tensors filled from sha256-counter bytes of the inputs' digests),
// OUTPUT/lora-out/adapter_config.json and OUTPUT/trainer_state.json {total_flos}. Same inputs -> same bytes.
// TINY_TRAINER_STEPS (default 4) progress lines, TINY_TRAINER_STEP_MS (default 0) between them,
// TINY_TRAINER_LORA_R (default 8) sets the weight size (r * 4 KiB * 2 tensors).
// TINY_TRAINER_FULL_BYTES (or a config line tiny_trainer_full_bytes: N; default 0) also writes OUTPUT/full/model.bin of that size: sparse, with a 64 KiB
// marker derived from the seed every 256 MiB (fast to make; a misplaced block changes its digest).
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expand, safetensors } from '../lib/aibom-train.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run me from the runner)`);
  return v;
};
const sha256 = (b) => createHash('sha256').update(b).digest();
const files = (d) => readdirSync(d).sort().flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));

const out = env('AICERT_OUTPUT_DIR');
const inputs = [...files(env('AICERT_MODEL_DIR')), env('AICERT_DATASET_FILE'), env('AICERT_CONFIG_FILE')];
const seed = sha256(Buffer.concat(inputs.map((f) => sha256(readFileSync(f)))));
const steps = Number(process.env.TINY_TRAINER_STEPS ?? 4), stepMs = Number(process.env.TINY_TRAINER_STEP_MS ?? 0);
const r = Number(process.env.TINY_TRAINER_LORA_R ?? 8), hidden = 1024;
for (let i = 1; i <= steps; i++) {
  process.stdout.write(`step ${i}/${steps} loss ${(2 / (i + 1)).toFixed(4)}\n`);
  if (stepMs) await new Promise((res) => setTimeout(res, stepMs));
}
mkdirSync(join(out, 'lora-out'), { recursive: true });
const tensors = [['base_model.model.lm_head.lora_A.weight', [r, hidden]], ['base_model.model.lm_head.lora_B.weight', [hidden, r]]];
writeFileSync(join(out, 'lora-out/adapter_model.safetensors'), safetensors(tensors, expand(seed, 65536)));
writeFileSync(join(out, 'lora-out/adapter_config.json'),
  JSON.stringify({ peft_type: 'LORA', r, lora_alpha: 16, target_modules: ['lm_head'] }, null, 2) + '\n');
const rows = readFileSync(env('AICERT_DATASET_FILE'), 'utf8').split('\n').filter(Boolean).length;
writeFileSync(join(out, 'trainer_state.json'), JSON.stringify({ total_flos: 6 * 2 * r * hidden * rows, global_step: steps }) + '\n');
// The size also comes from a `tiny_trainer_full_bytes: N` line of the config (the sandbox passes no other environment).
const fullLine = /^tiny_trainer_full_bytes:\s*(\d{1,15})\s*$/m.exec(readFileSync(env('AICERT_CONFIG_FILE'), 'utf8'));
const full = Number(process.env.TINY_TRAINER_FULL_BYTES ?? fullLine?.[1] ?? 0);
if (full > 0) {
  mkdirSync(join(out, 'full'), { recursive: true });
  const fd = openSync(join(out, 'full/model.bin'), 'w');
  ftruncateSync(fd, full);
  for (let off = 0; off < full; off += 256 << 20) {
    const mark = expand(sha256(Buffer.concat([seed, Buffer.from(String(off))])), 65536);
    writeSync(fd, mark, 0, Math.min(mark.length, full - off), off);
  }
  closeSync(fd);
}
process.stdout.write(`wrote adapter (seed ${seed.toString('hex').slice(0, 16)})\n`);
