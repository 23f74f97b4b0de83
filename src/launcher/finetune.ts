/**
 * The `aicert finetune` flow (spec/cli.md; spec/runner-protocol.md §Flow): validate the config (nothing is created
 * before it passes), provision a Trusted Launch VM (or use --runner), attested TLS, send the config, start, stream
 * the log, poll /attestation?nonce=, have the runner upload its outputs with a SAS, download them, write
 * attestation.json + aibom.json, verify both (weights included). Cloud resources are always deleted.
 * Exit: 0 verified, 1 verification failed, 2 usage/config (before anything exists), 3 the flow could not complete.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { launchEvent } from '../wire/protocol.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readJson } from '../util/json.js';
import { verifyAibom } from '../aibom/verify.js';
import type { ArtifactVerifier, VerifyAibomOptions, VerifyAibomResult } from '../aibom/types.js';
import { MalformedInputError, PolicyError, VerificationError } from '../errors.js';
import { verifyArtifacts } from '../node/artifacts.js';
import type { CertInput } from '../tpm/akcert.js';
import type { Check } from '../tpm/quote.js';
import { abortableSleep, ArmClient, type ArmClientOptions } from './arm.js';
import { attestRunner, REPLAYABLE_WARNING, type AtlsSession } from './atls.js';
import { parseContainerUrl, progressBar, storageAuthFromEnv, type Progress, type StorageAuth } from './blob.js';
import { loadConfig, resolveAzureSettings } from './config.js';
import { createRun, InterruptedError, provision, teardown, withCleanup, type ProvisionedVm, type TeardownOptions } from './provision.js';
import { OutputGuard, saveOutputs, type SaveOutputsOptions } from './upload-follow.js';
import { preflight, PreflightError } from './preflight.js';
import { probeStorage } from './blob.js';
import { RunnerClient, RunnerError } from './runner-client.js';
import type { RunFile } from './state.js';
import { mergePolicies, policyFromMeasurements, type Policy } from '../aibom/policy.js';

import { ToolError } from '../wire/tool-error.js';
import { LogLines, stderrLines } from '../node/stderr.js';

export interface FinetuneOptions {
  config: string;
  /** Where attestation.json, aibom.json and outputs/ go; default the config's folder. */
  dir?: string;
  /** Use this runner; no VM is created. */
  runnerUrl?: string;
  storageUrl?: string;
  storageAuth?: StorageAuth;
  trustAnchors?: CertInput[];
  /** Golden PCR values {"measurements": {...}} and container ids {"<image>": "sha256:…"}, original formats. */
  measurements?: Uint8Array | string | Record<string, unknown>;
  containers?: Uint8Array | string | Record<string, unknown>;
  allowReplayable?: boolean;
  /** A local VM instead of Azure (aicert finetune --qemu): booted with the launch nonce, stopped on every path. */
  localVm?: (launchNonce: Uint8Array, signal: AbortSignal) => Promise<{ url: string; trustAnchors?: CertInput[]; stop(): Promise<void> }>;
  /** A policy every document must also satisfy (e.g. the runner image's policy.json). */
  basePolicy?: Policy;
  /** Send the config without golden boot values (--measurements): the boot stack of the runner is then unproven. */
  allowUnattestedPlatform?: boolean;
  /** Azure: ARM client options (credential, endpoint, CA…), state folder, runner port (default 443). */
  arm?: ArmClientOptions;
  home?: string;
  runnerPort?: number;
  callerIp?: string;
  /** `--allow-from CIDR`: the only sources the VM's port 443 admits (default: open to all, with a warning). */
  allowFrom?: string;
  /** Called once the VM exists (tests start the "VM" here); may return the runner's port. */
  onProvisioned?: (vm: ProvisionedVm) => Promise<{ port?: number } | void>;
  /** How long to wait for a new VM's runner to answer (default 10 min); poll interval (default 5 s). */
  readyTimeoutMs?: number;
  pollMs?: number;
  /** Consecutive failed polls before the runner counts as gone (default 5). */
  maxPollFailures?: number;
  signals?: NodeJS.Signals[];
  emitter?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  log?: (line: string) => void;
  onLogText?: (text: string) => void;
  onProgress?: Progress;
  /** Delete the VM even when it holds outputs not yet confirmed in storage (they are then lost). */
  deleteUnsavedOutputs?: boolean;
  /** Teardown back-off (retry window, injected clock). */
  teardown?: Omit<TeardownOptions, 'log' | 'signal'>;
  /** Upload tuning (parallel blocks, poll interval, stall limit, job attempts…). */
  upload?: Partial<Pick<SaveOutputsOptions, 'parallel' | 'retry' | 'jobAttempts' | 'pollMs' | 'stallMs' | 'unreachableMs' | 'sasTtlMs'>>;
}

