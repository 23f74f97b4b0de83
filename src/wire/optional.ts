/**
 * Optional peer dependencies (package.json peerDependenciesMeta): the Azure SDKs for the launcher and `yaml` for
 * the launcher's and runner's config reader. Verification never needs them; they load on first use.
 */

/** An optional peer dependency is not installed (the CLI's exit 2). */
export class OptionalDependencyError extends Error {
  override name = 'OptionalDependencyError';
  /** The npm package to install. */
  readonly packageName: string;
  constructor(packageName: string, purpose: string) {
    super(`${purpose} needs the optional package ${packageName}: run \`npm install ${packageName}\``);
    this.packageName = packageName;
  }
}

/** The optional peer dependencies, with what needs each. */
const PURPOSE = {
  '@azure/identity': 'the Azure launcher',
  '@azure/storage-blob': 'the Azure launcher',
  yaml: 'reading an aicert.yaml config',
} as const;
export type OptionalPackage = keyof typeof PURPOSE;

/** Imports an optional peer dependency; a missing package becomes OptionalDependencyError, other errors pass. */
export async function optionalImport<T>(name: OptionalPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(name)) {
      throw new OptionalDependencyError(name, PURPOSE[name]);
    }
    throw e;
  }
}
