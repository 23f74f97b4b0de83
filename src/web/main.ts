/**
 * The verifier page (dist/web, spec/cli.md §aicert serve): drop an AIBOM (JSON, CBOR or the original
 * attestation.json) and optionally its weights or a Hub reference; the page runs verifyAibom in the browser and shows
 * the verdict, every check and the ID card. This one module is also the hashing worker (it starts itself). Nothing
 * is uploaded; the only network request is to the Hub endpoint the user names.
 */
import { verifyAibom } from '../aibom/verify.js';
import type { VerifyAibomOptions } from '../aibom/types.js';
import type { HubCompareReport } from '../hub/compare.js';
import { hubArtifactVerifier } from '../hub/index.js';
import { tryFromHex } from '../util/bytes.js';
import { filesVerifier, givenName, type GivenFile, type WebFilesReport } from './files.js';
import { Hasher, type Progress } from './hash-client.js';
import { render, renderError } from './render.js';
import { startWorker } from './worker.js';

/** What the user gave: files from the pickers or a drop. */
interface Inputs {
  doc?: File;
  trust?: File;
  /** Trust roots and policies found in a drop: set aside, never adopted (they come only from their own pickers). */
  setAside: string[];
  policy?: File;
  weights: GivenFile[];
  /** A folder was picked or dropped: every bound output must be in it. */
  folder: boolean;
}

const inputs: Inputs = { weights: [], folder: false, setAside: [] };
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const bytesOf = async (f: Blob): Promise<Uint8Array> => new Uint8Array(await f.arrayBuffer());

/** Progress bar text: percent and MB/s. */
function showProgress(p: Progress): void {
  const bar = $<HTMLProgressElement>('progress');
  bar.max = Math.max(1, p.total);
  bar.value = p.done;
  const pct = p.total ? Math.floor((p.done * 100) / p.total) : 100;
  $('progress-text').textContent = `${pct}% · ${(p.rate / 1e6).toFixed(1)} MB/s`;
}

/** The file of a drop that is the AIBOM: one named aibom/attestation (.json/.cbor), else any .cbor, else the first other .json. */
function pickDocument(list: readonly File[]): File | undefined {
  const n = (f: File) => f.name.toLowerCase();
  return (
    list.find((f) => /(aibom|attestation).*\.(json|cbor)$/.test(n(f))) ??
    list.find((f) => n(f).endsWith('.cbor')) ??
    list.find((f) => n(f).endsWith('.json') && !/^policy.*\.json$/.test(n(f)))
  );
}

/**
 * Puts dropped or picked files in their place: the AIBOM, the rest weights. A .pem or policy*.json in a drop is set
 * aside and named, never adopted: a trust root or policy shipped beside a model would let its author decide the verdict,
 * so those come only from their own pickers (spec/web.md).
 */
function takeFiles(list: readonly File[], folder: boolean): void {
  const weights: GivenFile[] = [];
  const doc = folder || inputs.doc ? undefined : pickDocument(list);
  if (doc) inputs.doc = doc;
  for (const f of list) {
    const n = f.name.toLowerCase();
    if (f === doc) continue;
    if (!folder && (n.endsWith('.pem') || /^policy.*\.json$/.test(n))) inputs.setAside.push(f.name);
    else weights.push({ name: givenName(f), file: f });
  }
  if (weights.length) setWeights(weights, folder);
  else showInputs();
}

/** The weight files to check (a folder: every bound output must be among them). */
function setWeights(weights: GivenFile[], folder: boolean): void {
  inputs.weights = weights;
  inputs.folder = folder;
  showInputs();
}

/** Every file below a dropped folder entry, named by its path below the folder (bounded). */
async function readFolder(dir: FileSystemDirectoryEntry, out: GivenFile[], prefix = ''): Promise<void> {
  const reader = dir.createReader();
  // readEntries answers in batches until it answers none
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) return;
    for (const e of batch) {
      if (out.length >= MAX_DROPPED) throw new Error(`more than ${MAX_DROPPED} files in the dropped folder`);
      if (e.isDirectory) await readFolder(e as FileSystemDirectoryEntry, out, `${prefix}${e.name}/`);
      else {
        const file = await new Promise<File>((ok, fail) => (e as FileSystemFileEntry).file(ok, fail));
        out.push({ name: `${prefix}${e.name}`, file });
      }
    }
  }
}

/** Most files taken from one dropped folder. */
const MAX_DROPPED = 100_000;

/** Files of a drop: the loose files, and the files of a dropped folder (named below it, as the folder picker does). */
async function dropped(dt: DataTransfer | null): Promise<{ loose: File[]; folder?: GivenFile[] }> {
  const items = [...(dt?.items ?? [])].filter((i) => i.kind === 'file');
  const entries = items.map((i) => i.webkitGetAsEntry?.() ?? null);
  const dir = entries.find((e) => e?.isDirectory) as FileSystemDirectoryEntry | undefined;
  const loose = items.flatMap((i, k) => (entries[k]?.isDirectory ? [] : [i.getAsFile()].filter((f): f is File => f !== null)));
  if (!dir) return { loose };
  const folder: GivenFile[] = [];
  await readFolder(dir, folder);
  return { loose, folder };
}

