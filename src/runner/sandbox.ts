/**
 * Sandbox backends of the reference runner (spec/runner-protocol.md §Sandbox): the training command is hostile by
 * assumption, so it runs with no network, no TPM, none of the runner's files, the inputs read-only and one writable
 * outputs folder. `bwrap` (bubblewrap: new user/net/pid/ipc/uts namespaces) and `podman` (an OCI image pinned by
 * digest, `--network none`, all capabilities dropped) are the real backends; `none` exists only for development
 * and is measured as such, so verifiers refuse it unless their policy allows it.
 * bubblewrap: https://github.com/containers/bubblewrap/blob/main/bwrap.xml
 * podman run: https://docs.podman.io/en/latest/markdown/podman-run.1.html
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type SandboxKind = 'bwrap' | 'podman' | 'none';

/** Host paths the trainer gets; the sandbox shows them at INSIDE (none: at their host paths). */
export interface SandboxMounts {
  modelDir: string;
  datasetDir: string;
  /** The data file, relative to datasetDir. */
  datasetFile: string;
  configFile: string;
  outputDir: string;
}

/** Where the trainer finds its inputs inside bwrap and podman. */
export const INSIDE = { model: '/aicert/model', dataset: '/aicert/dataset', config: '/aicert/config.yaml', output: '/aicert/output' } as const;

/** One prepared training process: what to spawn, and what was measured about it. */
export interface PreparedRun {
  file: string;
  args: string[];
  env: Record<string, string>;
  /** podman: the image id the runtime will run, asked from the runtime. */
  image?: { name: string; id: string };
  /** Removes what prepare() created (podman: the container); idempotent. */
  cleanup(): Promise<void>;
  /** Stops every process of the run (podman: podman kill); the spawned process is killed by the caller. */
  kill(): Promise<void>;
}

/** The sandbox's measured description: the PCR 14 `training_sandbox` event's spec. */
export interface SandboxDescription {
  backend: SandboxKind;
  network: 'none' | 'host';
  tpm: 'hidden' | 'visible';
  image?: string;
}

export interface SandboxBackend {
  readonly kind: SandboxKind;
  describe(): SandboxDescription;
  prepare(command: readonly string[], m: SandboxMounts): Promise<PreparedRun>;
}

/** The sandbox cannot be used (missing binary, refused namespaces, unpinned image). */
export class SandboxError extends Error {
  override name = 'SandboxError';
}

/** The trainer's whole environment: nothing of the runner's own (tokens, TCTI, paths) leaks in. */
export function trainerEnv(inside: { model: string; dataset: string; datasetFile: string; config: string; output: string }): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    HF_DATASETS_OFFLINE: '1',
    HF_HOME: '/tmp/hf',
    AICERT_MODEL_DIR: inside.model,
    AICERT_DATASET_DIR: inside.dataset,
    AICERT_DATASET_FILE: inside.datasetFile,
    AICERT_CONFIG_FILE: inside.config,
    AICERT_OUTPUT_DIR: inside.output,
  };
}

const insideEnv = (m: SandboxMounts) =>
  trainerEnv({ model: INSIDE.model, dataset: INSIDE.dataset, datasetFile: `${INSIDE.dataset}/${m.datasetFile}`, config: INSIDE.config, output: INSIDE.output });

