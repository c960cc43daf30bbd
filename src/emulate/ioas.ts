// An iommufd IOAS (I/O address space): areas mapped into it, the IOVA ranges
// reserved by the domains in it (outside the IOMMU's aperture) and by the
// devices attached (the x86 MSI window), the ranges allowed for automatic
// IOVA allocation, and the alignment domains or disabled huge pages impose. Ranges are inclusive [start, last], as in
// the kernel's interval trees; errors are the kernel's, in its order.

import { DmaSpace, type Mapping } from '../model/dma.js';
import { fail } from './errno.js';

export const ULONG_MAX = (1n << 64n) - 1n;
const PAGE = 4096n;

export interface IovaRange {
  start: bigint;
  last: bigint;
}

/** An area to map: where its bytes come from and how long it is. */
/** What the IOMMU behind a domain can reach. */
export interface IommuGeometry {
  /** The last IOVA of the aperture (which starts at 0). */
  apertureEnd: bigint;
  /** The range an attached device reserves (the MSI window), or null. */
  msiWindow: IovaRange | null;
}

/** The geometry of an IOMMU whose usable ranges are `usable` (sorted): aperture to the last end, the gap reserved. */
export function geometryOf(usable: readonly (readonly [bigint, bigint])[]): IommuGeometry {
  const first = usable[0];
  const second = usable[1];
  return {
    apertureEnd: usable[usable.length - 1]![1],
    msiWindow: first && second ? { start: first[1] + 1n, last: second[0] - 1n } : null,
  };
}

export interface AreaSource {
  vaddr: bigint | null;
  length: bigint;
}

export class Ioas {
  readonly dma = new DmaSpace();
  /** Ranges automatic allocation may use (empty: everything not reserved). */
  allowed: IovaRange[] = [];
  hugePages = true;
  /** Domains (HWPTs) in this IOAS; each reserves what lies beyond the aperture. */
  readonly domains = new Set<object>();
  /** Devices attached through those domains; each reserves its MSI window. */
  private devices = 0;
  private seq = 0;

  constructor(
    readonly id: number,
    private readonly geometry: IommuGeometry,
  ) {}

  /** 1 with no domain and huge pages on (nothing is pinned yet); else the smallest IOMMU page. */
  alignment(): bigint {
    return this.domains.size > 0 || !this.hugePages ? PAGE : 1n;
  }

  /** Reserved IOVA, sorted: past the aperture while a domain exists, the MSI window while a device is attached. */
  reserved(): IovaRange[] {
    const out: IovaRange[] = [];
    const msi = this.geometry.msiWindow;
    if (this.devices > 0 && msi) out.push(msi);
    if (this.domains.size > 0 && this.geometry.apertureEnd < ULONG_MAX) out.push({ start: this.geometry.apertureEnd + 1n, last: ULONG_MAX });
    return out;
  }

  /** IOMMU_OPTION_HUGE_PAGES set to `on`: turning them off needs no area where a domain exists, and aligned areas. */
  setHugePages(on: boolean): number {
    if (on || !this.hugePages) {
      this.hugePages = on;
      return 0;
    }
    if (this.domains.size > 0 && this.dma.live.length > 0) return fail('EINVAL');
    if (this.dma.live.some((m) => m.iova % PAGE !== 0n || m.size % PAGE !== 0n)) return fail('EADDRINUSE');
    this.hugePages = false;
    return 0;
  }

  /** A device attached: its MSI window is reserved, refused while an area or allowed range lies there. */
  addDevice(): number {
    const msi = this.geometry.msiWindow;
    if (this.devices === 0 && msi && this.clashes(msi)) return fail('EADDRINUSE');
    this.devices++;
    return 0;
  }

  removeDevice(): void {
    if (this.devices > 0) this.devices--;
  }

  private clashes(r: IovaRange): boolean {
    return this.dma.overlapping(r.start, r.last - r.start + 1n).length > 0 || this.allowed.some((a) => a.start <= r.last && r.start <= a.last);
  }

  /** The holes of the reserved tree: what IOMMU_IOAS_IOVA_RANGES reports. */
  iovaRanges(): IovaRange[] {
    const out: IovaRange[] = [];
    let next = 0n;
    for (const r of this.reserved()) {
      if (r.start > next) out.push({ start: next, last: r.start - 1n });
      next = r.last + 1n;
    }
    if (next <= ULONG_MAX) out.push({ start: next, last: ULONG_MAX });
    return out;
  }

  /** A domain reserves what lies beyond the aperture and wants page-aligned areas: refused otherwise. */
  addDomain(d: object): number {
    if (this.domains.has(d)) return 0;
    const beyond = this.geometry.apertureEnd < ULONG_MAX ? { start: this.geometry.apertureEnd + 1n, last: ULONG_MAX } : null;
    if ((beyond && this.clashes(beyond)) || this.dma.live.some((m) => m.iova % PAGE !== 0n || m.size % PAGE !== 0n)) return fail('EADDRINUSE');
    this.domains.add(d);
    return 0;
  }

  removeDomain(d: object): void {
    this.domains.delete(d);
  }

  /** IOMMU_IOAS_ALLOW_IOVAS with ranges already checked non-empty and disjoint: none may be reserved. */
  allow(ranges: IovaRange[]): number {
    if (ranges.some((a) => this.reserved().some((r) => a.start <= r.last && r.start <= a.last))) return fail('EADDRINUSE');
    this.allowed = ranges;
    return 0;
  }

