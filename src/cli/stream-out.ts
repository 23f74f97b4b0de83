/**
 * Streamed command output: text gathered into 64 KiB chunks and written to a stream that is allowed to drain
 * (backpressure), so a large report costs memory for one chunk, not for the whole text, even through a slow pipe.
 */
import type { Writable } from 'node:stream';

const CHUNK = 64 * 1024;

/** Serializes bigints as decimal strings, as printJson does. */
const replacer = (_k: string, x: unknown): unknown => (typeof x === 'bigint' ? x.toString() : x);

export class StreamWriter {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly stream: Writable = process.stdout) {}

  /** Queues text; resolves once the stream has room again (immediately while it has). */
  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= CHUNK) await this.flush();
  }

  /** Queues one line. */
  line(s: string): Promise<void> {
    return this.write(s + '\n');
  }

  /** Writes what is queued and waits for 'drain' when the stream's buffer is full. */
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('drain', done).on('close', done).on('error', done);
    });
  }

  /**
   * One JSON document `{...head, [key]: [...items]}`, byte for byte what `JSON.stringify(doc, replacer, 2)` prints,
   * with the array items produced and written one at a time.
   */
  async jsonDocument(head: Record<string, unknown>, key: string, items: Iterable<unknown>): Promise<void> {
    const indent = (s: string, pad: string) => s.replace(/\n/g, '\n' + pad);
    await this.write('{\n');
    for (const [k, v] of Object.entries(head)) {
      if (v !== undefined) await this.write(`  ${JSON.stringify(k)}: ${indent(JSON.stringify(v, replacer, 2), '  ')},\n`);
    }
    let n = 0;
    for (const item of items) await this.write(`${n++ === 0 ? `  ${JSON.stringify(key)}: [\n` : ',\n'}    ${indent(JSON.stringify(item, replacer, 2), '    ')}`);
    await this.write(n === 0 ? `  ${JSON.stringify(key)}: []\n}\n` : '\n  ]\n}\n');
    await this.flush();
  }
}
