/** Loads the optional Azure SDK packages on first use, with a plain-words error when they are not installed. */

/** An optional peer dependency is not installed (the CLI's exit 2). Defined here: the launcher never imports the CLI. */
export class OptionalDependencyError extends Error {
  override name = 'OptionalDependencyError';
}

/** Imports an optional peer dependency of aicert/launcher. */
export async function optionalImport<T>(name: '@azure/identity' | '@azure/storage-blob', load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(name)) {
      throw new OptionalDependencyError(`the Azure launcher needs the optional package ${name}: run \`npm install ${name}\``);
    }
    throw e;
  }
}
