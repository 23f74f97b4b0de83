/**
 * Conventional non-output files of a model repository: documentation and git metadata that a downloaded repository
 * or a Hub commit carries next to the weights and that cannot change what the weights compute. They are listed in a
 * report but do not fail an artifact check when they are not bound; a bound one is compared like any output.
 * Anything else that is not bound (an extra `pytorch_model.bin`, a `config.json`, a tokenizer) still fails.
 * Shared by Hub mode (src/hub/compare.ts) and local folders (`--model DIR`). Spec: spec/hub.md §4.
 */

/** Rules, in the order they are documented. Each matches a whole POSIX path relative to the repository root. */
export const CONVENTIONAL_FILE_RULES: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /^README\.md$/i, reason: 'model card' },
  { pattern: /^\.gitattributes$/, reason: 'git attributes (LFS tracking rules)' },
  { pattern: /^\.gitignore$/, reason: 'git ignore rules' },
  { pattern: /^(?:LICEN[CS]E|COPYING|NOTICE)(?:[._-][^/]{0,64})?$/i, reason: 'license text' },
  { pattern: /^CITATION\.cff$/i, reason: 'citation metadata' },
  { pattern: /^\.cache\/huggingface\/(?:[^/]+\/)*[^/]+$/, reason: 'huggingface_hub download metadata (local_dir downloads)' },
];

/** The reason a path is a conventional non-output file, or undefined when it is not one. */
export function conventionalFileReason(path: string): string | undefined {
  if (typeof path !== 'string' || path.length > 4096) return undefined;
  for (const r of CONVENTIONAL_FILE_RULES) if (r.pattern.test(path)) return r.reason;
  return undefined;
}

/** True when `path` (relative POSIX) is a conventional non-output file. */
export function isConventionalFile(path: string): boolean {
  return conventionalFileReason(path) !== undefined;
}
