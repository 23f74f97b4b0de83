import { defineConfig } from 'vitest/config';

/** Suites that start a software TPM (swtpm): part of `npm test`, left out of `npm run test:unit`. */
const STARTS_SWTPM = [
  'test/atls.test.ts', 'test/attack-ak.test.ts', 'test/cvm-runner-e2e.test.ts', 'test/stderr-sinks.test.ts', 'test/hub-runner.test.ts', 'test/quote-formats-cli.test.ts', 'test/runner-chain.test.ts',
  'test/runner-hcl.test.ts', 'test/runner-hostile.test.ts', 'test/runner-restart.test.ts', 'test/runner-server.test.ts',
];
/** `npm run test:unit` sets this: no live tests, no swtpm (test/helpers/swtpm.ts refuses to start one). */
const unit = process.env.AICERT_TEST_SUBSET === 'unit';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(unit ? ['test/live/**', ...STARTS_SWTPM] : [])],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
