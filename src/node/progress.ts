/**
 * A one-line progress bar (bytes, MB/s, ETA) redrawn in place on a TTY stream, normally stderr.
 * When the stream is not a TTY nothing is ever written, so pipes and CI logs stay clean.
 */

export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressBar {
  /** Records the bytes done so far (and the total when known). */
  update(done: number, total: number | undefined): void;
  /** Clears the line. */
  done(): void;
}

/** Decimal byte sizes (MB = 10^6 B, as the performance figures use). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1e3;
  let u = 0;
  while (v >= 1e3 && u < units.length - 1) {
    v /= 1e3;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** Seconds as `1h02m`, `3m05s` or `42s`. */
export function formatEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--';
  const s = Math.round(sec);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** The text of one progress line (without the carriage return), fitted to `width` columns. */
export function renderProgress(done: number, total: number | undefined, elapsedMs: number, width = 80): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const mbps = `${(rate / 1e6).toFixed(0)} MB/s`;
  if (total === undefined || total <= 0) return `${formatBytes(done)}  ${mbps}`.slice(0, width);
  const frac = Math.min(1, done / total);
  const eta = rate > 0 ? formatEta((total - done) / rate) : '--';
  const text = ` ${(frac * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${mbps}  ETA ${eta}`;
  // the bar takes whatever room is left, at most 30 cells
  const room = Math.min(30, width - text.length - 3);
  if (room < 5) return text.slice(0, width);
  const full = Math.round(frac * room);
  return `[${'#'.repeat(full)}${'.'.repeat(room - full)}]${text}`;
}

/** A progress bar on `sink` (default process.stderr), or a no-op when the sink is not a TTY. */
export function createProgressBar(sink: ProgressSink = process.stderr, opts: { intervalMs?: number; now?: () => number } = {}): ProgressBar {
  if (sink.isTTY !== true) return { update() {}, done() {} };
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? 100;
  const start = now();
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      // redraw at most every `interval` ms
      const t = now();
      if (t - last < interval) return;
      last = t;
      drawn = true;
      const width = Math.max(20, (sink.columns || 80) - 1);
      sink.write(`\r${renderProgress(done, total, t - start, width)}\x1b[K`);
    },
    done() {
      if (drawn) sink.write('\r\x1b[K');
    },
  };
}
