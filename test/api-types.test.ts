/**
 * Type-level contract of the public results (spec/api.md), checked by `npm run typecheck` (expectTypeOf is erased at
 * run time): verifyAibom's result narrows on `valid`, and check ids are closed unions. The run-time half checks that
 * the ids a real verification reports are members of those unions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AibomCheckId } from '../src/aibom/check-ids.js';
import { AIBOM_CHECK_IDS } from '../src/aibom/check-ids.js';
import { QUOTE_CHECK_IDS, TDX_CHECK_IDS, type QuoteCheckId } from '../src/tpm/check-ids.js';
import { verifyAibom, type QuoteVerification, type VerifyAibomFailure, type VerifyAibomResult } from '../src/index.js';

const demo = (f: string) => new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'testvectors', 'demo', f)));
const known = new Set<string>([...AIBOM_CHECK_IDS, ...QUOTE_CHECK_IDS.map((i) => `quote.${i}`), 'quote.verify', ...TDX_CHECK_IDS.map((i) => `cvm.${i}`)]);

describe('result types', () => {
  it('VerifyAibomResult narrows on valid', () => {
    const narrow = (r: VerifyAibomResult) => {
      if (r.valid) {
        expectTypeOf(r.error).toEqualTypeOf<undefined>();
        expectTypeOf(r.unchecked).toEqualTypeOf<[]>();
      } else {
        expectTypeOf(r.error).toEqualTypeOf<VerifyAibomFailure | undefined>();
        expectTypeOf(r.unchecked).toEqualTypeOf<AibomCheckId[]>();
      }
    };
    expectTypeOf(narrow).parameter(0).toHaveProperty('valid').toEqualTypeOf<boolean>();
  });

  it('check ids are closed unions, not strings', () => {
    expectTypeOf<VerifyAibomResult['checks'][number]['id']>().toEqualTypeOf<AibomCheckId>();
    expectTypeOf<QuoteVerification['checks'][number]['id']>().toEqualTypeOf<QuoteCheckId>();
    expectTypeOf<'quote.signature'>().toExtend<AibomCheckId>();
    expectTypeOf<'no.such.check'>().not.toExtend<AibomCheckId>();
    expectTypeOf<string>().not.toExtend<QuoteCheckId>();
  });

  it('a real verification reports only ids of the closed set', async () => {
    const pem = new TextDecoder().decode(demo('trust-root.pem'));
    const runs = [
      await verifyAibom(demo('aibom.json'), { trustAnchors: [pem], policy: demo('policy.json') }),
      await verifyAibom(demo('aibom.cbor'), { trustAnchors: [pem] }),
      await verifyAibom(demo('attestation.json'), { trustAnchors: [pem], measurements: demo('measurements.json'), containers: demo('containers.json') }),
    ];
    const ids = runs.flatMap((r) => r.checks.map((c) => c.id));
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.filter((i) => !known.has(i))).toEqual([]);
    expect(runs.flatMap((r) => r.unchecked).filter((i) => !known.has(i))).toEqual([]);
  });
});
