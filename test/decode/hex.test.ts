// hexNum (src/decode/format.ts) builds "0x…" from digit codes in one step: it
// must equal the bigint's own hex for every value, at every digit count.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex32, hexNum } from '../../src/decode/format.js';

describe('hexNum', () => {
  it('equals the bigint hex for any exact double, and falls back to the bigint beyond', () => {
    const n53 = fc.oneof(fc.maxSafeNat(), fc.nat(0xffffffff), fc.nat(0xffff), fc.integer({ min: 0, max: 52 }).map((k) => 2 ** k), fc.integer({ min: 1, max: 53 }).map((k) => 2 ** k - 1));
    fc.assert(
      fc.property(n53, (n) => {
        expect(hexNum(BigInt(n), n)).toBe('0x' + BigInt(n).toString(16));
        if (n <= 0xffffffff) expect('0x' + hex32(n)).toBe(hexNum(BigInt(n), n));
      }),
      { numRuns: 2000 },
    );
    expect(hexNum(2n ** 64n - 1n, Number(2n ** 64n - 1n))).toBe('0xffffffffffffffff');
    expect(hexNum(-5n, -5)).toBe('-0x5');
  });
});