/** Throws SESSION_MISMATCH unless the documents carry the session's AK certificate, TLS certificate and launch event. */
export function sameSession(legacy: Uint8Array, v1: Uint8Array | undefined, session: Pick<AtlsSession, 'akCertificateSha256' | 'certificatePem' | 'replayable'>, launchNonce?: Uint8Array): void {
  const bad = (m: string): never => {
    throw new VerificationError('SESSION_MISMATCH', `${m}: the document does not come from the attested runner session`);
  };
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const json = (b: Uint8Array): Record<string, any> => {
    try {
      // The project's one strict JSON reader: duplicate keys and depth bombs cannot pass the session check.
      return readJson(b, 'final document') as Record<string, any>;
    } catch {
      return bad('not JSON');
    }
  };
  const l = json(legacy);
  const leafB64 = l.remote_attestation?.cert_chain?.[0]?.base64;
  if (typeof leafB64 !== 'string' || sha(Buffer.from(leafB64, 'base64')) !== session.akCertificateSha256) bad('attestation.json is signed by another AK');
  if (!v1) return;
  const d = json(v1);
  const leaf = d.evidence?.tpm?.akCertificates?.[0];
  const der = typeof leaf === 'string' && leaf.includes('-----BEGIN') ? new X509Certificate(leaf).raw : typeof leaf === 'string' ? Buffer.from(leaf, 'base64') : undefined;
  if (!der || sha(der) !== session.akCertificateSha256) bad('aibom.json is signed by another AK');
  if (d.evidence?.tlsCertificate !== session.certificatePem) bad('aibom.json binds another TLS certificate (PCR 15)');
  if (launchNonce && d.evidence?.appEventLog?.['14']?.[0] !== launchEvent(sha(launchNonce))) bad('aibom.json does not start with this launch\'s nonce event');
}

export interface FinetuneResult {
  exit: 0 | 1 | 2 | 3;
  error?: string;
  runId?: string;
  replayable?: boolean;
  atls?: Check[];
  attestation?: VerifyAibomResult;
  aibom?: VerifyAibomResult;
  files: string[];
  teardown?: { failed: { id: string; error: string }[] };
  /** The VM was kept: it holds outputs not confirmed in storage (what, and how to delete it). */
  kept?: string;
}

/** Why golden boot values are needed, and what --allow-unattested-platform gives up. */
export const UNATTESTED_HINT =
  'no golden boot values (--measurements): the runner\'s firmware, kernel and OS would be unchecked, so the config and storage ' +
  'credentials are not sent. Pass --allow-unattested-platform to go on anyway: the AK still proves a TPM, but not what software runs on it.';

const isNetworkError = (e: unknown) => /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|timed out|socket hang up/i.test(String((e as Error)?.message));

