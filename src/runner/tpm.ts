/**
 * Node-only wrapper over tpm2-tools (5.x) for the reference runner: PCR extend/read, EK/AK creation, quotes, NV reads.
 * Every call spawns one tool with execFile (never a shell) and the TCTI in TPM2TOOLS_TCTI, e.g.
 * `swtpm:host=127.0.0.1,port=2321` (tests) or `device:/dev/tpmrm0` (in a VM).
 * tpm2-tools manual: https://github.com/tpm2-software/tpm2-tools/tree/5.4/man
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A tpm2-tools command failed (non-zero exit, signal, timeout or missing binary). */
export class TpmToolError extends Error {
  override name = 'TpmToolError';
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${tool} ${args.join(' ')} failed (${exitCode ?? 'signal'}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/** Key algorithm of an AK made with createAk. */
export type AkAlg = 'rsa' | 'ecc';

/** Files of a created or loaded AK inside the Tpm's work directory. */
export interface AkHandle {
  /** Context file or persistent handle (e.g. `0x81000003`) passed to -c. */
  context: string;
  /** TPM2B_PUBLIC bytes. */
  public: Uint8Array;
  /** PEM SubjectPublicKeyInfo. */
  pem: string;
  /** TPM2B_NAME body (nameAlg ‖ digest). */
  name: Uint8Array;
  /** Signature scheme used by quote(). */
  scheme: 'rsassa' | 'ecdsa';
}

/** Output of quote(): the three files tpm2_quote writes. */
export interface QuoteResult {
  /** TPMS_ATTEST. */
  message: Uint8Array;
  /** TPMT_SIGNATURE. */
  signature: Uint8Array;
  /** tpm2-tools serialized PCR file (TPML_PCR_SELECTION ‖ u32 count ‖ TPML_DIGEST…, little-endian counts). */
  pcrFile: Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks a PCR index (0..23) or throws TypeError. */
function checkPcr(pcr: number): void {
  if (!Number.isInteger(pcr) || pcr < 0 || pcr > 23) throw new TypeError(`PCR index out of range: ${pcr}`);
}

/** tpm2-tools selection string for the sha256 bank, e.g. `sha256:0,1,2`. */
export function sha256Selection(pcrs: readonly number[]): string {
  if (pcrs.length === 0) throw new TypeError('empty PCR selection');
  pcrs.forEach(checkPcr);
  return `sha256:${pcrs.join(',')}`;
}

/** One TPM reached through tpm2-tools and a TCTI; `workDir` holds context files (create with Tpm.open). */
export class Tpm {
  private constructor(
    readonly tcti: string,
    readonly workDir: string,
    private readonly ownsWorkDir: boolean,
    private readonly timeoutMs: number,
  ) {}

  /** Opens a TPM; a private temporary work dir is created unless one is given. */
  static async open(tcti: string, opts: { workDir?: string; timeoutMs?: number } = {}): Promise<Tpm> {
    if (typeof tcti !== 'string' || !/^[a-z0-9_-]+(:.*)?$/i.test(tcti)) throw new TypeError(`bad TCTI string: ${tcti}`);
    const dir = opts.workDir ?? (await mkdtemp(join(tmpdir(), 'aicert-tpm-')));
    return new Tpm(tcti, dir, opts.workDir === undefined, opts.timeoutMs ?? 30_000);
  }

  /** Removes the private work dir (context files). */
  async close(): Promise<void> {
    if (this.ownsWorkDir) await rm(this.workDir, { recursive: true, force: true });
  }

  /** Runs one tpm2-tools binary; resolves with stdout, rejects with TpmToolError. */
  run(tool: string, args: readonly string[]): Promise<string> {
    if (!/^tpm2_[a-z0-9_]+$/.test(tool)) throw new TypeError(`not a tpm2-tools binary: ${tool}`);
    const env = { ...process.env, TPM2TOOLS_TCTI: this.tcti };
    return new Promise((resolve, reject) => {
      execFile(tool, [...args], { env, cwd: this.workDir, timeout: this.timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new TpmToolError(tool, args, code, String(stderr || err.message)));
        } else resolve(String(stdout));
      });
    });
  }

  /** Path of a file in the work dir. */
  path(name: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new TypeError(`bad work file name: ${name}`);
    return join(this.workDir, name);
  }

  /** TPM2_Startup(CLEAR); harmless "already started" failures are ignored. */
  async startup(): Promise<void> {
    await this.run('tpm2_startup', ['-c']).catch((e: unknown) => {
      if (!(e instanceof TpmToolError && /0x100|initialize/i.test(e.stderr))) throw e;
    });
  }

  /** Flushes transient objects and sessions (swtpm without a resource manager holds only 3 objects). */
  async flush(): Promise<void> {
    await this.run('tpm2_flushcontext', ['-t']).catch(() => undefined);
    await this.run('tpm2_flushcontext', ['-s']).catch(() => undefined);
  }

  /** PCR_Extend of the sha256 bank: PCR = sha256(PCR ‖ digest). */
  async pcrExtend(pcr: number, sha256Hex: string): Promise<void> {
    checkPcr(pcr);
    if (!HEX64.test(sha256Hex)) throw new TypeError(`not a lowercase sha256 hex digest: ${sha256Hex}`);
    await this.run('tpm2_pcrextend', [`${pcr}:sha256=${sha256Hex}`]);
  }

  /** Reads sha256 PCR values; returns index → lowercase hex. */
  async pcrRead(pcrs: readonly number[]): Promise<Record<number, string>> {
    const out = this.path(`pcrread-${process.pid}-${Date.now()}.bin`);
    await this.run('tpm2_pcrread', ['-o', out, sha256Selection(pcrs)]);
    const raw = await readFile(out);
    await rm(out, { force: true });
    // tpm2_pcrread -o writes the selected values concatenated in selection order.
    if (raw.length !== 32 * pcrs.length) throw new TpmToolError('tpm2_pcrread', [], 0, `expected ${32 * pcrs.length} bytes, got ${raw.length}`);
    const r: Record<number, string> = {};
    pcrs.forEach((p, i) => (r[p] = raw.subarray(32 * i, 32 * i + 32).toString('hex')));
    return r;
  }

  /** Creates the endorsement key (RSA-2048, default template) into `ek.ctx`; returns the context file name. */
  async createEk(): Promise<string> {
    await this.run('tpm2_createek', ['-c', this.path('ek.ctx'), '-G', 'rsa', '-u', this.path('ek.pub')]);
    await this.flush();
    return this.path('ek.ctx');
  }

  /** Creates a restricted signing AK under the EK (RSA-2048 RSASSA or ECC P-256 ECDSA, sha256) named `label`. */
  async createAk(label: string, alg: AkAlg = 'rsa', ekContext = this.path('ek.ctx')): Promise<AkHandle> {
    const scheme = alg === 'rsa' ? 'rsassa' : 'ecdsa';
    const ctx = this.path(`${label}.ctx`);
    await this.run('tpm2_createak', [
      '-C', ekContext, '-c', ctx, '-G', alg === 'rsa' ? 'rsa' : 'ecc', '-g', 'sha256', '-s', scheme,
      '-u', this.path(`${label}.pub`), '-n', this.path(`${label}.name`),
    ]);
    await this.flush();
    return this.describeAk(ctx, label, scheme);
  }

  /** Makes an AK persistent at `handle` (like the original's 0x81000003) and returns it by handle. */
  async persistAk(ak: AkHandle, handle = '0x81000003'): Promise<AkHandle> {
    if (!/^0x81[0-9a-f]{6}$/i.test(handle)) throw new TypeError(`not a persistent handle: ${handle}`);
    await this.run('tpm2_evictcontrol', ['-C', 'o', '-c', ak.context, handle]);
    await this.flush();
    return { ...ak, context: handle };
  }

  /** Loads an existing AK (a persistent handle or a context file) and reads its public parts. */
  async loadAk(context: string, scheme: 'rsassa' | 'ecdsa' = 'rsassa'): Promise<AkHandle> {
    return this.describeAk(context, `ak-${context.replace(/[^A-Za-z0-9]/g, '')}`, scheme);
  }

  /** Reads TPM2B_PUBLIC, PEM and name of an object. */
  private async describeAk(context: string, label: string, scheme: 'rsassa' | 'ecdsa'): Promise<AkHandle> {
    const pub = this.path(`${label}.rp.pub`), pem = this.path(`${label}.pem`), name = this.path(`${label}.rp.name`);
    await this.run('tpm2_readpublic', ['-c', context, '-o', pub, '-n', name]);
    await this.run('tpm2_readpublic', ['-c', context, '-f', 'pem', '-o', pem]);
    await this.flush();
    const [p, k, n] = await Promise.all([readFile(pub), readFile(pem, 'utf8'), readFile(name)]);
    return { context, public: new Uint8Array(p), pem: k, name: new Uint8Array(n), scheme };
  }

  /** TPM2_Quote over sha256 PCRs with an optional qualification (qualifyingData, ≤ 64 bytes hex). */
  async quote(ak: AkHandle, pcrs: readonly number[], qualificationHex?: string): Promise<QuoteResult> {
    const sel = sha256Selection(pcrs);
    if (qualificationHex !== undefined && !/^([0-9a-f]{2}){1,64}$/.test(qualificationHex)) {
      throw new TypeError('qualification must be 1..64 bytes of lowercase hex');
    }
    const tag = `q-${process.pid}-${Date.now()}`;
    const m = this.path(`${tag}.msg`), s = this.path(`${tag}.sig`), o = this.path(`${tag}.pcrs`);
    const args = ['-c', ak.context, '-l', sel, '-g', 'sha256', '-m', m, '-s', s, '-o', o];
    if (qualificationHex !== undefined) args.push('-q', qualificationHex);
    await this.run('tpm2_quote', args);
    await this.flush();
    const [message, signature, pcrFile] = await Promise.all([readFile(m), readFile(s), readFile(o)]);
    await Promise.all([m, s, o].map((f) => rm(f, { force: true })));
    return { message: new Uint8Array(message), signature: new Uint8Array(signature), pcrFile: new Uint8Array(pcrFile) };
  }

  /** Reads an NV index (e.g. Azure's AK certificate at 0x01C101D0) with owner authorization by default. */
  async nvRead(index: number, hierarchy: 'o' | 'p' | 'index' = 'o'): Promise<Uint8Array> {
    if (!Number.isInteger(index) || index < 0x01000000 || index > 0x01ffffff) throw new TypeError(`not an NV index: ${index}`);
    const h = '0x' + index.toString(16).padStart(8, '0');
    const out = this.path(`nv-${h}.bin`);
    await this.run('tpm2_nvread', [...(hierarchy === 'index' ? [] : ['-C', hierarchy]), '-o', out, h]);
    const b = await readFile(out);
    await rm(out, { force: true });
    return new Uint8Array(b);
  }

  /** Defines and writes an NV index (owner auth); used by tests to emulate Azure's AK certificate index. */
  async nvWrite(index: number, data: Uint8Array): Promise<void> {
    if (!Number.isInteger(index) || index < 0x01000000 || index > 0x01ffffff) throw new TypeError(`not an NV index: ${index}`);
    const h = '0x' + index.toString(16).padStart(8, '0');
    const f = this.path(`nvw-${h}.bin`);
    await writeFile(f, data);
    await this.run('tpm2_nvdefine', ['-C', 'o', '-s', String(data.length), '-a', 'ownerread|ownerwrite|authread|authwrite', h]);
    await this.run('tpm2_nvwrite', ['-C', 'o', '-i', f, h]);
    await rm(f, { force: true });
  }
}
