// The sPAPR TCE backend (VFIO_SET_IOMMU 2 = v1, 7 = v2) of a POWER host:
// DMA windows, preregistered memory (v2), TCE map/unmap, with the kernel's
// checks in the kernel's order. EEH lives in the container (it needs the PE).

import { DmaSpace } from '../model/dma.js';
import { fail } from './errno.js';
import { CallCtx, isVerdict } from './ctx.js';
import type { StructBuf } from './encode.js';
import { ret, type Verdict } from './types.js';
import { ioctlTable, type IoctlTable } from '../model/ioctlName.js';
import { VFIO_IOMMU_SPAPR_INFO_DDW } from '../../decoders/spapr.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from '../../decoders/type1.js';

/** IOMMU page sizes of a PHB3/PHB4: 4 KiB | 64 KiB | 16 MiB. */
export const SPAPR_PGSIZES = (1n << 12n) | (1n << 16n) | (1n << 24n);
/** The default 32-bit window the platform creates: [0, 2 GiB). */
export const DMA32_WINDOW_SIZE = 0x80000000n;
/** Where a second (64-bit) window starts on PowerNV: 1 << 59. */
export const DDW_START = 1n << 59n;
const MAX_WINDOWS = 2;
const MAX_LEVELS = 5;
/** The tracee's page size (the client runs on this host). */
const PAGE = 4096n;

/** The prologue of every sPAPR struct but MAP_DMA's: copy in, check argsz, and `flags` must be 0 (EINVAL). */
function argsNoFlags(c: CallCtx): StructBuf | Verdict {
  const a = c.args();
  return isVerdict(a) || a.num('flags') === 0 ? a : ret(fail('EINVAL'));
}

interface Window {
  start: bigint;
  size: bigint;
  pageShift: number;
}

/** A call the sPAPR backend answers. */
type SpaprCall = (s: Spapr, c: CallCtx) => Verdict;

/** A call only the v2 backend (VFIO_SPAPR_TCE_v2_IOMMU) has: v1 answers ENOTTY. */
const v2Only = (h: SpaprCall): SpaprCall => (s, c) => (s.v2 ? h(s, c) : ret(fail('ENOTTY')));
/** A call only the v1 backend has: v2 answers ENOTTY. */
const v1Only = (h: SpaprCall): SpaprCall => (s, c) => (s.v2 ? ret(fail('ENOTTY')) : h(s, c));

export class Spapr {
  /** The calls the backend answers (each version its own); any other is ENOTTY. */
  static readonly calls: IoctlTable<SpaprCall> = ioctlTable<SpaprCall>({
    VFIO_IOMMU_SPAPR_TCE_GET_INFO: (s, c) => s.getInfo(c),
    VFIO_IOMMU_MAP_DMA: (s, c) => s.map(c),
    VFIO_IOMMU_UNMAP_DMA: (s, c) => s.unmap(c),
    VFIO_IOMMU_ENABLE: v1Only((s) => {
      if (s.enabled) return ret(fail('EBUSY'));
      s.enabled = true;
      return ret(0);
    }),
    VFIO_IOMMU_DISABLE: v1Only((s) => {
      s.enabled = false;
      return ret(0);
    }),
    VFIO_IOMMU_SPAPR_REGISTER_MEMORY: v2Only((s, c) => s.register(c)),
    VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: v2Only((s, c) => s.unregister(c)),
    VFIO_IOMMU_SPAPR_TCE_CREATE: v2Only((s, c) => s.create(c)),
    VFIO_IOMMU_SPAPR_TCE_REMOVE: v2Only((s, c) => s.remove(c)),
  });

  /** v1: IOMMU_ENABLE; v2: any successful REGISTER_MEMORY. */
  enabled = false;
  readonly registered: { vaddr: bigint; size: bigint }[] = [];
  readonly windows: (Window | null)[] = [{ start: 0n, size: DMA32_WINDOW_SIZE, pageShift: 12 }, null];
  readonly tces = new DmaSpace();
  private seq = 0;

  constructor(readonly v2: boolean) {}

  handle(c: CallCtx): Verdict {
    const h = Spapr.calls.get(c.name);
    return h ? h(this, c) : ret(fail('ENOTTY'));
  }

  private getInfo(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    a.set('flags', this.v2 ? VFIO_IOMMU_SPAPR_INFO_DDW : 0)
      .set('dma32_window_start', 0)
      .set('dma32_window_size', DMA32_WINDOW_SIZE)
      .set('ddw.pgsizes', SPAPR_PGSIZES)
      .set('ddw.max_dynamic_windows_supported', MAX_WINDOWS - 1)
      .set('ddw.levels', MAX_LEVELS);
    // The ddw part is copied back only when argsz covers the whole struct.
    return c.reply(0, a, a.num('argsz') >= a.type.size ? a.type.size : c.desc.minsz);
  }

