/** Where the verifier page's built files are: `dist/web` of the installed aicert package (spec/cli.md §aicert serve). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson } from '../util/json.js';

/** The folder holding index.html, aicert-web.js and aicert-web.css; found from this module's location upwards. */
export function webRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (readJson(new Uint8Array(readFileSync(pkg)), 'package.json', { maxDepth: 64 }) as { name?: string } | null)?.name === 'aicert') return join(dir, 'dist', 'web');
    if (dirname(dir) === dir) throw new Error('the aicert package folder was not found above ' + from);
  }
}
