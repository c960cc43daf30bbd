// IOVA bookkeeping for one DMA address space (a type1/sPAPR container or an
// iommufd IOAS). Live mappings are kept sorted by IOVA so overlap queries are
// a binary search, which keeps the per-event cost flat on long traces.

export interface Mapping {
  iova: bigint;
  /** Length in bytes (> 0). The range is [iova, iova + size). */
  size: bigint;
  /** Process virtual address backing it (vaddr / user_va), when known. */
  vaddr: bigint | null;
  flags: number;
  /** seq of the MAP call that created it. */
  seq: number;
}

/** A MAP whose call failed: kept (bounded) so rules can say which failed call their premise rests on. */
export interface FailedMap extends Mapping {
  errno: string | null;
}

const FAILED_KEEP = 64;

export class DmaSpace {
  /** Sorted by iova, non-overlapping (the kernel refuses overlaps). */
  readonly live: Mapping[] = [];
  readonly failed: FailedMap[] = [];
  mappedBytes = 0n;

  /** Index of the first live mapping whose end lies above `iova`. */
  private firstEndingAfter(iova: bigint): number {
    let lo = 0;
    let hi = this.live.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.live[mid]!;
      if (m.iova + m.size <= iova) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Live mappings intersecting [iova, iova + size). */
  overlapping(iova: bigint, size: bigint): Mapping[] {
    const out: Mapping[] = [];
    if (size <= 0n) return out;
    const end = iova + size;
    for (let i = this.firstEndingAfter(iova); i < this.live.length; i++) {
      const m = this.live[i]!;
      if (m.iova >= end) break;
      out.push(m);
    }
    return out;
  }

  /** Failed MAP attempts that would have intersected [iova, iova + size). */
  failedOverlapping(iova: bigint, size: bigint): FailedMap[] {
    const end = iova + size;
    return this.failed.filter((m) => m.iova < end && iova < m.iova + m.size);
  }

  /** Records a mapping the kernel accepted. */
  map(m: Mapping): void {
    if (m.size <= 0n) return;
    const i = this.firstEndingAfter(m.iova);
    this.live.splice(i, 0, m);
    this.mappedBytes += m.size;
  }

  noteFailed(m: FailedMap): void {
    if (this.failed.length >= FAILED_KEEP) this.failed.shift();
    this.failed.push(m);
  }

  /**
   * Removes everything inside [iova, iova + size); returns bytes removed.
   * Mappings cut by the range keep their outside parts (iommufd splits areas;
   * type1 v2 would have refused, which the caller already saw as an error).
   */
  unmap(iova: bigint, size: bigint): bigint {
    if (size <= 0n) return 0n;
    const end = iova + size;
    let removed = 0n;
    const keep: Mapping[] = [];
    let i = this.firstEndingAfter(iova);
    const start = i;
    for (; i < this.live.length; i++) {
      const m = this.live[i]!;
      if (m.iova >= end) break;
      const mEnd = m.iova + m.size;
      if (m.iova < iova) keep.push({ ...m, size: iova - m.iova });
      if (mEnd > end) keep.push({ ...m, iova: end, size: mEnd - end, vaddr: m.vaddr === null ? null : m.vaddr + (end - m.iova) });
      const lo = m.iova > iova ? m.iova : iova;
      const hi = mEnd < end ? mEnd : end;
      removed += hi - lo;
    }
    this.live.splice(start, i - start, ...keep);
    this.mappedBytes -= removed;
    return removed;
  }

  unmapAll(): bigint {
    const removed = this.mappedBytes;
    this.live.length = 0;
    this.mappedBytes = 0n;
    return removed;
  }
}