  private findWindow(iova: bigint): Window | null {
    return this.windows.find((w): w is Window => w !== null && iova >= w.start && iova < w.start + w.size) ?? null;
  }

  private map(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    if (a.num('flags') & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) return ret(fail('EINVAL'));
    if (!this.enabled) return ret(fail('EPERM'));
    const iova = a.get('iova');
    const size = a.get('size');
    const vaddr = a.get('vaddr');
    const w = this.findWindow(iova);
    if (!w) return ret(fail('ENXIO'));
    const pg = 1n << BigInt(w.pageShift);
    if ((size | vaddr | iova) & (pg - 1n) || size === 0n || iova + size > w.start + w.size) return ret(fail('EINVAL'));
    // v2 translates through preregistered memory only.
    if (this.v2 && !this.registered.some((r) => vaddr >= r.vaddr && vaddr + size <= r.vaddr + r.size)) return ret(fail('EINVAL'));
    // A TCE is simply replaced by a new one: no overlap error on sPAPR.
    this.tces.unmap(iova, size);
    this.tces.map({ iova, size, vaddr, flags: a.num('flags'), seq: this.seq++ });
    return ret(0);
  }

  private unmap(c: CallCtx): Verdict {
    const a = argsNoFlags(c);
    if (isVerdict(a)) return a;
    if (!this.enabled) return ret(fail('EPERM'));
    const iova = a.get('iova');
    const size = a.get('size');
    const w = this.findWindow(iova);
    if (!w) return ret(fail('ENXIO'));
    const pg = 1n << BigInt(w.pageShift);
    if ((size | iova) & (pg - 1n) || iova + size > w.start + w.size) return ret(fail('EINVAL'));
    this.tces.unmap(iova, size);
    // Unlike type1, nothing is written back.
    return ret(0);
  }

  private register(c: CallCtx): Verdict {
    const a = argsNoFlags(c);
    if (isVerdict(a)) return a;
    const vaddr = a.get('vaddr');
    const size = a.get('size');
    if ((vaddr | size) & (PAGE - 1n)) return ret(fail('EINVAL'));
    if (this.registered.some((r) => r.vaddr === vaddr && r.size === size)) return ret(fail('EBUSY'));
    if (this.registered.some((r) => vaddr < r.vaddr + r.size && r.vaddr < vaddr + size)) return ret(fail('EINVAL'));
    this.registered.push({ vaddr, size });
    this.enabled = true;
    return ret(0);
  }

  private unregister(c: CallCtx): Verdict {
    const a = argsNoFlags(c);
    if (isVerdict(a)) return a;
    const vaddr = a.get('vaddr');
    const size = a.get('size');
    if ((vaddr | size) & (PAGE - 1n)) return ret(fail('EINVAL'));
    const k = this.registered.findIndex((r) => r.vaddr === vaddr && r.size === size);
    if (k < 0) return ret(fail('ENOENT'));
    this.registered.splice(k, 1);
    return ret(0);
  }

  private create(c: CallCtx): Verdict {
    const a = argsNoFlags(c);
    if (isVerdict(a)) return a;
    const shift = a.num('page_shift');
    const levels = a.num('levels');
    const size = a.get('window_size');
    if (shift >= 64 || (SPAPR_PGSIZES & (1n << BigInt(shift))) === 0n) return ret(fail('EINVAL'));
    if (levels < 1 || levels > MAX_LEVELS) return ret(fail('EINVAL'));
    if (size === 0n || (size & (size - 1n)) !== 0n || size < 1n << BigInt(shift)) return ret(fail('EINVAL'));
    const num = this.windows.findIndex((w) => w === null);
    if (num < 0) return ret(fail('ENOSPC'));
    const start = num === 0 ? 0n : DDW_START;
    this.windows[num] = { start, size, pageShift: shift };
    a.set('start_addr', start);
    return c.reply(0, a, a.type.size);
  }

  private remove(c: CallCtx): Verdict {
    const a = argsNoFlags(c);
    if (isVerdict(a)) return a;
    const start = a.get('start_addr');
    const num = this.windows.findIndex((w) => w !== null && w.start === start);
    if (num < 0) return ret(fail('EINVAL'));
    const w = this.windows[num]!;
    this.tces.unmap(w.start, w.size);
    this.windows[num] = null;
    return ret(0);
  }
}