  /**
   * Maps `pieces` back to back at `iova` (fixed) or at an IOVA the kernel
   * picks (null). Returns the IOVA or a -errno. One area per piece: an unmap
   * must cover each one whole.
   */
  map(pieces: AreaSource[], iova: bigint | null, flags: number): bigint | number {
    const length = pieces.reduce((n, p) => n + p.length, 0n);
    const align = this.alignment();
    if (length === 0n || length % align !== 0n) return fail('EINVAL');
    const first = pieces[0]!;
    const pageOffset = (first.vaddr ?? 0n) % PAGE;
    // Every area keeps its address's offset in the page: it must suit the alignment.
    if (pieces.some((p) => ((p.vaddr ?? 0n) % PAGE) % align !== 0n)) return fail('EINVAL');
    let at: bigint;
    if (iova === null) {
      const got = this.allocIova(first.vaddr ?? 0n, length);
      if (typeof got === 'number') return got;
      at = got;
    } else {
      if (iova % align !== 0n) return fail('EINVAL');
      if (iova + length - 1n > ULONG_MAX) return fail('EOVERFLOW');
      const last = iova + length - 1n;
      if (this.reserved().some((r) => r.start <= last && iova <= r.last)) return fail('EINVAL');
      if (this.dma.overlapping(iova, length).length > 0) return fail('EEXIST');
      at = iova;
    }
    if (pageOffset % align !== 0n) return fail('EINVAL');
    let cur = at;
    for (const p of pieces) {
      const m: Mapping = { iova: cur, size: p.length, vaddr: p.vaddr, flags, seq: this.seq++ };
      this.dma.map(m);
      cur += p.length;
    }
    return at;
  }

  /**
   * The kernel's first fit: IOVA aligned to the smaller of the length
   * rounded up to a power of two and the user address's own alignment, the
   * page offset kept, never page 0 nor the last page.
   */
  private allocIova(uptr: bigint, length: bigint): bigint | number {
    if (length === 0n || length >= ULONG_MAX / 2n) return fail('EOVERFLOW');
    const pow2 = roundUpPow2(length);
    const align = uptr === 0n ? pow2 : min(pow2, lowestBit(uptr));
    if (align < this.alignment()) return fail('EINVAL');
    const pageOffset = uptr % PAGE;
    const spans = this.allowed.length ? this.allowed : [{ start: PAGE, last: ULONG_MAX - PAGE }];
    const used = [...this.reserved(), ...this.dma.live.map((m) => ({ start: m.iova, last: m.iova + m.size - 1n }))].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    for (const s of spans) {
      const lo0 = max(s.start, PAGE);
      const hi0 = min(s.last, ULONG_MAX - PAGE);
      if (lo0 > hi0) continue;
      for (const hole of holes(used, lo0, hi0)) {
        const start = alignUp(hole.start, align) | pageOffset;
        if (start >= hole.start && start <= hole.last && hole.last - start >= length - 1n) return start;
      }
    }
    return fail('ENOSPC');
  }

  /**
   * IOMMU_IOAS_UNMAP of [iova, last]: areas are removed in IOVA order; one
   * that sticks out of the range stops the walk with ENOENT (those before
   * it stay removed), as does a range with no area at all.
   */
  unmap(iova: bigint, last: bigint): { removed: bigint; err: number } {
    let removed = 0n;
    for (const m of this.dma.overlapping(iova, last - iova + 1n)) {
      if (m.iova < iova || m.iova + m.size - 1n > last) return { removed, err: fail('ENOENT') };
      this.dma.unmap(m.iova, m.size);
      removed += m.size;
    }
    return { removed, err: removed > 0n ? 0 : fail('ENOENT') };
  }

  /** Splits the areas straddling `start` or `last + 1` there, so an unmap can take part of them (iopt_cut_iova). */
  cut(start: bigint, last: bigint): void {
    for (const at of [start, last + 1n]) {
      const m = this.dma.overlapping(at, 1n)[0];
      if (!m || m.iova === at) continue;
      this.dma.unmap(m.iova, m.size);
      this.dma.map({ ...m, size: at - m.iova });
      this.dma.map({ ...m, iova: at, size: m.iova + m.size - at, vaddr: m.vaddr === null ? null : m.vaddr + (at - m.iova) });
    }
  }

  /** The areas covering [iova, iova + length) back to back, as pieces to map elsewhere (IOAS_COPY); null when not contiguous. */
  pieces(iova: bigint, length: bigint): AreaSource[] | null {
    const out: AreaSource[] = [];
    let cur = iova;
    const end = iova + length;
    for (const m of this.dma.overlapping(iova, length)) {
      if (m.iova > cur) return null;
      const hi = min(m.iova + m.size, end);
      out.push({ vaddr: m.vaddr === null ? null : m.vaddr + (cur - m.iova), length: hi - cur });
      cur = hi;
    }
    return cur === end ? out : null;
  }
}

function* holes(used: IovaRange[], lo: bigint, hi: bigint): Generator<IovaRange> {
  let next = lo;
  for (const u of used) {
    if (u.last < next) continue;
    if (u.start > hi) break;
    if (u.start > next) yield { start: next, last: u.start - 1n };
    next = u.last + 1n;
    if (next > hi) return;
  }
  if (next <= hi) yield { start: next, last: hi };
}

function roundUpPow2(v: bigint): bigint {
  let p = 1n;
  while (p < v) p <<= 1n;
  return p;
}

function lowestBit(v: bigint): bigint {
  return v & -v;
}

function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
