// Reading one scalar field out of a payload: which reader a C type needs,
// and reading it at an offset as a bigint (exact) or a number (fast path).

import type { Type } from './dsl.js';

export const enum R {
  U8,
  U16,
  U32,
  U64,
  S8,
  S16,
  S32,
  S64,
}

export function readerOf(t: Type): R | -1 {
  if (t.kind !== 'scalar') return -1;
  switch (t.base) {
    case '__u8':
      return R.U8;
    case '__u16':
      return R.U16;
    case '__u32':
      return R.U32;
    case '__u64':
      return R.U64;
    case '__s8':
      return R.S8;
    case '__s16':
      return R.S16;
    case '__s32':
      return R.S32;
    case '__s64':
      return R.S64;
  }
}

export function readScalar(dv: DataView, r: R, at: number, le: boolean): bigint {
  switch (r) {
    case R.U8:
      return BigInt(dv.getUint8(at));
    case R.U16:
      return BigInt(dv.getUint16(at, le));
    case R.U32:
      return BigInt(dv.getUint32(at, le));
    case R.U64:
      return dv.getBigUint64(at, le);
    case R.S8:
      return BigInt(dv.getInt8(at));
    case R.S16:
      return BigInt(dv.getInt16(at, le));
    case R.S32:
      return BigInt(dv.getInt32(at, le));
    case R.S64:
      return dv.getBigInt64(at, le);
  }
}

/** Reads a number-valued scalar (u64 above 2^53 loses precision; only used for control values). */
export function readNum(dv: DataView, r: R, at: number, le: boolean): number {
  switch (r) {
    case R.U8:
      return dv.getUint8(at);
    case R.U16:
      return dv.getUint16(at, le);
    case R.U32:
      return dv.getUint32(at, le);
    case R.U64:
      return dv.getUint32(le ? at + 4 : at, le) * 4294967296 + dv.getUint32(le ? at : at + 4, le);
    case R.S8:
      return dv.getInt8(at);
    case R.S16:
      return dv.getInt16(at, le);
    case R.S32:
      return dv.getInt32(at, le);
    case R.S64:
      return dv.getInt32(le ? at + 4 : at, le) * 4294967296 + dv.getUint32(le ? at : at + 4, le);
  }
}
// The 64-bit cases above: hi * 2^32 is exact and the sum is rounded once, so
// the result equals Number() of the bigint without allocating one.

// Small values recur constantly (flags, argsz, indexes, counts): share their
// bigints instead of allocating one per field.
const SMALL: bigint[] = Array.from({ length: 4096 }, (_, k) => BigInt(k));
export function big(n: number): bigint {
  return n >= 0 && n < 4096 ? (SMALL[n] as bigint) : BigInt(n);
}

export function bytesDiffer(a: Uint8Array, b: Uint8Array, at: number, n: number): boolean {
  if (at + n > a.length || at + n > b.length) return at < b.length && at < a.length;
  for (let k = at; k < at + n; k++) if (a[k] !== b[k]) return true;
  return false;
}
