import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readNum, readScalar } from '../../src/decode/scalars.js';

// R.U64 and R.S64 (a const enum in compile.ts).
type Reader = Parameters<typeof readNum>[1];
const U64 = 3 as Reader;
const S64 = 7 as Reader;

describe('64-bit fields read as numbers', () => {
  it('equal Number() of the bigint for every value, both byte orders (rounded alike above 2^53)', () => {
    const edge = [0n, 1n, 0xffffffffn, 0x100000000n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 64n) - 1n, 0x7fffffffffffffffn, 0x8000000000000000n];
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(...edge)), fc.boolean(), (v, le) => {
        const dv = new DataView(new ArrayBuffer(16));
        dv.setBigUint64(4, v, le);
        expect(readNum(dv, U64, 4, le)).toBe(Number(readScalar(dv, U64, 4, le)));
        expect(readNum(dv, S64, 4, le)).toBe(Number(readScalar(dv, S64, 4, le)));
      }),
      { numRuns: 2000 },
    );
  });
});