/** True when `p` is `dir` or lies below it. */
const within = (p: string, dir: string): boolean => {
  const r = relative(resolve(dir), resolve(p));
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

/** Checks extra read-only paths: absolute, and neither inside nor above any of the runner's private paths. */
export function checkReadOnlyPaths(paths: readonly string[], privatePaths: readonly string[]): void {
  for (const p of paths) {
    if (!isAbsolute(p)) throw new SandboxError(`sandbox read-only path must be absolute: ${p}`);
    for (const q of privatePaths)
      if (within(p, q) || within(q, p)) throw new SandboxError(`sandbox read-only path ${p} would expose the runner's ${q}`);
    if (['/', '/dev', '/proc', '/sys', '/run', '/etc', '/root', '/home', '/var'].includes(resolve(p))) throw new SandboxError(`sandbox read-only path ${p} is too broad`);
  }
}

/** bubblewrap: the host's /usr (and /bin, /lib* as on the host) read-only, a fresh /proc, /dev and /tmp, nothing else. */
export function bwrapBackend(o: { readOnly?: readonly string[]; bwrap?: string } = {}): SandboxBackend & { argv(command: readonly string[], m: SandboxMounts): Promise<string[]> } {
  const bin = o.bwrap ?? 'bwrap';
  const argv = async (command: readonly string[], m: SandboxMounts): Promise<string[]> => {
    const a = [
      // Namespaces: the trainer sees its own processes, no network but its own loopback, its own IPC and hostname.
      '--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
      '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--uid', '65534', '--gid', '65534', '--hostname', 'aicert-trainer',
      '--ro-bind', '/usr', '/usr',
    ];
    // Merged-/usr hosts have /bin etc. as symlinks; others get them bound read-only.
    for (const d of ['/bin', '/sbin', '/lib', '/lib32', '/lib64']) {
      const st = await lstat(d).catch(() => undefined);
      if (st?.isSymbolicLink()) a.push('--symlink', `usr${d}`, d);
      else if (st?.isDirectory()) a.push('--ro-bind', d, d);
    }
    for (const f of ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/localtime']) a.push('--ro-bind-try', f, f);
    a.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
    for (const p of o.readOnly ?? []) a.push('--ro-bind', p, p);
    a.push('--ro-bind', m.modelDir, INSIDE.model, '--ro-bind', m.datasetDir, INSIDE.dataset, '--ro-bind', m.configFile, INSIDE.config);
    a.push('--bind', m.outputDir, INSIDE.output, '--chdir', INSIDE.output, '--', ...command);
    return a;
  };
  return {
    kind: 'bwrap',
    argv,
    describe: () => ({ backend: 'bwrap', network: 'none', tpm: 'hidden' }),
    async prepare(command, m) {
      return { file: bin, args: await argv(command, m), env: insideEnv(m), cleanup: async () => undefined, kill: async () => undefined };
    },
  };
}

const PINNED_IMAGE = /^[a-z0-9][a-z0-9._\/:-]*@sha256:[0-9a-f]{64}$/;

/** podman: the trainer image pinned by digest; the id measured is the one the runtime reports for the container. */
export function podmanBackend(o: { image: string; podman?: string; runner?: typeof run }): SandboxBackend & { createArgs(name: string, command: readonly string[], m: SandboxMounts): string[] } {
  if (!PINNED_IMAGE.test(o.image)) throw new SandboxError(`--trainer-image must be pinned by digest as NAME@sha256:<64 hex>, got ${o.image}`);
  const bin = o.podman ?? 'podman';
  const exec = o.runner ?? run;
  const createArgs = (name: string, command: readonly string[], m: SandboxMounts): string[] => [
    'create', '--name', name, '--pull', 'never', '--network', 'none', '--cap-drop', 'all', '--security-opt', 'no-new-privileges',
    '--security-opt', 'mask=/sys/kernel/security:/sys/class/tpm:/sys/class/tpmrm', '--user', '65534:65534', '--read-only',
    '--tmpfs', '/tmp', '--ipc', 'private', '--uts', 'private', '--pid', 'private',
    '-v', `${m.modelDir}:${INSIDE.model}:ro`, '-v', `${m.datasetDir}:${INSIDE.dataset}:ro`, '-v', `${m.configFile}:${INSIDE.config}:ro`,
    '-v', `${m.outputDir}:${INSIDE.output}:rw`, '--workdir', INSIDE.output,
    ...Object.entries(insideEnv(m)).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    o.image, ...command,
  ];
  return {
    kind: 'podman',
    createArgs,
    describe: () => ({ backend: 'podman', network: 'none', tpm: 'hidden', image: o.image }),
    async prepare(command, m) {
      const name = `aicert-train-${randomUUID()}`;
      await exec(bin, createArgs(name, command, m));
      let removed = false;
      const cleanup = async () => {
        if (removed) return;
        removed = true;
        await exec(bin, ['rm', '--force', '--time', '0', name]).catch(() => undefined);
      };
      try {
        // The image id the runtime will run, asked from the runtime (never the command line's value).
        const { stdout } = await exec(bin, ['container', 'inspect', '--format', '{{.Image}}', name]);
        const id = stdout.trim();
        if (!/^(sha256:)?[0-9a-f]{64}$/.test(id)) throw new SandboxError(`podman reported image id ${JSON.stringify(id.slice(0, 80))}`);
        return {
          file: bin, args: ['start', '--attach', name], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          image: { name: o.image.split('@')[0]!, id: id.startsWith('sha256:') ? id : `sha256:${id}` },
          cleanup, kill: async () => void (await exec(bin, ['kill', name]).catch(() => undefined)),
        };
      } catch (e) {
        await cleanup();
        throw e;
      }
    },
  };
}

/** No confinement (development only): the trainer runs as the runner's user, in its own process group. */
export function unconfinedBackend(): SandboxBackend {
  return {
    kind: 'none',
    describe: () => ({ backend: 'none', network: 'host', tpm: 'visible' }),
    async prepare(command, m) {
      const env = trainerEnv({ model: m.modelDir, dataset: m.datasetDir, datasetFile: `${m.datasetDir}${sep}${m.datasetFile}`, config: m.configFile, output: m.outputDir });
      return { file: command[0]!, args: command.slice(1), env: { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin' }, cleanup: async () => undefined, kill: async () => undefined };
    },
  };
}

/** Checks at start-up that the backend really works here; rejects with SandboxError saying why. */
export async function probeSandbox(b: SandboxBackend, o: { bwrap?: string; podman?: string } = {}): Promise<void> {
  try {
    if (b.kind === 'bwrap')
      await run(o.bwrap ?? 'bwrap', ['--unshare-user', '--unshare-pid', '--unshare-net', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'true'], { timeout: 20_000 });
    else if (b.kind === 'podman') await run(o.podman ?? 'podman', ['version', '--format', '{{.Client.Version}}'], { timeout: 20_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const why = err.code === 'ENOENT' ? `${b.kind} is not installed` : (err.stderr || err.message).trim().split('\n').slice(-2).join(' | ');
    throw new SandboxError(`the ${b.kind} sandbox does not work on this host (${why}); training cannot be confined, so the runner will not start (--unconfined-training is for development only)`);
  }
}
