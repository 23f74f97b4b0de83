/** Loads the optional Azure SDK packages on first use, with a plain-words error when they are not installed. */
export { OptionalDependencyError, optionalImport } from '../wire/optional.js';
