/** The page's side of the hashing worker: one worker (this same module), files hashed one after another. */
import type { BenchResult, HashMode, WorkerReply, WorkerRequest } from './worker.js';

export interface Progress {
  /** Bytes hashed so far, of `total`. */
  done: number;
  total: number;
  /** Average speed since the start, bytes per second. */
  rate: number;
  /** The file being hashed. */
  name: string;
}

export class Hasher {
  private worker: Worker | undefined;
  private next = 1;
  private readonly waiting = new Map<number, (m: WorkerReply) => void>();
  constructor(private readonly url: string) {}

  private get w(): Worker {
    if (!this.worker) {
      this.worker = new Worker(this.url, { type: 'module', name: 'aicert-hash' });
      this.worker.onmessage = (ev: MessageEvent<WorkerReply>) => this.waiting.get(ev.data.id)?.(ev.data);
    }
    return this.worker;
  }

  /** Sends one request; `each` sees every reply, and the promise resolves with the last one. */
  private ask(req: WorkerRequest, each: (m: WorkerReply) => boolean): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.waiting.set(req.id, (m) => {
        if (!each(m)) return;
        this.waiting.delete(req.id);
        resolve(m);
      });
      this.w.postMessage(req);
    });
  }

  /** SHA-256 of each file (name -> hex), in order, with progress over all of them. */
  async hashAll(files: readonly { name: string; file: Blob }[], onProgress: (p: Progress) => void, mode: HashMode = 'auto'): Promise<Map<string, string>> {
    const total = files.reduce((s, f) => s + f.file.size, 0);
    const start = performance.now();
    const out = new Map<string, string>();
    let before = 0;
    for (const f of files) {
      const id = this.next++;
      const report = (done: number) => onProgress({ done: before + done, total, rate: ((before + done) * 1000) / Math.max(1, performance.now() - start), name: f.name });
      const last = await this.ask({ id, file: f.file, mode }, (m) => {
        if ('done' in m) report(m.done);
        return !('done' in m);
      });
      if ('error' in last) throw new Error(`could not read ${f.name}: ${last.error}`);
      if (!('sha256' in last)) throw new Error('unexpected answer from the hashing worker');
      out.set(f.name, last.sha256);
      before += f.file.size;
    }
    return out;
  }

  /** Hashing speed of both hashers in the worker on `bytes` of random data, with both digests. */
  async bench(bytes: number): Promise<BenchResult> {
    const m = await this.ask({ id: this.next++, bench: bytes }, () => true);
    if (!('bench' in m)) throw new Error('error' in m ? m.error : 'unexpected answer from the hashing worker');
    return m.bench;
  }
}
