/** The package version, read from the package.json above this module (source tree, dist/ or an installed copy). */
import { readFileSync } from 'node:fs';
import { readJson } from '../util/json.js';

let cached: string | undefined;

/** `aicert --version` and `aicert-verify --version` (spec/cli.md §Every command). */
export function packageVersion(): string {
  if (cached) return cached;
  let url = new URL('./', import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = readJson(new Uint8Array(readFileSync(new URL('package.json', url))), 'package.json', { maxDepth: 64 }) as { name?: string; version?: string };
      if (pkg.name === 'aicert' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // not here: look one folder up
    }
    url = new URL('../', url);
  }
  return (cached = 'unknown');
}
