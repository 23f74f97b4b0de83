/**
 * Bounds for waits in tests: every wait names what it waits for, so a timeout says what never happened instead of
 * hanging until the runner's own limit. No wall-clock assumptions beyond the bound itself.
 */
import { execFile, type ChildProcess } from 'node:child_process';

/** Resolves as `p` does, or rejects after `ms` with "timed out after Ns waiting for WHAT" (then runs onTimeout). */
export function within<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** The exit code of a child process, bounded: on timeout the child is killed (by its PID) and the wait fails. */
export function exitOf(child: ChildProcess, ms: number, what: string): Promise<number | null> {
  const exited = new Promise<number | null>((ok) => (child.exitCode !== null ? ok(child.exitCode) : child.once('exit', (c) => ok(c))));
  return within(exited, ms, what, () => child.kill('SIGKILL'));
}

/** execFile as a bounded promise (never execFileSync in a test: it blocks the worker, so no timeout can fire). */
export function runTool(cmd: string, args: string[], ms: number, what = `${cmd} to finish`): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { timeout: ms, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      if (e) fail(new Error(`${what}: ${e.killed ? `timed out after ${ms / 1000} s` : e.message} ${stderr}`.trim()));
      else ok(stdout);
    });
  });
}

/** Resolves once `cond()` holds, checked every `everyMs`; rejects naming `what` after `ms`. */
export function until(cond: () => boolean, ms: number, what: string, everyMs = 5): Promise<void> {
  let iv: NodeJS.Timeout | undefined;
  const p = new Promise<void>((ok) => {
    iv = setInterval(() => cond() && ok(), everyMs);
  });
  return within(p, ms, what).finally(() => clearInterval(iv));
}
