/**
 * The library speaks in option names (`options.nonce`), the CLI in flags (`--nonce`): this is the one place that
 * maps the first to the second, for check details, warnings and error messages the CLI prints (spec/cli.md).
 */
import { optionWords } from '../aibom/verdict.js';

/** Library option name → the flag of `aicert verify` that sets it. */
const FLAGS: Record<string, string> = {
  artifacts: '--model',
  model: '--model',
  nonce: '--nonce',
  policy: '--policy',
  measurements: '--measurements',
  containers: '--containers',
  ignore: '--ignore',
  hf: '--hf',
  hfEndpoint: '--hf-endpoint',
  trustAnchors: '--trust-root',
  anchorRules: '--trust-store',
  requireAikEku: '--no-require-aik-eku',
  at: '--at',
  allowUncheckedPlatform: '--allow-unchecked-platform',
  allowSimulation: '--allow-simulation',
  amdRoots: '--amd-roots',
  intelRoots: '--intel-root',
};

/** `options.NAME` → its flag, where the CLI has one; other words are left as they are. */
export function flagWords(text: string): string {
  return optionWords(text, FLAGS);
}
