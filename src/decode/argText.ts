// The arg register as strace shows a pointer: "0x…" (or NULL). Every call
// that passes a buffer prints one, so the common case — a record view whose
// bytes give the value exactly — is formatted from its two 32-bit words
// without making the register's BigInt.

import type { IoctlRecord } from '../trace/events.js';
import { argHighOf, argLowOf, IoctlRecordView } from '../trace/recordView.js';
import { hexNum, hexOf } from './format.js';

/** A register value as "0x…" without bigint formatting when it fits a double exactly. */
export function regHex(b: bigint): string {
  const n = Number(b);
  return n >= 0 && Number.isSafeInteger(n) ? hexNum(b, n) : hexOf(b);
}

/** The arg register's value when a view's bytes give it exactly as a double (below 2^53), else -1. */
function argExact(r: IoctlRecord): number {
  if (!(r instanceof IoctlRecordView) || !r.fromBytes) return -1;
  const hi = argHighOf(r);
  return hi >= 0 && hi < 0x200000 ? hi * 4294967296 + argLowOf(r) : -1;
}

/** regHex(r.arg). */
export function argHex(r: IoctlRecord): string {
  const n = argExact(r);
  // hexNum reads the bigint only for values that are not exact doubles.
  return n >= 0 ? hexNum(0n, n) : regHex(r.arg);
}

/** r.arg === 0n ? 'NULL' : regHex(r.arg). */
export function argPointer(r: IoctlRecord): string {
  const n = argExact(r);
  if (n >= 0) return n === 0 ? 'NULL' : hexNum(0n, n);
  return r.arg === 0n ? 'NULL' : regHex(r.arg);
}
