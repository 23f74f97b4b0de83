/**
 * `aicert runner [options] -- TRAIN-COMMAND...` (cli-contract.md, Additions): the reference runner a VM image starts.
 * The options and their meaning live with the runner (src/runner/cli-entry.ts); this is the thin CLI door.
 */
export async function run(argv: string[]): Promise<number> {
  const { main } = await import('../runner/cli-entry.js');
  return main(argv);
}
