/**
 * Measured events of the reference runner, byte-for-byte as the original aicert server made them: each event is a JSON
 * string serialized like Python's `json.dumps` (separators ", " and ": ", ensure_ascii), extended as sha256(string)
 * into PCR 14 (inputs) or PCR 8 (outputs, then our `aibom_statement`). PCR 15 holds sha256 of the TLS certificate PEM.
 * Formats: spec/aibom-v1.md and ../shared/reference/provenance-formats.md §4.
 */
import { createHash } from 'node:crypto';
import { launchEvent } from '../wire/protocol.js';

/** A Python float: serialized with repr() rules (`1.0`, `1e-05`, `1e+16`), unlike a JS number. */
export class PyFloat {
  constructor(readonly value: number) {
    if (!Number.isFinite(value)) throw new TypeError('PyFloat must be finite (json.dumps would write NaN/Infinity)');
  }
}

/** The values json.dumps can serialize here (dict key order is insertion order, as in Python 3.7+). */
export type PyJson = null | boolean | number | string | PyFloat | PyJson[] | { [key: string]: PyJson };

/** Python repr() of a float: shortest round-trip digits, exponent form when exp < -4 or exp >= 16. */
function pyFloatRepr(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant = '', expS = '0'] = x.toExponential().split('e');
  const exp = Number(expS);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let s: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    s = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    s = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else {
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    s = `${int}.${frac || '0'}`;
  }
  return neg ? `-${s}` : s;
}

/** json.dumps string escaping with ensure_ascii=True: all but 0x20..0x7e as \uXXXX (UTF-16 units); "/" left alone. */
function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Serializes like Python `json.dumps(value)` with default arguments. */
export function pyJsonDumps(v: PyJson, depth = 0): string {
  if (depth > 64) throw new TypeError('value nested too deeply');
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return pyString(v);
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError(`JS number ${v} is not an exact integer; wrap floats in PyFloat`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map((x) => pyJsonDumps(x, depth + 1)).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `${pyString(k)}: ${pyJsonDumps(x, depth + 1)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot serialize ${typeof v}`);
}

/** sha256 hex of a string's UTF-8 bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The PCRs of the original server: inputs (PCR 14), outputs (PCR 8), TLS certificate (PCR 15). */
export const PCR_INPUTS = 14;
export const PCR_OUTPUTS = 8;
export const PCR_TLS = 15;

/** A model or dataset resource as the original protocol's AxolotlResource (key order matters). */
export interface HfResource {
  resource_type: 'model' | 'dataset';
  /** https://huggingface.co/ORG/REPO or https://huggingface.co/datasets/ORG/REPO */
  repo: string;
  /** Requested revision (40-hex commit). */
  hash: string;
  /** Installation path (dataset: the file name). */
  path: string;
}

/** Event constructors; each returns the Python-style dict (insertion order = serialization order). */
export const events = {
  config: (configFile: PyJson, sha256: string): PyJson => ({
    event_type: 'axolotl_configuration',
    content: { spec: { config_file: configFile }, resolved: { hash: sha256 } },
  }),
  inputImage: (imageName: string, imageId: string): PyJson => ({
    event_type: 'input_image',
    content: { spec: { image_name: imageName }, resolved: { id: imageId } },
  }),
  inputResource: (r: HfResource, resolvedHash: string): PyJson => ({
    event_type: 'input_resource',
    content: {
      spec: { resource_proto: { resource_type: r.resource_type, repo: r.repo, hash: r.hash, path: r.path } },
      resolved: { hash: resolvedHash },
    },
  }),
  timing: (seconds: number): PyJson => ({ event_type: 'timing', content: { spec: { finetune_time: new PyFloat(seconds) } } }),
  computeConsumed: (totalFlos: number): PyJson => ({
    event_type: 'compute_consumed',
    content: { spec: { total_flos: Number.isInteger(totalFlos) ? totalFlos : new PyFloat(totalFlos) } },
  }),
  /** PCR 8 outputs, sorted by path (v1 rule; the original listed a single zip). */
  outputs: (files: readonly { path: string; sha256: string }[]): PyJson => ({
    event_type: 'outputs',
    content: [...files]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((f) => ({ spec: { path: f.path }, resolved: { hash: f.sha256 } })),
  }),
  /** How the trainer was confined (backend `none` = unconfined, refused by verifiers unless their policy allows it). */
  trainingSandbox: (d: { backend: string; network: string; tpm: string; image?: string }): PyJson => ({
    event_type: 'training_sandbox',
    content: { spec: { backend: d.backend, network: d.network, tpm: d.tpm, ...(d.image !== undefined ? { image: d.image } : {}) } },
  }),
  /** Our AIBOM v1 binding: the last PCR 8 event names sha256 of the exact statement bytes. */
  aibomStatement: (digestHex: string): PyJson => ({ event_type: 'aibom_statement', content: { digest: `sha256:${digestHex}` } }),
};

