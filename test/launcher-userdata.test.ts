// The runner reads its launch nonce from IMDS userData: hostile or damaged userData must fail with a typed error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedInputError } from '../src/errors.js';
import { launchUserData, parseLaunchUserData } from '../src/launcher/provision.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64');
const nonceHex = 'ab'.repeat(32);
const good = { aicert_launch: { version: 1, run_id: '20261126-014000-a1b2c3', nonce: nonceHex } };

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedInputError);
    return (e as MalformedInputError).path;
  }
  throw new Error('accepted');
}

describe('parseLaunchUserData', () => {
  it('reads back what launchUserData wrote, nonce bytes compared with an independent hex decode', () => {
    const nonce = new Uint8Array(Buffer.from('00ff'.repeat(16), 'hex'));
    const ud = launchUserData('20261126-014000-a1b2c3', nonce);
    // Independent decode: the base64 is plain JSON that python-style tooling would read.
    expect(JSON.parse(Buffer.from(ud, 'base64').toString('utf8')).aicert_launch.nonce).toBe('00ff'.repeat(16));
    const r = parseLaunchUserData(ud);
    expect(r.runId).toBe('20261126-014000-a1b2c3');
    expect(Buffer.from(r.nonce).toString('hex')).toBe('00ff'.repeat(16));
  });

  it.each([
    ['not base64', '!!!not base64!!!', 'userData'],
    ['base64 with junk dropped by lax decoders', b64(good).slice(0, 8) + '*' + b64(good).slice(8), 'userData'],
    ['not JSON', b64('{"aicert_launch":'), 'userData'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), 'userData'],
    ['JSON null', b64('null'), 'userData.aicert_launch'],
    ['an array', b64([1, 2]), 'userData.aicert_launch'],
    ['another document', b64({ other: 1 }), 'userData.aicert_launch'],
    ['version 2', b64({ aicert_launch: { ...good.aicert_launch, version: 2 } }), 'userData.aicert_launch.version'],
    ['version "1"', b64({ aicert_launch: { ...good.aicert_launch, version: '1' } }), 'userData.aicert_launch.version'],
    ['path traversal run id', b64({ aicert_launch: { ...good.aicert_launch, run_id: '../../etc' } }), 'userData.aicert_launch.run_id'],
    ['short nonce', b64({ aicert_launch: { ...good.aicert_launch, nonce: 'ab'.repeat(31) } }), 'userData.aicert_launch.nonce'],
    ['uppercase nonce', b64({ aicert_launch: { ...good.aicert_launch, nonce: 'AB'.repeat(32) } }), 'userData.aicert_launch.nonce'],
    ['numeric nonce', b64({ aicert_launch: { ...good.aicert_launch, nonce: 12 } }), 'userData.aicert_launch.nonce'],
  ])('rejects %s with the field path', (_n, input, path) => {
    expect(fieldOf(() => parseLaunchUserData(input))).toBe(path);
  });

  it('fuzz: random strings and random JSON give a result or MalformedInputError, nothing else', () => {
    const check = (s: string) => {
      try {
        const r = parseLaunchUserData(s);
        expect(r.nonce.length).toBe(32);
      } catch (e) {
        expect(e).toBeInstanceOf(MalformedInputError);
      }
    };
    fc.assert(fc.property(fc.string(), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.jsonValue(), (v) => check(b64(v))), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.record({ version: fc.jsonValue(), run_id: fc.jsonValue(), nonce: fc.jsonValue() }), (l) => check(b64({ aicert_launch: l }))),
      { numRuns: 2000 },
    );
  });
});
