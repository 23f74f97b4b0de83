/**
 * Runs one CommonJS command bundle (dist/bin/cmd-NAME.cjs, one per subcommand, built by scripts/build-bin.mjs)
 * through vm.Script with the V8 code cache the build wrote beside it (cmd-NAME.cjs.cache, scripts/code-cache.mjs),
 * so a CLI start skips parsing and compiling the command's code. The cache file is
 *   MAGIC (8 bytes) ‖ sha256(bundle bytes) ‖ sha256(V8 data) ‖ V8 data
 * and is used only when both digests match and V8 accepts it (same V8 version and flags); a missing, stale,
 * corrupted or rejected cache is ignored and the bundle compiles from source, with a note under AICERT_DEBUG.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { constants as vmConstants, Script } from 'node:vm';
import { stderr } from '../node/stderr.js';
import { reportCommandFailure } from './command-failure.js';

const MAGIC = Buffer.from('AICERTC1', 'latin1');
const HEAD = MAGIC.length + 64;

/** What a command bundle exports. */
export interface CommandBundle {
  main(argv: string[]): Promise<number>;
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** The V8 data of a cache file when it belongs to this exact bundle source and is intact; else undefined. */
export function cachedDataFor(source: Buffer, cache: Buffer | undefined): Buffer | undefined {
  if (!cache || cache.length <= HEAD || !cache.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const data = cache.subarray(HEAD);
  // Step 1: bound to this source (V8 itself compares only the length); step 2: the V8 data is not damaged.
  if (!sha256(source).equals(cache.subarray(MAGIC.length, MAGIC.length + 32))) return undefined;
  if (!sha256(data).equals(cache.subarray(MAGIC.length + 32, HEAD))) return undefined;
  return data;
}

/** A cache file for `source` holding V8 data `data`. */
export function cacheFile(source: Buffer, data: Buffer): Buffer {
  return Buffer.concat([MAGIC, sha256(source), sha256(data), data]);
}

function debug(line: string): void {
  if (process.env.AICERT_DEBUG) stderr`aicert: ${line}\n`;
}

/** Reads a file, or undefined when it cannot be read. */
function tryRead(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Compiles and runs the bundle at `file` as a CommonJS module and returns its exports. With `keepCache` (the build's
 * code-cache step only), the compiled code is written to that path when the process exits.
 */
export function loadBundle(file: string, keepCache?: string): CommandBundle {
  const source = readFileSync(file);
  const cachePath = `${file}.cache`;
  const cachedData = keepCache ? undefined : cachedDataFor(source, tryRead(cachePath));
  if (!keepCache && !cachedData) debug(`no usable code cache at ${cachePath}; compiling from source`);
  // The same wrapper Node gives a CommonJS module; dynamic import() (optional Azure SDKs) uses Node's loader.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source.toString('utf8')}\n})`;
  const script = new Script(wrapped, { filename: file, ...(cachedData ? { cachedData } : {}), importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  if (cachedData && script.cachedDataRejected) debug(`V8 rejected the code cache at ${cachePath} (another Node version or flags); compiled from source`);
  const mod = { exports: {} as CommandBundle };
  (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  if (keepCache) {
    process.on('exit', () => {
      writeFileSync(`${keepCache}.tmp`, cacheFile(source, script.createCachedData()));
      renameSync(`${keepCache}.tmp`, keepCache);
    });
  }
  return mod.exports;
}

/**
 * Runs command `cmd` with `argv` from the bundle at `file` and sets the process exit code from its result. A bundle
 * that cannot be read or throws while loading (a damaged or partial install) is reported like any command error:
 * escaped text on stderr, exit 2, and the error document with --json (spec/cli.md §JSON).
 */
export function runBundle(cmd: string, file: string, argv: string[]): void {
  let bundle: CommandBundle;
  try {
    bundle = loadBundle(file, process.env.AICERT_CODE_CACHE_OUT || undefined);
  } catch (e) {
    process.exitCode = reportCommandFailure(cmd, argv, new Error(`cannot load the command bundle ${file}: ${(e as Error)?.message ?? String(e)}`));
    return;
  }
  bundle.main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportCommandFailure(cmd, argv, e);
    },
  );
}