/** What the measurer needs from a TPM (Tpm from ./tpm.js satisfies it). */
export interface PcrDevice {
  pcrExtend(pcr: number, sha256Hex: string): Promise<void>;
  pcrRead(pcrs: readonly number[]): Promise<Record<number, string>>;
}

const ZERO = '0'.repeat(64);

/** Extends events into the TPM and keeps the exact strings (the app event log). */
export class Measurer {
  /** PCR index → the exact event strings, in extension order. */
  readonly log: { 14: string[]; 8: string[] } = { 14: [], 8: [] };
  /** PEM extended into PCR 15, when this measurer did it. */
  tlsCertificate: string | undefined;

  constructor(private readonly tpm: PcrDevice) {}

  /** Serializes an event, extends sha256(string) into PCR 14 or 8 and records the string. */
  async event(pcr: 14 | 8, ev: PyJson): Promise<string> {
    if (pcr !== 14 && pcr !== 8) throw new TypeError('events go to PCR 14 (inputs) or PCR 8 (outputs)');
    const s = pyJsonDumps(ev);
    await this.tpm.pcrExtend(pcr, sha256Hex(s));
    this.log[pcr].push(s);
    return s;
  }

  /** Inputs in the original order: config, base image, model, dataset, axolotl image, timing, compute. */
  async inputs(i: {
    config: PyJson;
    configSha256: string;
    images: readonly { name: string; id: string }[];
    model: HfResource;
    dataset: HfResource;
    modelResolved: string;
    datasetResolved: string;
    finetuneSeconds: number;
    totalFlos: readonly number[];
  }): Promise<void> {
    await this.inputsBeforeTraining(i);
    await this.inputsAfterTraining(i);
  }

  /** The inputs known before training, in the original order: config, base image, model, dataset, other images. */
  async inputsBeforeTraining(i: {
    config: PyJson;
    configSha256: string;
    images: readonly { name: string; id: string }[];
    model: HfResource;
    dataset: HfResource;
    modelResolved: string;
    datasetResolved: string;
  }): Promise<void> {
    const [base, ...rest] = i.images;
    await this.event(14, events.config(i.config, i.configSha256));
    if (base) await this.event(14, events.inputImage(base.name, base.id));
    await this.event(14, events.inputResource(i.model, i.modelResolved));
    await this.event(14, events.inputResource(i.dataset, i.datasetResolved));
    for (const im of rest) await this.event(14, events.inputImage(im.name, im.id));
  }

  /** The inputs known once training ended: timing, then compute. */
  async inputsAfterTraining(i: { finetuneSeconds: number; totalFlos: readonly number[] }): Promise<void> {
    await this.event(14, events.timing(i.finetuneSeconds));
    for (const f of i.totalFlos) await this.event(14, events.computeConsumed(f));
  }

  /** The first PCR 14 event: the launch nonce's sha256 (the string of src/wire/protocol.ts launchEvent). */
  async launch(nonceSha256Hex: string): Promise<string> {
    if (this.log[14].length) throw new TypeError('the launch event must be the first PCR 14 event');
    const s = launchEvent(nonceSha256Hex);
    await this.tpm.pcrExtend(14, sha256Hex(s));
    this.log[14].push(s);
    return s;
  }

  /** Records (without extending) the launch event a previous start of this runner already measured. */
  adoptLaunch(nonceSha256Hex: string): void {
    if (this.log[14].length) throw new TypeError('the launch event must be the first PCR 14 event');
    this.log[14].push(launchEvent(nonceSha256Hex));
  }

  /** The training_sandbox event (PCR 14, just before training starts). */
  sandbox(d: { backend: string; network: string; tpm: string; image?: string }): Promise<string> {
    return this.event(14, events.trainingSandbox(d));
  }

  /** The PCR 8 outputs event. */
  outputs(files: readonly { path: string; sha256: string }[]): Promise<string> {
    return this.event(8, events.outputs(files));
  }

  /** The v1 binding event (must be the last PCR 8 event). */
  statement(digestHex: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(digestHex)) throw new TypeError('statement digest must be sha256 hex');
    return this.event(8, events.aibomStatement(digestHex));
  }

  /** Extends sha256(PEM) into PCR 15 only while PCR 15 is zero (as the original); returns whether it extended. */
  async tls(pem: string): Promise<boolean> {
    const cur = (await this.tpm.pcrRead([PCR_TLS]))[PCR_TLS];
    if (cur !== ZERO) return false;
    await this.tpm.pcrExtend(PCR_TLS, sha256Hex(pem));
    this.tlsCertificate = pem;
    return true;
  }
}