/** Runs the whole flow; never throws for flow failures (they become exit codes), only for programming errors. */
export async function runFinetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const log = o.log ?? stderrLines('');
  const files: string[] = [];
  const res: FinetuneResult = { exit: 3, files };
  // ---- 0. everything that can be wrong locally is checked before anything is created (exit 2)
  let cfg, azure, storage, policy: Policy;
  try {
    cfg = await loadConfig(o.config);
    azure = o.runnerUrl || o.localVm ? undefined : resolveAzureSettings(cfg);
    if (o.runnerUrl && !/^https:\/\/[^/?#]+\/?$/.test(o.runnerUrl)) throw new MalformedInputError(`--runner must be https://HOST[:PORT], got ${o.runnerUrl}`, { path: '--runner' });
    storage = o.storageUrl ? parseContainerUrl(o.storageUrl) : undefined;
    if (cfg.datasets.length !== 1) throw new MalformedInputError(`${cfg.file}: exactly one dataset is supported by the runner`, { path: 'datasets' });
    const own: Policy = {
      ...(o.measurements !== undefined ? policyFromMeasurements(o.measurements) : {}),
      baseModels: [`${cfg.baseModel.repo}@${cfg.baseModel.revision}`],
      datasets: cfg.datasets.map((d) => `${d.repo}@${d.revision}`),
    };
    policy = o.basePolicy ? mergePolicies([o.basePolicy, own]) : own;
  } catch (e) {
    return { exit: 2, error: (e as Error).message, files };
  }
  // No config and no SAS go to a runner whose boot stack nobody checked: stop before anything is created.
  if (!Object.keys(policy.pcrs?.sha256 ?? {}).length && !policy.bootEvents && !o.allowUnattestedPlatform)
    return { exit: 1, error: `PLATFORM_UNATTESTED: ${UNATTESTED_HINT}`, files };
  const dir = resolve(o.dir ?? dirname(o.config));
  const auth = storage ? (o.storageAuth ?? (await storageAuthFromEnv())) : undefined;
  let run: RunFile | undefined;
  let arm: ArmClient | undefined;
  const guard = new OutputGuard();
  let heldBy: string | undefined;
  let stopVm: (() => Promise<void>) | undefined;
  let trustAnchors = o.trustAnchors;

  const flow = async (signal: AbortSignal): Promise<void> => {
    // ---- 1. the runner: a new VM (launch nonce in userData), or --runner
    // Storage first: a wrong key, container or firewall shows now, not after training.
    if (storage && auth) await probeStorage(storage, auth, signal);
    let url = o.runnerUrl?.replace(/\/$/, '');
    let launchNonce: Uint8Array | undefined;
    if (!url && o.localVm) {
      launchNonce = randomBytes(32);
      const vm = await o.localVm(launchNonce, signal);
      stopVm = vm.stop;
      url = vm.url;
      if (vm.trustAnchors) trustAnchors = [...(trustAnchors ?? []), ...vm.trustAnchors];
    }
    if (!url) {
      arm = new ArmClient({ log, ...o.arm });
      // Everything Azure must offer is read before the first resource exists (exit 2 or 3).
      const pre = await preflight(arm, azure!, { signal, log });
      run = await createRun(arm, azure!, { ...(o.home ? { home: o.home } : {}), config: resolve(o.config) });
      res.runId = run.state.runId;
      log(`run ${res.runId}: provisioning ${azure!.vmSize} in ${azure!.location}`);
      launchNonce = randomBytes(32);
      const vm = await provision({ arm, azure: azure!, run, nonce: launchNonce, signal, log, image: pre.image, ...(o.callerIp ? { callerIp: o.callerIp } : {}), ...(o.allowFrom ? { allowFrom: o.allowFrom } : {}) });
      const port = (await o.onProvisioned?.(vm))?.port ?? o.runnerPort ?? 443;
      url = `https://${vm.publicIp.includes(':') ? `[${vm.publicIp}]` : vm.publicIp}:${port}`;
    }
    // ---- 2. attested TLS (a new VM needs time to boot: network errors are retried until readyTimeoutMs)
    const atlsOpts = { ...(trustAnchors ? { trustAnchors } : {}), policy, signal, ...(launchNonce ? { launchNonce } : {}), ...(o.allowReplayable ? { allowReplayable: true } : {}) };
    const deadline = Date.now() + (o.runnerUrl ? 0 : (o.readyTimeoutMs ?? 600_000));
    let session: AtlsSession;
    for (;;) {
      try {
        session = await attestRunner(url, atlsOpts);
        break;
      } catch (e) {
        if (e instanceof VerificationError || !isNetworkError(e) || Date.now() > deadline) throw e;
        await abortableSleep(o.pollMs ?? 5000, signal);
      }
    }
    res.atls = session.checks;
    res.replayable = session.replayable;
    if (session.replayable) log(`WARNING: replayable attestation accepted (--allow-replayable-attestation): ${REPLAYABLE_WARNING}`);
    log(`attested TLS: ${session.akSubject}; certificate pinned`);
    try {
      await trainAndCollect(session, signal, launchNonce);
    } finally {
      session.agent.destroy();
    }
  };

  const trainAndCollect = async (session: AtlsSession, signal: AbortSignal, launchNonce?: Uint8Array): Promise<void> => {
    // ---- 3. config, start, live log, poll /attestation?nonce=
    const client = new RunnerClient(session);
    const measured = await client.sendConfig(cfg.axolotlYaml, signal);
    const sent = createHash('sha256').update(cfg.axolotlYaml).digest('hex');
    if (measured !== sent) throw new VerificationError('CONFIG_MISMATCH', `the runner measured config sha256 ${measured}, the launcher sent ${sent}`);
    await client.start(signal);
    log('fine-tune started; streaming the runner log');
    // The log stream ends with the flow, whichever way the flow ends.
    const logStop = new AbortController();
    const logSignal = AbortSignal.any([signal, logStop.signal]);
    // The trainer's output, line by line and escaped: a hostile trainer cannot drive the builder's terminal.
    const lines = new LogLines();
    const logs = client.streamLogs(o.onLogText ?? ((t) => lines.write(t)), { signal: logSignal, onDrop: (e) => log(`log stream dropped (${e.message}); resuming`) });
    logs.catch(() => undefined);
    try {
      await collect(client, logs, signal, session, launchNonce);
    } finally {
      logStop.abort(new ToolError('ABORTED', 'flow ended'));
    }
  };

  const collect = async (client: RunnerClient, logs: Promise<boolean>, signal: AbortSignal, session: AtlsSession, launchNonce?: Uint8Array): Promise<void> => {
    const attNonce = res.replayable ? undefined : randomBytes(32).toString('hex');
    let doc: Uint8Array | undefined;
    for (let failures = 0; !doc; ) {
      try {
        doc = await client.attestation(attNonce, signal);
        failures = 0;
      } catch (e) {
        if (signal.aborted || (e as { code?: string }).code !== 'RUNNER_UNREACHABLE' || ++failures >= (o.maxPollFailures ?? 5)) throw e;
      }
      if (!doc) await abortableSleep(o.pollMs ?? 5000, signal);
    }
    await logs.then((ok) => ok || log('the log stream could not be resumed; the run completed regardless'), () => undefined);
    // ---- 4. documents next to the config
    await mkdir(dir, { recursive: true });
    const legacy = attNonce ? await client.attestation(undefined, signal) : doc;
    if (!legacy) throw new RunnerError('RUNNER_FAILED', 'runner lost its attestation');
    await writeFile(join(dir, 'attestation.json'), legacy);
    files.push(join(dir, 'attestation.json'));
    if (attNonce) {
      await writeFile(join(dir, 'aibom.json'), doc);
      files.push(join(dir, 'aibom.json'));
    }
    // ---- 5. outputs: the runner uploads them with a create+write SAS; we download them with our own credential
    const outDir = join(dir, 'outputs');
    if (storage && auth) {
      const prefix = `${res.runId ?? `runner-${Date.now()}`}/`;
      files.push(...(await saveOutputs({ client, storage, auth, prefix, outDir, guard, signal, log, onProgress: o.onProgress ?? progressBar(), ...o.upload })));
      if (heldBy) throw new InterruptedError(heldBy);
    } else log('no --storage-url: the outputs stay on the runner and the weights are NOT checked');
    // ---- 6. verify both documents with the checks of aicert-verify, weights included
    const artifacts: ArtifactVerifier | undefined = storage
      ? async (expected) => {
          const r = await verifyArtifacts(expected.map((x) => ({ name: x.name, digest: { sha256: x.sha256 } })), [outDir]);
          return { ok: r.ok, matched: r.matched.map((m) => m.name), missing: r.missing, extra: r.extra.map((x) => x.name), mismatched: r.mismatched.map((m) => m.name) };
        }
      : undefined;
    const vo: VerifyAibomOptions = {
      policy,
      ...(trustAnchors ? { trustAnchors } : {}),
      ...(o.containers !== undefined ? { containers: o.containers } : {}),
      ...(artifacts ? { artifacts } : {}),
    };
    res.attestation = await verifyAibom(legacy, vo);
    if (attNonce) res.aibom = await verifyAibom(doc, { ...vo, nonce: attNonce });
    // The documents must come from the attested session: same AK, same measured TLS certificate, same launch.
    sameSession(legacy, attNonce ? doc : undefined, session, launchNonce);
    const ok = res.attestation.valid && (res.aibom?.valid ?? true);
    res.exit = ok ? 0 : 1;
    if (!ok) res.error = (res.aibom && !res.aibom.valid ? res.aibom : res.attestation).error?.message ?? 'a check could not run (see the report)';
  };

  const cleanup = async () => {
    await stopVm?.();
    if (!run || !arm) return;
    // The VM holds the only copy of some output: it stays unless the user asked otherwise.
    if (guard.atRisk() && !o.deleteUnsavedOutputs) {
      res.kept = `the VM is KEPT: it holds the only copy of ${guard.describe()} (not confirmed in storage). 'aicert down ${run.state.runId}' deletes it and loses them`;
      log(res.kept);
      await run.update({ status: 'kept', unsavedOutputs: guard.describe() });
      return;
    }
    if (guard.atRisk()) log(`deleting the VM as asked (--delete-unsaved-outputs): LOST ${guard.describe()}`);
    log(`run ${run.state.runId}: deleting cloud resources`);
    const t = await teardown(run, arm, { ...o.teardown, log });
    res.teardown = { failed: t.failed };
  };
  const hold = () =>
    guard.atRisk() && !o.deleteUnsavedOutputs
      ? `the VM holds the only copy of ${guard.describe()}: finishing the upload, then deleting the VM. Press Ctrl-C again to stop now and KEEP the VM ('aicert down ${res.runId}' deletes it later)`
      : undefined;
  try {
    await withCleanup(flow, cleanup, { ...(o.signals ? { signals: o.signals } : {}), ...(o.emitter ? { emitter: o.emitter } : {}), log, hold, onHold: (sig) => (heldBy = sig) });
  } catch (e) {
    res.exit = e instanceof VerificationError || e instanceof PolicyError ? 1 : e instanceof PreflightError ? e.exit : 3;
    res.error = e instanceof VerificationError ? `${e.code}: ${e.message}` : (e as Error).message;
  }
  if (res.kept) {
    res.exit = 3;
    res.error = `${res.error ? `${res.error}; ` : ''}${res.kept}`;
  }
  if (res.teardown?.failed.length) {
    res.exit = res.exit === 1 ? 1 : 3;
    res.error = `${res.error ? `${res.error}; ` : ''}${res.teardown.failed.length} resource(s) could not be deleted: run 'aicert down ${res.runId}'`;
  }
  return res;
}
