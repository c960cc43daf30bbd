// Remembering what was made from a struct payload (its one-line text, its
// JSON) for payloads seen before.

import { Buffer } from 'node:buffer';
import type { CompiledStruct } from './compile.js';
import type { StructPayload } from './payload.js';
import { copyJoined, hashMix as mix, memoAwake, memoDozing, newMemoUse, type MemoUse } from './memoUse.js';

// Calls repeat byte for byte (polling GET_STATE, the same region and IRQ
// infos, the same SET_IRQS): remember the result for recent payloads, found
// by a hash of everything the walk reads — byte order, outcome, return
// value, argsz, limit and both sides' bytes — and confirmed by comparing them.
const MEMO_BYTES = 512;
const MEMO_ENTRIES = 4096;

export interface Slot<T> {
  le: boolean;
  ok: boolean;
  ret: number;
  argsz: number;
  limit: number;
  /** Copies (memoUse.ts copyJoined): the record's bytes are views pinning the whole read buffer. */
  entry: Uint8Array;
  exit: Uint8Array | null;
  value: T;
}

/** `n` bytes of `dv` from `base` into the hash, a 32-bit word at a time: a lookup that misses costs little. */
function hashView(h: number, dv: DataView, base: number, n: number): number {
  const n4 = n & ~3;
  let k = 0;
  for (; k < n4; k += 4) h = mix(h, dv.getInt32(base + k, true));
  let t = 0;
  for (; k < n; k++) t = (t << 8) | dv.getUint8(base + k);
  return mix(mix(h, t), n);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  // Longer runs: one native memcmp beats the loop.
  if (n > 24) return Buffer.compare(a, b) === 0;
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** One struct's remembered payloads, and whether they pay (memoUse.ts). */
export interface PayloadSlots<T> {
  slots: Map<number, Slot<T>>;
  use: MemoUse;
}

/**
 * What `make` gives for this payload, remembered for payloads seen before
 * (`store` is the caller's, one per kind of result). `make` must depend on
 * nothing but the payload and `ok`.
 */
export function memoPayload<T>(store: WeakMap<CompiledStruct, PayloadSlots<T>>, pl: StructPayload, ok: boolean, make: (pl: StructPayload, ok: boolean) => T): T {
  const ex = pl.exit;
  if (pl.entry.length + (ex?.length ?? 0) > MEMO_BYTES) return make(pl, ok);
  let ps = store.get(pl.cs);
  if (ps === undefined) {
    ps = { slots: new Map(), use: newMemoUse() };
    store.set(pl.cs, ps);
  }
  if (memoDozing(ps.use)) return make(pl, ok);
  const m = ps.slots;
  let h = mix(0x2f0b3c1d, pl.ret);
  h = mix(h, pl.argsz);
  h = mix(h, pl.limit + (pl.le ? 0x40000000 : 0) + (ok ? 0x20000000 : 0));
  h = hashView(h, pl.dv, pl.base, pl.entry.length);
  h = ex === null ? mix(h, 0x5bd1e995) : hashView(h, pl.dvExit as DataView, pl.baseExit, ex.length);
  // Final avalanche (fmix32): a sleeping memo files hashes by their low bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  if (!memoAwake(ps.use, ps.slots, h)) return make(pl, ok);
  const s = m.get(h);
  if (
    s !== undefined && s.le === pl.le && s.ok === ok && s.ret === pl.ret && s.argsz === pl.argsz && s.limit === pl.limit &&
    sameBytes(s.entry, pl.entry) && (ex === null ? s.exit === null : s.exit !== null && sameBytes(s.exit, ex))
  ) {
    ps.use.hits++;
    return s.value;
  }
  const value = make(pl, ok);
  if (m.size >= MEMO_ENTRIES) m.clear();
  const bytes = copyJoined(pl.entry, ex);
  const n = pl.entry.length;
  m.set(h, { le: pl.le, ok, ret: pl.ret, argsz: pl.argsz, limit: pl.limit, entry: bytes.subarray(0, n), exit: ex === null ? null : bytes.subarray(n), value });
  return value;
}

/** A memo store for memoPayload. */
export function payloadMemo<T>(): WeakMap<CompiledStruct, PayloadSlots<T>> {
  return new WeakMap();
}
