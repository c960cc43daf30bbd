// The VFIO type1 container ioctls answered on /dev/iommu itself: iommufd's
// compatibility mode, where a group is set to an iommufd instead of a
// container (VFIO_GROUP_SET_CONTAINER takes either fd) and the legacy calls
// act on the context's compat IOAS. Where iommufd differs from type1, the
// answers are iommufd's: no VADDR, no dirty bitmap, a DMA_AVAIL of U32_MAX,
// unmaps that must cover whole areas (type1 v1 asked: areas may be cut).

import { offsetOfEnd } from '../decode/dsl.js';
import { fail } from './errno.js';
import { CallCtx, capsReply, isVerdict } from './ctx.js';
import { flexElemSize, StructBuf } from './encode.js';
import type { Ioas } from './ioas.js';
import { ULONG_MAX } from './ioas.js';
import { ret, type Verdict } from './types.js';
import { ioctlTable, type IoctlTable } from '../model/ioctlName.js';
import {
  VFIO_API_VERSION, VFIO_DMA_CC_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL,
} from '../../decoders/container.js';
import {
  VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_UNMAP_FLAG_ALL, VFIO_IOMMU_INFO_CAPS, VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
} from '../../decoders/type1.js';

const PAGE = 4096n;
const U32_MAX = 0xffffffff;

/** The compat IOAS of a context, or ENODEV when no group was ever set to it. */
export interface CompatHost {
  compatIoas(): Ioas | null;
  /** Page sizes of the IOMMU behind an attached domain. */
  readonly pgsizes: bigint;
}

/** A VFIO container call on /dev/iommu; `arg`: the integer argument. */
type CompatCall = (host: CompatHost, c: CallCtx, arg: number) => Verdict;

/** The VFIO calls compatibility mode answers; any other is ENOTTY. */
export const VFIO_COMPAT_CALLS: IoctlTable<CompatCall> = ioctlTable<CompatCall>({
  VFIO_GET_API_VERSION: () => ret(VFIO_API_VERSION),
  VFIO_CHECK_EXTENSION: (host, _c, arg) => ret(checkExtension(host, arg)),
  VFIO_SET_IOMMU: (host, _c, arg) => {
    if (arg !== VFIO_TYPE1_IOMMU && arg !== VFIO_TYPE1v2_IOMMU) return ret(fail('EINVAL'));
    const ioas = host.compatIoas();
    if (!ioas) return ret(fail('ENODEV'));
    // type1 (v1) may unmap inside a mapping: iommufd gets there by giving up large pages.
    return ret(arg === VFIO_TYPE1_IOMMU ? ioas.setHugePages(false) : 0);
  },
  VFIO_IOMMU_GET_INFO: (host, c) => getInfo(host, c),
  VFIO_IOMMU_MAP_DMA: (host, c) => mapDma(host, c),
  VFIO_IOMMU_UNMAP_DMA: (host, c) => unmapDma(host, c),
});

export function handleVfioCompat(host: CompatHost, c: CallCtx): Verdict {
  const h = VFIO_COMPAT_CALLS.get(c.name);
  return h ? h(host, c, Number(BigInt.asIntN(32, c.call.arg))) : ret(fail('ENOTTY'));
}

function checkExtension(host: CompatHost, ext: number): number {
  switch (ext) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_UNMAP_ALL:
      return 1;
    case VFIO_DMA_CC_IOMMU:
      // Every emulated domain enforces cache coherency (an x86 IOMMU's snoop control).
      return host.compatIoas() ? 1 : fail('ENODEV');
    default:
      return 0;
  }
}

function getInfo(host: CompatHost, c: CallCtx): Verdict {
  const a = c.args(offsetOfEnd(c.structType(), 'iova_pgsizes'));
  if (isVerdict(a)) return a;
  const ioas = host.compatIoas();
  if (!ioas) return ret(fail('ENODEV'));
  // The domains' page sizes, sub-page sizes folded into PAGE_SIZE; all of them with no domain.
  const bitmap = ioas.domains.size > 0 ? host.pgsizes : ULONG_MAX;
  const pgsizes = (bitmap & ~(PAGE - 1n)) | (bitmap & (PAGE - 1n) ? PAGE : 0n);
  a.set('flags', VFIO_IOMMU_INFO_PGSIZES).set('iova_pgsizes', pgsizes > ioas.alignment() ? pgsizes : ioas.alignment()).set('cap_offset', 0);
  const ranges = ioas.iovaRanges();
  const rangeType = c.capType(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
  const iova = c.cap(
    VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
    Object.fromEntries([
      ['nr_iovas', ranges.length],
      ...ranges.flatMap((r, k) => [
        [`iova_ranges[${k}].start`, r.start],
        [`iova_ranges[${k}].end`, r.last],
      ]),
    ]),
    rangeType.size + ranges.length * flexElemSize(rangeType, 'iova_ranges'),
  );
  const avail = c.cap(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, { avail: U32_MAX });
  const headLen = Math.min(a.num('argsz'), a.type.size);
  const bytes = capsReply(a, [avail, iova], VFIO_IOMMU_INFO_CAPS, headLen);
  // iommufd always writes back the size all the caps need, room or not (type1 only when short).
  const total = a.type.size + avail.bytes.length + iova.bytes.length;
  new StructBuf(a.type, bytes, c.le).set('argsz', total);
  return c.reply(0, bytes);
}

function mapDma(host: CompatHost, c: CallCtx): Verdict {
  const a = c.args();
  if (isVerdict(a)) return a;
  if (a.num('flags') & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) return ret(fail('EINVAL'));
  const ioas = host.compatIoas();
  if (!ioas) return ret(fail('ENODEV'));
  const size = a.get('size');
  const vaddr = a.get('vaddr');
  if (size === 0n || size > ULONG_MAX - PAGE) return ret(fail('EINVAL'));
  if (vaddr + size > ULONG_MAX) return ret(fail('EOVERFLOW'));
  const at = ioas.map([{ vaddr, length: size }], a.get('iova'), a.num('flags'));
  return ret(typeof at === 'number' ? at : 0);
}

function unmapDma(host: CompatHost, c: CallCtx): Verdict {
  const a = c.args();
  if (isVerdict(a)) return a;
  const flags = a.num('flags');
  if (flags & ~VFIO_DMA_UNMAP_FLAG_ALL) return ret(fail('EINVAL'));
  const ioas = host.compatIoas();
  if (!ioas) return ret(fail('ENODEV'));
  let err = 0;
  let removed = 0n;
  if (flags & VFIO_DMA_UNMAP_FLAG_ALL) {
    if (a.get('iova') !== 0n || a.get('size') !== 0n) return ret(fail('EINVAL'));
    removed = ioas.unmap(0n, ULONG_MAX).removed;
  } else {
    const iova = a.get('iova');
    const size = a.get('size');
    if (size === 0n) err = fail('EINVAL');
    else if (iova + size - 1n > ULONG_MAX) err = fail('EOVERFLOW');
    else {
      // Without large pages (type1 v1) the areas are cut at both ends first.
      if (!ioas.hugePages) ioas.cut(iova, iova + size - 1n);
      const r = ioas.unmap(iova, iova + size - 1n);
      err = r.err;
      removed = r.removed;
    }
  }
  // The struct goes back with the bytes unmapped, failure or not.
  a.set('size', removed);
  return ret(err, [{ addr: c.call.arg, bytes: a.bytes.slice(0, c.desc.minsz) }]);
}
