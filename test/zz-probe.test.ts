import { test } from 'vitest';
import { readFileSync } from 'node:fs';
import { verifyAkChain } from '../src/tpm/akcert.js';
const p = (n: string) => readFileSync('/tmp/advt/ca/' + n, 'utf8');
test('probe', async () => {
  for (const [leaf, chain, anchor] of [['ak-leafanchor.pem', [], 'leafanchor.pem'], ['ak-nocertsign.pem', [], 'nocertsign.pem'], ['ak-v1.pem', [], 'v1anchor.pem']] as const) {
    try { const r = await verifyAkChain([p(leaf), ...chain.map(p)], { trustAnchors: [p(anchor)] }); console.log(leaf, 'VALID', r.path.map((c) => c.subject)); } catch (e) { console.log(leaf, String((e as any).code), (e as Error).message); }
  }
});
