// Shared by the per-fd-kind call handlers: outcome of a call and DMA map bookkeeping.

import type { DecodedIoctl } from '../decode/types.js';
import type { DmaSpace } from './dma.js';
import { inNumber } from './fields.js';

/** One call's outcome as the model keeps it. */
export interface Attempt {
  seq: number;
  ok: boolean;
  /** errno name when the call failed. */
  errno: string | null;
}

export function attemptOf(ev: DecodedIoctl): Attempt {
  return { seq: ev.seq, ok: succeeded(ev), errno: ev.ret.errno };
}

/** The kernel accepted the call (a call that never returned did not). */
export function succeeded(ev: DecodedIoctl): boolean {
  return !ev.incomplete && ev.ret.value >= 0;
}

export function recordMap(
  dma: DmaSpace,
  ev: DecodedIoctl,
  iova: bigint | undefined,
  size: bigint | undefined,
  vaddr: bigint | null | undefined,
): void {
  if (iova === undefined || size === undefined) return;
  const m = { iova, size, vaddr: vaddr ?? null, flags: inNumber(ev, 'flags') ?? 0, seq: ev.seq };
  if (succeeded(ev)) dma.map(m);
  else dma.noteFailed({ ...m, errno: ev.ret.errno });
}
