/** The pipeline's shared state: the report being written and what earlier steps established. */
import type { AkChainResult } from '../tpm/akcert.js';
import type { AibomCheckId } from './check-ids.js';
import type { QuoteVerification } from '../tpm/quote.js';
import type { PcrValues } from '../tpm/pcr-values.js';
import type { EventLog } from '../eventlog/types.js';
import type { LogVerification } from '../eventlog/verify.js';
import type { AppFacts } from './events.js';
import type { Policy } from './policy.js';
import type { Check, Claims, Evidence, VerifyAibomOptions } from './types.js';

/**
 * Why a check could not run. `info`: optional input not given (freshness nonce, artifacts) — never blocks.
 * `platform`: no golden values/containers — blocks unless allowUncheckedPlatform. `simulation`: no TPM evidence —
 * blocks unless allowSimulation. `required`: always blocks.
 */
export type SkipKind = 'info' | 'platform' | 'simulation' | 'required';

/** PCRs that hold app events (never judged by the boot log). */
export const APP_PCRS = [8, 14, 15];

export class Report {
  readonly checks: Check<AibomCheckId>[] = [];
  readonly blocking: AibomCheckId[] = [];
  constructor(private readonly opts: VerifyAibomOptions) {}
  pass(id: AibomCheckId, detail: string): void {
    this.checks.push({ id, ok: true, detail });
  }
  skip(id: AibomCheckId, detail: string, kind: SkipKind): void {
    this.checks.push({ id, ok: null, detail });
    const waived = kind === 'info' || (kind === 'platform' && this.opts.allowUncheckedPlatform === true) || (kind === 'simulation' && this.opts.allowSimulation === true);
    if (!waived) this.blocking.push(id);
  }
  /** Records a failed check and throws the error, which stops the pipeline. */
  fail(id: AibomCheckId, err: Error): never {
    this.checks.push({ id, ok: false, detail: err.message });
    throw err;
  }
}

/** What the steps share. Fields are set by the step that establishes them. */
export interface Ctx {
  opts: VerifyAibomOptions;
  rep: Report;
  warnings: string[];
  claims: Claims;
  policy: Policy;
  /** Set by parse. */
  ev?: Evidence;
  facts?: AppFacts;
  /** Set by the chain and quote steps. */
  chain?: AkChainResult;
  /** Confidential VMs: HCLAkPub, vouched for by the hardware report instead of a certificate. */
  cvmAk?: import('../tpm/keys.js').KeyMaterial;
  quote?: QuoteVerification;
  /** Quoted PCR values, set only after the signature and PCR digest verified. */
  quoted?: PcrValues;
  /** Set by the boot-log step when a boot log replayed to the quote. */
  boot?: { log: EventLog; verified: LogVerification };
  /** Expected nonce from the options. */
  nonce?: Uint8Array;
}