/** The chosen inputs, as plain text. */
function showInputs(): void {
  const parts = [
    inputs.doc ? `document: ${inputs.doc.name}` : 'no document yet',
    inputs.weights.length ? `${inputs.weights.length} weight file${inputs.weights.length === 1 ? '' : 's'}${inputs.folder ? ' (folder)' : ''}` : '',
    inputs.trust ? `trust root: ${inputs.trust.name}` : '',
    inputs.policy ? `policy: ${inputs.policy.name}` : '',
    inputs.setAside.length ? `set aside (trust roots and policies come only from their own pickers): ${inputs.setAside.join(', ')}` : '',
  ].filter(Boolean);
  $('chosen').textContent = parts.join(' · ');
}

/** The verifyAibom options from the form. */
async function options(hasher: Hasher, onFiles: (r: WebFilesReport) => void, onHub: (r: HubCompareReport) => void): Promise<VerifyAibomOptions> {
  const opts: VerifyAibomOptions = {};
  if (inputs.trust) opts.trustAnchors = [await bytesOf(inputs.trust)];
  if (inputs.policy) opts.policy = await bytesOf(inputs.policy);
  const nonce = $<HTMLInputElement>('nonce').value.trim();
  if (nonce) {
    const n = tryFromHex(nonce.replace(/^0x/i, ''));
    if (!n || !n.length) throw new Error('the nonce must be hex');
    opts.nonce = n;
  }
  if ($<HTMLInputElement>('allow-unchecked').checked) opts.allowUncheckedPlatform = true;
  if ($<HTMLInputElement>('allow-simulation').checked) opts.allowSimulation = true;
  const ref = $<HTMLInputElement>('hub-ref').value.trim();
  if (ref && inputs.weights.length) throw new Error('give weight files or a Hub repository, not both');
  if (ref) opts.artifacts = hubArtifactVerifier(ref, { endpoint: $<HTMLInputElement>('hub-endpoint').value.trim() || undefined, onReport: onHub });
  else if (inputs.weights.length) opts.artifacts = filesVerifier(inputs.weights, inputs.folder, (f) => hasher.hashAll(f, showProgress), onFiles);
  return opts;
}

/** Runs the verification and shows its result. */
async function verify(hasher: Hasher): Promise<void> {
  const out = $('result');
  const button = $<HTMLButtonElement>('verify');
  button.disabled = true;
  document.body.dataset.state = 'running';
  let files: WebFilesReport | undefined;
  let hub: HubCompareReport | undefined;
  try {
    if (!inputs.doc) throw new Error('choose an AIBOM document first');
    const dup = inputs.weights.map((w) => w.name).find((n, i, a) => a.indexOf(n) !== i);
    if (dup !== undefined) throw new Error(`two weight files have the same name: ${dup}`);
    const opts = await options(hasher, (r) => (files = r), (r) => (hub = r));
    const result = await verifyAibom(await bytesOf(inputs.doc), opts);
    render(out, { result, files, hub });
  } catch (e) {
    renderError(out, e);
  } finally {
    button.disabled = false;
    document.body.dataset.state = 'done';
  }
}

/** Wires the pickers, the drop zone and the button. */
function startPage(): void {
  const hasher = new Hasher(import.meta.url);
  const pick = (id: string, f: (files: File[]) => void) => $<HTMLInputElement>(id).addEventListener('change', (ev) => f([...((ev.target as HTMLInputElement).files ?? [])]));
  pick('doc', (f) => ((inputs.doc = f[0]), showInputs()));
  pick('trust', (f) => ((inputs.trust = f[0]), showInputs()));
  pick('policy', (f) => ((inputs.policy = f[0]), showInputs()));
  pick('weights', (f) => takeFiles(f, false));
  pick('folder', (f) => takeFiles(f, true));
  const zone = $('drop');
  zone.addEventListener('dragover', (ev) => (ev.preventDefault(), zone.classList.add('over')));
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    void dropped(ev.dataTransfer)
      .then(({ loose, folder }) => {
        takeFiles(loose, false);
        if (folder) setWeights(folder, true);
      })
      .catch((e: unknown) => renderError($('result'), e));
  });
  $('verify').addEventListener('click', () => void verify(hasher));
  $('reset').addEventListener('click', () => location.reload());
  // speed figure of both hashers, for the test and the curious (window.aicertBench(bytes))
  (globalThis as { aicertBench?: (n: number) => unknown }).aicertBench = (n: number) => hasher.bench(n);
  document.body.dataset.state = 'ready';
}

if (typeof document === 'undefined') startWorker(self as unknown as Parameters<typeof startWorker>[0]);
else startPage();
