// The type1 IOMMU backend (VFIO_SET_IOMMU 1 or 3): IOMMU info with its
// capability chain, DMA map/unmap bookkeeping and dirty tracking, with the
// kernel's checks in the kernel's order.

import { vfio_bitmap, vfio_iommu_type1_dirty_bitmap_get } from '../../decoders/type1.js';
import { offsetOfEnd } from '../decode/dsl.js';
import { DmaSpace, type Mapping } from '../model/dma.js';
import { fail } from './errno.js';
import { CallCtx, capsReply, isVerdict } from './ctx.js';
import { flexElemSize } from './encode.js';
import type { Profile } from './profile.js';
import { ret, type Verdict } from './types.js';
import { ioctlTable, type IoctlTable } from '../model/ioctlName.js';
import {
  VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, VFIO_DMA_UNMAP_FLAG_VADDR, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, VFIO_IOMMU_INFO_CAPS, VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
} from '../../decoders/type1.js';

/** 4 KiB | 2 MiB | 1 GiB, as an x86 IOMMU with huge pages reports. */
export const PGSIZES = (1n << 12n) | (1n << 21n) | (1n << 30n);
const MIN_PAGE = 1n << 12n;
/** The kernel's default dma_entry_limit module parameter. */
const DMA_ENTRY_LIMIT = 65535;
/** DIRTY_BITMAP_BYTES(INT_MAX pages), the kernel's bound on one bitmap. */
const MAX_DIRTY_BITMAP_SIZE = 0x10000000n;
/** Usable IOVA: the IOMMU's address width minus the x86 MSI window (0xfee00000-0xfeefffff). */
export function type1IovaRanges(iovaBits: number): readonly (readonly [bigint, bigint])[] {
  return [
    [0n, 0xfedfffffn],
    [0xfef00000n, (1n << BigInt(iovaBits)) - 1n],
  ];
}

/** A call the type1 backend answers. */
type Type1Call = (t: Type1, c: CallCtx) => Verdict;

export class Type1 {
  /** The calls the backend answers; any other is ENOTTY. */
  static readonly calls: IoctlTable<Type1Call> = ioctlTable<Type1Call>({
    VFIO_IOMMU_GET_INFO: (t, c) => t.getInfo(c),
    VFIO_IOMMU_MAP_DMA: (t, c) => t.map(c),
    VFIO_IOMMU_UNMAP_DMA: (t, c) => t.unmap(c),
    VFIO_IOMMU_DIRTY_PAGES: (t, c) => t.dirty(c),
  });

  readonly dma = new DmaSpace();
  /** iovas whose vaddr was invalidated by UNMAP_DMA(VADDR) and await MAP_DMA(VADDR). */
  private readonly vaddrInvalid = new Set<bigint>();
  dirtyTracking = false;
  private seq = 0;

  private readonly ranges: readonly (readonly [bigint, bigint])[];

  constructor(
    readonly v2: boolean,
    private readonly profile: Pick<Profile, 'iovaBits' | 'kernel'>,
  ) {
    this.ranges = type1IovaRanges(profile.iovaBits);
  }

  handle(c: CallCtx): Verdict {
    const h = Type1.calls.get(c.name);
    return h ? h(this, c) : ret(fail('ENOTTY'));
  }

