/**
 * The config refusals both sides share (src/wire/config.ts): each key that would load code or fetch unpinned data is
 * refused with the file, the 1-based line and the key; harmless settings pass. Lines are counted here by hand from
 * the YAML text below (the line where the offending key or value sits).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseAxolotlConfig } from '../src/wire/config.js';
import { parseConfig } from '../src/launcher/config.js';

const REV = 'a'.repeat(40);
const BASE = [`base_model: org/model@sha1:${REV}`, 'datasets:', `  - path: org/data@sha1:${'b'.repeat(40)}`, '    name: /train.jsonl', '    type: alpaca', ''].join('\n');

const refuse = async (extra: string): Promise<ConfigError> => {
  try {
    await parseAxolotlConfig(BASE + extra, 'cfg.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('accepted');
};

describe('config refusals (launcher and runner)', () => {
  it.each([
    ['trust_remote_code: true\n', 6, 'trust_remote_code', /runs Python code from the model repository/],
    ['trust_remote_code: "yes"\n', 6, 'trust_remote_code', /must be false/],
    ['plugins:\n  - axolotl.integrations.liger.LigerPlugin\n', 6, 'plugins', /Python modules/],
    ['base_model_config: evil/model\n', 6, 'base_model_config', /pinned base model/],
    ['tokenizer_config: evil/tok\n', 6, 'tokenizer_config', /pinned base model/],
    ['processor_config: evil/proc\n', 6, 'processor_config', /pinned base model/],
    ['reference_model_config: evil/ref\n', 6, 'reference_model_config', /pinned base model/],
    [`revision_of_model: main\n`, 6, 'revision_of_model', /pinned commit/],
    ['lora_model_dir: evil/adapter\n', 6, 'lora_model_dir', /adapter/],
    ['hub_model_id: me/out\n', 6, 'hub_model_id', /no network/],
    ['push_dataset_to_hub: me/ds\n', 6, 'push_dataset_to_hub', /no network/],
    ['pretraining_dataset: some/corpus\n', 6, 'pretraining_dataset', /unpinned/],
    ['test_datasets:\n  - path: x/y\n', 6, 'test_datasets', /unpinned/],
    ['trl:\n  reward_funcs:\n    - rewards.fn\n', 7, 'trl.reward_funcs', /Python code/],
    ['deepspeed: https://evil.example/ds.json\n', 6, 'deepspeed', /names a URL/],
    ['mlflow_tracking_uri: http://127.0.0.1:5000\n', 6, 'mlflow_tracking_uri', /names a URL/],
    ['resume_from_checkpoint: s3://bucket/ckpt\n', 6, 'resume_from_checkpoint', /names a URL/],
  ])('%s', async (extra, line, key, msg) => {
    const e = await refuse(extra);
    expect(e.line).toBe(line);
    expect(e.path).toBe(key);
    expect(e.message.startsWith(`cfg.yaml:${line}:`)).toBe(true);
    expect(e.message).toMatch(msg);
  });

  it('refuses URL data files and remote code inside a datasets entry', async () => {
    const withDs = (lines: string[]) => [`base_model: org/model@sha1:${REV}`, 'datasets:', `  - path: org/data@sha1:${'b'.repeat(40)}`, '    name: /train.jsonl', ...lines, ''].join('\n');
    const cases: [string[], number, string][] = [
      [['    data_files:', '      - gs://bucket/train.jsonl'], 6, 'datasets[0].data_files[0]'],
      [['    trust_remote_code: true'], 5, 'datasets[0].trust_remote_code'],
      [['    data_files: hf://datasets/evil/x/train.jsonl'], 5, 'datasets[0].data_files'],
    ];
    for (const [lines, line, path] of cases) {
      let err: ConfigError | undefined;
      try {
        await parseAxolotlConfig(withDs(lines), 'cfg.yaml');
      } catch (e) {
        err = e as ConfigError;
      }
      expect(err, path).toBeInstanceOf(ConfigError);
      expect([err!.line, err!.path]).toEqual([line, path]);
    }
  });

  it('accepts harmless settings and the pinned sources', async () => {
    const ok = BASE + `trust_remote_code: false\nbase_model_config: org/model\ntokenizer_config: org/model@sha1:${REV}\nrevision_of_model: ${REV}\noverrides_of_model_config:\n  rope_scaling: null\nwandb_project: ""\nlearning_rate: 0.0002\n`;
    const c = await parseAxolotlConfig(ok, 'cfg.yaml');
    expect(c.baseModel.repo).toBe('org/model');
    // The launcher uses the same rules: the same text passes there, and a refused one fails there too.
    expect((await parseConfig(ok)).baseModel.revision).toBe(REV);
    await expect(parseConfig(BASE + 'plugins: [x]\n')).rejects.toThrow(/aicert.yaml:6:1: 'plugins'/);
  });
});
