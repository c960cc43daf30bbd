// Remembering what was made from a struct payload (its one-line text, its
// JSON) for payloads seen before.

import type { CompiledStruct } from './compile.js';
import type { StructPayload } from './payload.js';
import { copyJoined, memoAwake, newMemoUse, type MemoUse } from './memoUse.js';

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

function hashBytes(h: number, b: Uint8Array): number {
  for (let k = 0; k < b.length; k++) h = Math.imul(h ^ (b[k] as number), 16777619);
  return Math.imul(h ^ b.length, 16777619);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
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
  const m = ps.slots;
  let h = Math.imul(2166136261 ^ pl.ret, 16777619);
  h = Math.imul(h ^ pl.argsz, 16777619);
  h = Math.imul(h ^ (pl.limit + (pl.le ? 0x40000000 : 0) + (ok ? 0x20000000 : 0)), 16777619);
  h = hashBytes(h, pl.entry);
  h = ex === null ? Math.imul(h ^ 0x5bd1e995, 16777619) : hashBytes(h, ex);
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
