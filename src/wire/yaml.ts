/** The `yaml` package, an optional peer dependency: loaded once by loadYaml(), then used synchronously. */
import { optionalImport } from './optional.js';

type YamlModule = typeof import('yaml');
let loaded: YamlModule | undefined;

/** Loads `yaml` (OptionalDependencyError when it is not installed). Every config entry point awaits it first. */
export async function loadYaml(): Promise<YamlModule> {
  loaded ??= await optionalImport('yaml', () => import('yaml'));
  return loaded;
}

/** The loaded `yaml` module, for the synchronous helpers that run after loadYaml() resolved. */
export function yaml(): YamlModule {
  if (!loaded) throw new TypeError('internal: loadYaml() must resolve before the YAML helpers run');
  return loaded;
}

/** Node type guards of the loaded module (same meaning as yaml's isMap, isScalar, isSeq). */
export const isMap = (n: unknown): n is import('yaml').YAMLMap => yaml().isMap(n);
export const isScalar = (n: unknown): n is import('yaml').Scalar => yaml().isScalar(n);
export const isSeq = (n: unknown): n is import('yaml').YAMLSeq => yaml().isSeq(n);
