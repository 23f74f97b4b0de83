// A tiny, deterministic "fine-tune" for gen-aibom.mjs: inputs (base model folder, dataset file, axolotl config) are
// made here; the "weights" are bytes derived from the inputs' sha256 (counter-mode sha256), written as a valid
// safetensors file, plus an adapter config and a fake zip of the outputs (python3 zipfile, fixed timestamps).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runOk } from './aibom-bridge.mjs';

export const sha256 = (b) => createHash('sha256').update(b).digest();
export const sha256hex = (b) => createHash('sha256').update(b).digest('hex');
const sha1hex = (s) => createHash('sha1').update(s).digest('hex');

/** n bytes of sha256(seed ‖ u32be counter) blocks. */
export function expand(seed, n) {
  const out = Buffer.alloc(n);
  for (let i = 0, off = 0; off < n; i++, off += 32) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(i);
    sha256(Buffer.concat([seed, c])).copy(out, off, 0, Math.min(32, n - off));
  }
  return out;
}

/** A safetensors file (8-byte LE header length, JSON header, data) with F32 tensors filled from `bytes`. */
export function safetensors(tensors, bytes) {
  const header = {};
  let off = 0;
  for (const [name, shape] of tensors) {
    const len = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [off, off + len] };
    off += len;
  }
  header.__metadata__ = { format: 'pt' };
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]); // pad with spaces to 8-byte alignment
  const data = Buffer.alloc(off);
  // Small floats in [-0.01, 0.01) from each u16 of the derived bytes.
  for (let i = 0; i < off / 4; i++) data.writeFloatLE(((bytes.readUInt16BE((2 * i) % (bytes.length - 1)) / 65536) - 0.5) * 0.02, 4 * i);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

const write = (path, data) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
};

/** The axolotl config as a dict (Python types noted) and its YAML text. Floats are marked for PyFloat. */
export function axolotlConfig() {
  const cfg = [
    ['base_model', './base-model'],
    ['datasets', [{ path: 'data/train.jsonl', type: 'alpaca' }]],
    ['adapter', 'lora'],
    ['lora_r', 8],
    ['lora_alpha', 16],
    ['lora_dropout', { float: 0.05 }],
    ['learning_rate', { float: 0.0002 }],
    ['num_epochs', 1],
    ['micro_batch_size', 1],
    ['sequence_len', 512],
    ['seed', 42],
    ['output_dir', './lora-out'],
  ];
  const yamlScalar = (v) => (typeof v === 'object' ? String(v.float) : typeof v === 'string' ? v : String(v));
  const yaml = cfg
    .map(([k, v]) =>
      Array.isArray(v)
        ? `${k}:\n${v.map((o) => Object.entries(o).map(([a, b], i) => `${i ? '    ' : '  - '}${a}: ${b}`).join('\n')).join('\n')}`
        : `${k}: ${yamlScalar(v)}`,
    )
    .join('\n') + '\n';
  return { entries: cfg, yaml };
}

/** Makes the inputs in DIR: base-model/, data/train.jsonl, aicert.yaml; returns their descriptions. */
export function makeInputs(dir) {
  const model = write(join(dir, 'base-model/model.safetensors'),
    safetensors([['embed.weight', [64, 32]], ['lm_head.weight', [32, 64]]], expand(Buffer.from('aicert demo base model'), 4096)));
  const modelCfg = write(join(dir, 'base-model/config.json'),
    JSON.stringify({ architectures: ['TinyDemoForCausalLM'], hidden_size: 32, vocab_size: 64, num_hidden_layers: 1 }, null, 2) + '\n');
  const rows = Array.from({ length: 16 }, (_, i) =>
    JSON.stringify({ instruction: `Add ${i} and ${i + 1}.`, input: '', output: String(2 * i + 1) }));
  const dataset = write(join(dir, 'data/train.jsonl'), rows.join('\n') + '\n');
  const cfg = axolotlConfig();
  const config = write(join(dir, 'aicert.yaml'), cfg.yaml);
  return {
    config: { path: config, entries: cfg.entries, sha256: sha256hex(readFileSync(config)) },
    model: {
      resource_type: 'model', repo: 'https://huggingface.co/aicert-demo/tiny-base', path: 'base-model',
      hash: sha1hex('aicert-demo/tiny-base@main'),
      files: [model, modelCfg],
    },
    dataset: {
      resource_type: 'dataset', repo: 'https://huggingface.co/datasets/aicert-demo/tiny-instruct', path: 'data/train.jsonl',
      hash: sha1hex('aicert-demo/tiny-instruct@main'),
      files: [dataset],
    },
    images: [
      { name: '@local/aicert-base:latest', id: `sha256:${sha256hex('aicert demo image: aicert-base')}` },
      { name: '@local/axolotl:latest', id: `sha256:${sha256hex('aicert demo image: axolotl')}` },
    ],
  };
}

/** "Trains": weights from sha256(model files ‖ dataset ‖ config); writes OUT/lora-out/* and OUT/finetuned-model.zip. */
export function train(inputs, out) {
  const t0 = process.hrtime.bigint();
  const parts = [...inputs.model.files, ...inputs.dataset.files, inputs.config.path].map((f) => sha256(readFileSync(f)));
  const seed = sha256(Buffer.concat(parts));
  const r = 8, hidden = 32;
  const weights = safetensors(
    [['base_model.model.lm_head.lora_A.weight', [r, hidden]], ['base_model.model.lm_head.lora_B.weight', [64, r]]],
    expand(seed, 8192),
  );
  write(join(out, 'lora-out/adapter_model.safetensors'), weights);
  write(join(out, 'lora-out/adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r, lora_alpha: 16, lora_dropout: 0.05, base_model_name_or_path: './base-model', target_modules: ['lm_head'] }, null, 2) + '\n');
  // The original zipped lora-out; a deterministic zip (fixed 1980-01-01 timestamps, sorted names).
  runOk('python3', ['-c', [
    'import sys, zipfile, os',
    'root, dst = sys.argv[1], sys.argv[2]',
    'z = zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED)',
    'names = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(os.path.join(root, "lora-out")) for f in fs)',
    '[z.writestr(zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)), open(os.path.join(root, n), "rb").read(), zipfile.ZIP_DEFLATED) for n in names]',
    'z.close()',
  ].join('\n'), out, join(out, 'finetuned-model.zip')]);
  const files = ['finetuned-model.zip', 'lora-out/adapter_config.json', 'lora-out/adapter_model.safetensors']
    .map((p) => ({ path: p, sha256: sha256hex(readFileSync(join(out, p))) }));
  const params = r * hidden + 64 * r;
  return {
    files,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    totalFlos: 6 * params * 16 * 12, // 6 × trainable params × rows × tokens per row
  };
}
