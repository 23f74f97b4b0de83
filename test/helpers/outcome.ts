import { MalformedInputError, PolicyError, VerificationError } from '../../src/errors.js';

/** How a verification ended: `ok` when it resolved, else the stable code of the project's typed error (others rethrown). */
export async function outcome(p: Promise<unknown>, ok = 'valid'): Promise<string> {
  try {
    await p;
    return ok;
  } catch (e) {
    if (e instanceof VerificationError || e instanceof PolicyError || e instanceof MalformedInputError) return e.code;
    throw e;
  }
}
