/**
 * Run state files: $AICERT_HOME/runs/<runId>.json (default ~/.aicert). A resource is recorded as 'creating' BEFORE
 * its PUT is sent, so a crash at any point leaves enough for `aicert down RUN` to delete it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MalformedInputError } from '../errors.js';
import type { ArmClient } from './arm.js';
import { readJson } from '../util/json.js';

export type ResourceKind = 'virtualMachine' | 'disk' | 'networkInterface' | 'publicIPAddress' | 'networkSecurityGroup' | 'virtualNetwork';
export type ResourceStatus = 'creating' | 'created' | 'failed' | 'deleting' | 'deleted' | 'delete-failed';
export type RunStatus = 'provisioning' | 'running' | 'tearing-down' | 'torn-down' | 'teardown-failed' | 'kept';

export interface ResourceRecord {
  kind: ResourceKind;
  /** Full ARM resource id. */
  id: string;
  apiVersion: string;
  status: ResourceStatus;
  updatedAt: string;
  error?: string;
}

export interface RunState {
  version: 1;
  runId: string;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  /** Process that owns the run (a dead pid with status provisioning/running means it crashed). */
  pid: number;
  /** ARM base URL the resources live behind. */
  armEndpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  vmSize?: string;
  imageId?: string;
  publicIp?: string;
  /** Path of the config the run was started with. */
  config?: string;
  resources: ResourceRecord[];
  error?: string;
  /** How to read the VM's serial log (boot diagnostics, managed storage). */
  serialLog?: string;
  /** Status kept: the outputs only the VM holds (deleting it loses them). */
  unsavedOutputs?: string;
}

/** No state file for that run id (exit 2 in `aicert down`). */
export class RunNotFoundError extends MalformedInputError {
  constructor(readonly runId: string) {
    super(`no run '${runId}' in the state folder`, { path: 'RUN' });
  }
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** $AICERT_HOME, else ~/.aicert. */
export function aicertHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.AICERT_HOME && env.AICERT_HOME !== '' ? env.AICERT_HOME : join(homedir(), '.aicert');
}

/** A fresh, sortable, typeable run id: YYYYMMDD-HHMMSS-xxxxxx (also used in resource names). */
export function newRunId(now = new Date()): string {
  const d = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${d}-${randomBytes(3).toString('hex')}`;
}

/** True for a syntactically valid run id (it becomes a file name). */
export function isRunId(s: string): boolean {
  return RUN_ID.test(s);
}

/** The state file of one run; every change is written atomically (temp file + rename), in order. */
export class RunFile {
  private chain: Promise<void> = Promise.resolve();
  private constructor(
    readonly path: string,
    private s: RunState,
  ) {}

  /** A snapshot of the current state. */
  get state(): RunState {
    return structuredClone(this.s);
  }

  /** Creates a new state file (status provisioning). */
  static async create(
    init: Omit<RunState, 'version' | 'createdAt' | 'updatedAt' | 'status' | 'pid' | 'resources'> & { resources?: ResourceRecord[] },
    home = aicertHome(),
  ): Promise<RunFile> {
    if (!isRunId(init.runId)) throw new TypeError(`invalid run id ${JSON.stringify(init.runId)}`);
    const now = new Date().toISOString();
    const dir = join(home, 'runs');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const f = new RunFile(join(dir, `${init.runId}.json`), { version: 1, ...init, createdAt: now, updatedAt: now, status: 'provisioning', pid: process.pid, resources: init.resources ?? [] });
    await f.flush();
    return f;
  }

  /** Opens an existing run; RunNotFoundError if absent, MalformedInputError if unreadable. */
  static async open(runId: string, home = aicertHome()): Promise<RunFile> {
    if (!isRunId(runId)) throw new RunNotFoundError(runId);
    const path = join(home, 'runs', `${runId}.json`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RunNotFoundError(runId);
      throw e;
    }
    return new RunFile(path, parseRunState(text, path));
  }

  /** Records a resource as 'creating' (before its PUT) or moves it to a new status; written before returning. */
  async resource(kind: ResourceKind, id: string, apiVersion: string, status: ResourceStatus, error?: string): Promise<void> {
    const now = new Date().toISOString();
    const r = this.s.resources.find((x) => x.id.toLowerCase() === id.toLowerCase());
    const rec: ResourceRecord = { kind, id, apiVersion, status, updatedAt: now, ...(error !== undefined ? { error } : {}) };
    if (r) Object.assign(r, rec, error === undefined ? { error: undefined } : {});
    else this.s.resources.push(rec);
    await this.flush();
  }

  /** Updates run-level fields. */
  async update(patch: Partial<Pick<RunState, 'status' | 'publicIp' | 'error' | 'config' | 'unsavedOutputs' | 'serialLog'>>): Promise<void> {
    Object.assign(this.s, patch);
    await this.flush();
  }

  /** Resources not known to be deleted, in creation order. */
  live(): ResourceRecord[] {
    return this.s.resources.filter((r) => r.status !== 'deleted').map((r) => ({ ...r }));
  }

  private flush(): Promise<void> {
    this.s.updatedAt = new Date().toISOString();
    const text = JSON.stringify(this.s, null, 2) + '\n';
    const tmp = `${this.path}.${process.pid}.tmp`;
    this.chain = this.chain.then(async () => {
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.path);
    });
    return this.chain;
  }
}

/** Checks the shape of a state file. */
function parseRunState(text: string, path: string): RunState {
  let v: unknown;
  try {
    v = readJson(text, 'state file', { maxDepth: 64 });
  } catch (e) {
    throw new MalformedInputError(`state file is not JSON: ${(e as Error).message}`, { path });
  }
  const s = v as RunState;
  const ok =
    s !== null &&
    typeof s === 'object' &&
    s.version === 1 &&
    typeof s.runId === 'string' &&
    isRunId(s.runId) &&
    typeof s.armEndpoint === 'string' &&
    Array.isArray(s.resources) &&
    s.resources.every((r) => r && typeof r.id === 'string' && r.id.startsWith('/subscriptions/') && typeof r.apiVersion === 'string' && typeof r.kind === 'string');
  if (!ok) throw new MalformedInputError('not an aicert run state file (version 1)', { path });
  return s;
}

/** Every run in the state folder, oldest first; unreadable files are reported, not fatal. */
export async function listRuns(home = aicertHome()): Promise<{ runs: RunState[]; unreadable: { file: string; error: string }[] }> {
  const dir = join(home, 'runs');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], unreadable: [] };
    throw e;
  }
  const runs: RunState[] = [];
  const unreadable: { file: string; error: string }[] = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
    const file = join(dir, n);
    try {
      runs.push(parseRunState(await readFile(file, 'utf8'), file));
    } catch (e) {
      unreadable.push({ file, error: (e as Error).message });
    }
  }
  runs.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
  return { runs, unreadable };
}

