/**
 * Hostile sizes end in typed errors, bounded: a 6 MB PEM in akCertificates (was: RangeError "Maximum call stack size
 * exceeded" from a regular expression, reaching library callers) and a strict-PEM check that is linear in its text.
 */
import { describe, expect, test } from 'vitest';
import { verifyAibom } from '../src/aibom/index.js';
import { MalformedInputError } from '../src/errors.js';
import { statementJson } from './helpers/aibom-fixtures.js';

const doc = (certs: unknown[]): string =>
  JSON.stringify({
    _type: 'https://aicert.dev/aibom/v1',
    statement: Buffer.from(statementJson([])).toString('base64'),
    evidence: { tpm: { attest: '', signature: '', pcrs: {}, akCertificates: certs }, appEventLog: {}, nonce: '00'.repeat(32) },
  });

describe('hostile sizes: typed errors, never RangeError', () => {
  test('a 6 MB PEM certificate text is a MalformedInputError (was: RangeError from a regex)', async () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${`${'A'.repeat(64)}\n`.repeat(93_000)}-----END CERTIFICATE-----\n`;
    expect(pem.length).toBeGreaterThan(6e6);
    await expect(verifyAibom(doc([pem]))).rejects.toBeInstanceOf(MalformedInputError);
  });

  test('strict PEM form is still enforced line by line (just under the cap: no stack overflow either)', async () => {
    const big = `-----BEGIN CERTIFICATE-----\n${`${'A'.repeat(64)}\n`.repeat(16_000)}-----END CERTIFICATE-----\n`;
    await expect(verifyAibom(doc([big]))).rejects.toBeInstanceOf(MalformedInputError);
    for (const bad of ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', ' -----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', `-----BEGIN CERTIFICATE-----\n${'A'.repeat(68)}\n-----END CERTIFICATE-----\n`]) {
      const e = await verifyAibom(doc([bad])).catch((x: unknown) => x);
      expect(e, JSON.stringify(bad.slice(0, 40))).toBeInstanceOf(MalformedInputError);
      expect((e as Error).message).toMatch(/RFC 7468/);
    }
  });
});
