// aicert.yaml checks (spec/runner-protocol.md §Config). Expected lines are counted by hand in the inputs below.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MalformedInputError } from '../src/errors.js';
import { ConfigError, loadConfig, parseConfig, resolveAzureSettings } from '../src/launcher/config.js';

// The example from the original aicert README, §4.1.
const README = `base_model: TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T@sha1:036fa4651240b9a1487f709833b9e4b96b4c1574
load_in_8bit: false
datasets:
  - path: mhenrichsen/alpaca_2k_test@sha1:d05c1cb585e462b16532a44314aa4859cb7450c6
    name: /alpaca_2000.parquet
    type: alpaca
sequence_len: 1024
`;

const SUB = '0b7e3a42-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const IMAGE = `/subscriptions/${SUB}/resourceGroups/imgs/providers/Microsoft.Compute/galleries/g1/images/mithril-os/versions/1.0.0`;

/** The ConfigError parseConfig throws for `text`. */
async function failure(text: string): Promise<ConfigError> {
  try {
    await parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toBeInstanceOf(MalformedInputError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('pinned model and dataset', () => {
  it('accepts the original README example', async () => {
    const c = await parseConfig(README);
    expect(c.baseModel).toEqual({
      repo: 'TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T',
      revision: '036fa4651240b9a1487f709833b9e4b96b4c1574',
      url: 'https://huggingface.co/TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T',
      line: 1,
    });
    expect(c.datasets).toEqual([
      {
        repo: 'mhenrichsen/alpaca_2k_test',
        revision: 'd05c1cb585e462b16532a44314aa4859cb7450c6',
        url: 'https://huggingface.co/datasets/mhenrichsen/alpaca_2k_test',
        file: 'alpaca_2000.parquet',
        line: 4,
      },
    ]);
    expect(c.axolotlYaml).toBe(README);
  });

  it('accepts huggingface.co URLs and a matching revision', async () => {
    const c = await parseConfig(
      `base_model: https://huggingface.co/org/m@sha1:${'a'.repeat(40)}\ndatasets:\n  - path: https://huggingface.co/datasets/org/d@sha1:${'b'.repeat(40)}\n    revision: ${'b'.repeat(40)}\n    name: data/train.jsonl\n`,
    );
    expect(c.baseModel.repo).toBe('org/m');
    expect(c.datasets[0]).toMatchObject({ repo: 'org/d', file: 'data/train.jsonl', url: 'https://huggingface.co/datasets/org/d' });
  });

  const cases: [string, string, number, RegExp][] = [
    ['unpinned base model', README.replace(/@sha1:036f[0-9a-f]+/, ''), 1, /base_model is not pinned.*@sha1:<40 hex/],
    ['branch pin', README.replace(/@sha1:036f[0-9a-f]+/, '@main'), 1, /base_model must be pinned to a commit as @sha1.*got @main/],
    ['short hash', README.replace('036fa4651240b9a1487f709833b9e4b96b4c1574', '036fa46'), 1, /40 lowercase hex.*7 characters/],
    ['uppercase hash', README.replace('036fa4651240b9a1487f709833b9e4b96b4c1574', '036FA4651240B9A1487F709833B9E4B96B4C1574'), 1, /lowercase/],
    ['unpinned dataset', README.replace(/@sha1:d05c[0-9a-f]+/, ''), 4, /datasets\[0\]\.path is not pinned/],
    ['dataset without file name', README.replace('    name: /alpaca_2000.parquet\n', ''), 4, /datasets\[0\]\.name is missing/],
    ['file name escaping the repo', README.replace('/alpaca_2000.parquet', '../../etc/passwd'), 5, /datasets\[0\]\.name must be a relative file path/],
    ['dataset URL without /datasets/', README.replace('path: mhenrichsen', 'path: https://huggingface.co/mhenrichsen'), 4, /must be a Hugging Face repository/],
    ['not ORG/NAME', README.replace('TinyLlama/TinyLlama-1.1B', 'TinyLlama-1.1B'), 1, /must name a repository as ORG\/NAME/],
    ['no base model', README.split('\n').slice(1).join('\n'), 1, /'base_model' is missing/],
    ['empty datasets', 'base_model: a/b@sha1:' + 'c'.repeat(40) + '\nx: 1\ndatasets: []\n', 3, /non-empty list/],
    ['revision mismatch', README.replace('    type: alpaca', `    revision: ${'e'.repeat(40)}`), 6, /revision disagrees/],
    ['unpinned pretraining data', README + 'pretraining_dataset: some/corpus\n', 8, /'pretraining_dataset' is not supported/],
    ['foreign tokenizer', README + 'tokenizer_config: other/tok\n', 8, /'tokenizer_config' must name the pinned base model/],
    ['YAML syntax error', README.replace('sequence_len: 1024', 'sequence_len: [1024'), 8, /YAML error/],
    ['duplicate key', README + 'load_in_8bit: true\n', 8, /YAML error: Map keys must be unique/],
    ['non-mapping document', '- a\n- b\n', 1, /must be a YAML mapping/],
    ['base model not a string', 'base_model:\n  - x\n', 2, /base_model must be a string/],
  ];
  for (const [name, text, line, msg] of cases)
    it(`refuses ${name}, naming line ${line}`, async () => {
      const e = await failure(text);
      expect(e.line).toBe(line);
      expect(e.message).toMatch(msg);
      expect(e.message.startsWith(`aicert.yaml:${line}:`)).toBe(true);
    });

  it('loads from a file and names it in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicert-cfg-'));
    const p = join(dir, 'aicert.yaml');
    writeFileSync(p, README.replace(/@sha1:d05c[0-9a-f]+/, '@v1'));
    await expect(loadConfig(p)).rejects.toThrow(new RegExp(`^${p.replace(/[.]/g, '\\.')}:4:11: datasets\\[0\\]\\.path must be pinned`));
    await expect(loadConfig(join(dir, 'absent.yaml'))).rejects.toThrow(/cannot read config: ENOENT/);
  });

  it('only ever throws ConfigError on arbitrary text (fuzz)', async () => {
    const frag = fc.constantFrom('base_model: ', 'datasets:\n', '  - path: ', '    name: ', 'a/b@sha1:' + 'f'.repeat(40), 'aicert:\n  azure:\n', '[', '{', ': ', '\n', '&x ', '*x', '!!binary ', '"', '- ');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(frag, fc.string()), { maxLength: 30 }), async (parts) => {
        try {
          await parseConfig(parts.join(''));
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('Azure settings', () => {
  const withAzure = (lines: string) => `${README}aicert:\n  azure:\n${lines}`;

  it('reads aicert.azure, strips the section for the runner, and fills the rest from the environment', async () => {
    const c = await parseConfig(withAzure(`    subscription_id: ${SUB}\n    resource_group: rg1\n    secure_boot: true\n`));
    expect(c.azure).toEqual({ subscriptionId: SUB, resourceGroup: 'rg1', secureBoot: true });
    // The YAML sent to the runner no longer has the launcher's section but keeps everything else.
    const sent = parseYaml(c.axolotlYaml) as Record<string, unknown>;
    expect(sent.aicert).toBeUndefined();
    expect(sent).toEqual(parseYaml(README));
    const s = resolveAzureSettings(c, { AZURE_LOCATION: 'westeurope', AZURE_IMAGE_ID: IMAGE, AZURE_RESOURCE_GROUP: 'ignored' });
    expect(s).toEqual({ subscriptionId: SUB, resourceGroup: 'rg1', location: 'westeurope', imageId: IMAGE, vmSize: 'Standard_NC40ads_H100_v5', secureBoot: true });
  });

  it('takes everything from AZURE_* when the file has no section', async () => {
    const env = { AZURE_SUBSCRIPTION_ID: SUB, AZURE_RESOURCE_GROUP: 'rg', AZURE_LOCATION: 'eastus2', AZURE_IMAGE_ID: IMAGE, AZURE_VM_SIZE: 'Standard_D4s_v5', AZURE_SECURE_BOOT: '0' };
    expect(resolveAzureSettings(await parseConfig(README), env)).toEqual({ subscriptionId: SUB, resourceGroup: 'rg', location: 'eastus2', imageId: IMAGE, vmSize: 'Standard_D4s_v5', secureBoot: false });
  });

  it('names every missing setting by variable and key', async () => {
    const cfg = await parseConfig(README);
    expect(() => resolveAzureSettings(cfg, { AZURE_SUBSCRIPTION_ID: SUB })).toThrow(
      /Azure settings missing: AZURE_RESOURCE_GROUP \(or aicert\.azure\.resource_group\), AZURE_LOCATION \(or aicert\.azure\.location\), AZURE_IMAGE_ID \(or aicert\.azure\.image_id\)/,
    );
  });

  it('refuses malformed values with their line or variable', async () => {
    let e = await failure(withAzure('    subscription_id: not-a-guid\n'));
    expect([e.line, e.message]).toEqual([10, expect.stringMatching(/aicert\.azure\.subscription_id must be a subscription GUID/)]);
    e = await failure(withAzure('    region: westeurope\n'));
    expect([e.line, e.message]).toEqual([10, expect.stringMatching(/unknown key 'region'/)]);
    e = await failure(withAzure('    secure_boot: "yes"\n'));
    expect([e.line, e.message]).toEqual([10, expect.stringMatching(/secure_boot must be true or false/)]);
    expect(() => resolveAzureSettings(undefined, { AZURE_SUBSCRIPTION_ID: SUB, AZURE_IMAGE_ID: '/subscriptions/x/images/y' })).toThrow(/AZURE_IMAGE_ID must be a gallery image id/);
    expect(() => resolveAzureSettings(undefined, { AZURE_SECURE_BOOT: 'maybe' })).toThrow(/AZURE_SECURE_BOOT must be true or false/);
  });
});