  private getInfo(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    // cap_offset is copied back only when the caller's argsz covers it.
    const capOffEnd = offsetOfEnd(a.type, 'cap_offset');
    const headLen = a.num('argsz') >= capOffEnd ? capOffEnd : c.desc.minsz;
    a.set('flags', VFIO_IOMMU_INFO_PGSIZES).set('iova_pgsizes', PGSIZES).set('cap_offset', 0);
    const ranges = c.capType(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    const iova = c.cap(
      VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
      Object.fromEntries([
        ['nr_iovas', this.ranges.length],
        ...this.ranges.flatMap(([s, e], k) => [
          [`iova_ranges[${k}].start`, s],
          [`iova_ranges[${k}].end`, e],
        ]),
      ]),
      ranges.size + this.ranges.length * flexElemSize(ranges, 'iova_ranges'),
    );
    const mig = c.cap(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, { flags: 0, pgsize_bitmap: MIN_PAGE, max_dirty_bitmap_size: MAX_DIRTY_BITMAP_SIZE });
    const avail = c.cap(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, { avail: DMA_ENTRY_LIMIT - this.dma.live.length });
    return c.reply(0, capsReply(a, [mig, avail, iova], VFIO_IOMMU_INFO_CAPS, headLen, this.profile.kernel !== '6.1'));
  }

  private map(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    const flags = a.num('flags');
    if (flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR)) return ret(fail('EINVAL'));
    const prot = flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
    const setVaddr = (flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0;
    if (setVaddr === (prot !== 0)) return ret(fail('EINVAL'));
    const iova = a.get('iova');
    const size = a.get('size');
    const vaddr = a.get('vaddr');
    if (size === 0n || ((size | iova | vaddr) & (MIN_PAGE - 1n)) !== 0n) return ret(fail('EINVAL'));
    const U64 = (1n << 64n) - 1n;
    if (iova + size - 1n > U64 || vaddr + size - 1n > U64) return ret(fail('EINVAL'));
    const hits = this.dma.overlapping(iova, size);
    if (setVaddr) {
      const m = hits[0];
      if (!m) return ret(fail('ENOENT'));
      if (!this.vaddrInvalid.has(m.iova) || m.iova !== iova || m.size !== size) return ret(fail('EINVAL'));
      this.vaddrInvalid.delete(m.iova);
      m.vaddr = vaddr;
      return ret(0);
    }
    if (hits.length > 0) return ret(fail('EEXIST'));
    if (this.dma.live.length >= DMA_ENTRY_LIMIT) return ret(fail('ENOSPC'));
    const end = iova + size - 1n;
    if (!this.ranges.some(([s, e]) => iova >= s && end <= e)) return ret(fail('EINVAL'));
    const m: Mapping = { iova, size, vaddr, flags, seq: this.seq++ };
    this.dma.map(m);
    return ret(0);
  }

  private unmap(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    const flags = a.num('flags');
    const DIRTY = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
    if (flags & ~(DIRTY | VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)) return ret(fail('EINVAL'));
    if (flags & DIRTY && flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)) return ret(fail('EINVAL'));
    // The dirty variant carries a struct vfio_bitmap after the fixed part.
    if (flags & DIRTY && (a.num('argsz') < c.desc.minsz + vfio_bitmap.size || !this.dirtyTracking)) return ret(fail('EINVAL'));
    const all = (flags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0;
    let iova = a.get('iova');
    let size = a.get('size');
    if (all) {
      if (iova !== 0n || size !== 0n) return ret(fail('EINVAL'));
      iova = 0n;
      size = 1n << 64n;
    } else {
      if (size === 0n || (size & (MIN_PAGE - 1n)) !== 0n || iova + size - 1n >= 1n << 64n) return ret(fail('EINVAL'));
      if ((iova & (MIN_PAGE - 1n)) !== 0n) return ret(fail('EINVAL'));
      if (this.v2) {
        // v2 never splits a mapping: both ends must fall on mapping boundaries.
        const first = this.dma.overlapping(iova, 1n)[0];
        if (first && first.iova !== iova) return ret(fail('EINVAL'));
        const last = this.dma.overlapping(iova + size - 1n, 1n)[0];
        if (last && last.iova + last.size !== iova + size) return ret(fail('EINVAL'));
      }
    }
    let unmapped = 0n;
    const hits = this.dma.overlapping(iova, size);
    for (const m of hits) {
      // v1 removes whole mappings that start inside the range.
      if (!this.v2 && m.iova < iova) continue;
      unmapped += m.size;
      if (flags & VFIO_DMA_UNMAP_FLAG_VADDR) this.vaddrInvalid.add(m.iova);
      else {
        this.dma.unmap(m.iova, m.size);
        this.vaddrInvalid.delete(m.iova);
      }
    }
    a.set('size', unmapped);
    return c.reply(0, a, c.desc.minsz);
  }

  private dirty(c: CallCtx): Verdict {
    if (!this.v2) return ret(fail('EACCES'));
    const a = c.args();
    if (isVerdict(a)) return a;
    const flags = a.num('flags');
    const START = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
    const STOP = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
    const GET = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
    if (flags & ~(START | STOP | GET) || ![START, STOP, GET].includes(flags)) return ret(fail('EINVAL'));
    if (flags === START) this.dirtyTracking = true;
    else if (flags === STOP) this.dirtyTracking = false;
    else {
      // GET_BITMAP: a range descriptor follows. No emulated page is ever
      // dirtied, so the caller's (zeroed) bitmap is left as it is.
      if (a.num('argsz') < c.desc.minsz + vfio_iommu_type1_dirty_bitmap_get.size || !this.dirtyTracking) return ret(fail('EINVAL'));
    }
    return ret(0);
  }
}
