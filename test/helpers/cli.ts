/** Runs the `aicert` CLI in-process, capturing stdout and stderr. */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const text = (s: string | Uint8Array) => (typeof s === 'string' ? s : new TextDecoder().decode(s));
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += text(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += text(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
