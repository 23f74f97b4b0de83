// Real swtpm quotes (testvectors/quote, made by testvectors/gen-quote.sh): every positive and negative case.
import { join } from 'node:path';
import { describe } from 'vitest';
import { quoteCaseTests } from './helpers/quote-cases.js';

describe('committed swtpm vectors', () => {
  quoteCaseTests(() => join(import.meta.dirname, '..', 'testvectors', 'quote'));
});
