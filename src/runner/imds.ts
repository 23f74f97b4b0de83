/**
 * Azure IMDS reads for the runner, retried as Microsoft's IMDS documentation asks: 410 (the service is not ready yet
 * after a VM starts) and 5xx (and 429, network errors) are retried with back-off for up to 70 s.
 * https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#errors-and-debugging
 */
import { ToolError } from '../wire/tool-error.js';
const IMDS_USER_DATA = 'http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text';

export interface ImdsOptions {
  url?: string;
  /** Total time to keep retrying (default 70 s). */
  budgetMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** GET an IMDS text answer (userData by default) with the Metadata header; retries 410, 429, 5xx and network errors. */
export async function imdsText(o: ImdsOptions = {}): Promise<string> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + (o.budgetMs ?? 70_000);
  let last = '';
  for (let delay = 1000; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      const r = await (o.fetch ?? fetch)(o.url ?? IMDS_USER_DATA, { headers: { Metadata: 'true' }, signal: AbortSignal.timeout(5000) });
      if (r.ok) return await r.text();
      last = `HTTP ${r.status}`;
      await r.body?.cancel();
      if (r.status !== 410 && r.status !== 429 && r.status < 500) throw new ToolError('IMDS_UNAVAILABLE', `IMDS: ${last}`);
    } catch (e) {
      if (e instanceof ToolError) throw e;
      last = (e as Error).message;
    }
    if (now() + delay > deadline) throw new ToolError('IMDS_UNAVAILABLE', `IMDS: no answer within ${Math.round((o.budgetMs ?? 70_000) / 1000)} s (${last})`);
    await sleep(delay);
  }
}
