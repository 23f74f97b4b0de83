/** Locates ../shared/vectors (or $AICERT_VECTORS); tests skip with a printed notice where it is absent. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const dir = process.env.AICERT_VECTORS ?? resolve(import.meta.dirname, '../../../shared/vectors');

/** The vectors folder, or undefined (after printing a notice once) when it is absent. */
export function vectorsDir(): string | undefined {
  if (existsSync(dir)) return dir;
  if (!warned) {
    warned = true;
    console.warn(`NOTICE: shared vectors not found at ${dir} (set AICERT_VECTORS); conformance tests are skipped.`);
  }
  return undefined;
}
let warned = false;
