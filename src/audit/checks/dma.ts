// DMA mapping rules over the live IOVA map of each container and IOAS. Live
// means accepted by the kernel; failed MAPs are only cited in notes.

import type { DecodedIoctl } from '../../decode/types.js';
import { hasTceSemantics } from '../../model/backend.js';
import type { DmaSpace } from '../../model/dma.js';
import { inNumber, inValue } from '../../model/fields.js';
import type { EventContext } from '../../model/session.js';
import { ioctlSet, isIoctl } from '../../model/ioctlName.js';
import { IOMMU_IOAS_MAP_FIXED_IOVA } from '../../../decoders/iommufd.js';
import { VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_UNMAP_FLAG_ALL, VFIO_DMA_UNMAP_FLAG_VADDR } from '../../../decoders/type1.js';
import * as R from '../rules.js';
import type { Check, Reporter } from '../types.js';

const U64_MAX = (1n << 64n) - 1n;
/** The iommufd commands that change an IOAS's IOVA map. */
const IOAS_DMA = ioctlSet(['IOMMU_IOAS_MAP', 'IOMMU_IOAS_MAP_FILE', 'IOMMU_IOAS_UNMAP']);
/** VFIO_DMA_MAP_FLAG_VADDR and VFIO_DMA_UNMAP_FLAG_VADDR share the value: they update vaddr, not the IOVA map. */
const FLAG_VADDR = VFIO_DMA_MAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_VADDR;

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function range(iova: bigint, size: bigint): string {
  return `[${hex(iova)}, ${hex(iova + size)})`;
}

interface DmaOp {
  space: DmaSpace;
  kind: 'map' | 'unmap';
  iova: bigint;
  size: bigint;
  vaddr: bigint | null;
  /** Required alignment from the kernel's last answer, with the seq it came from. */
  align: { unit: bigint; seq: number; from: string } | null;
  where: string;
}

/** Lowest set bit of the page-size bitmap: type1's mapping unit. */
function minPage(bitmap: bigint): bigint {
  return bitmap & -bitmap;
}

function decodeOp(ev: DecodedIoctl, ctx: EventContext): DmaOp | null {
  const obj = ctx.obj;
  const name = ev.ioctl;
  if (obj.kind === 'container' && (isIoctl(name, 'VFIO_IOMMU_MAP_DMA') || isIoctl(name, 'VFIO_IOMMU_UNMAP_DMA'))) {
    // Overwriting or clearing TCEs is how the sPAPR backend works, not a misuse.
    if (hasTceSemantics(obj)) return null;
    const flags = inNumber(ev, 'flags') ?? 0;
    if (flags & FLAG_VADDR) return null;
    if (isIoctl(name, 'VFIO_IOMMU_UNMAP_DMA') && flags & VFIO_DMA_UNMAP_FLAG_ALL) return null;
    const iova = inValue(ev, 'iova');
    const size = inValue(ev, 'size');
    if (iova === undefined || size === undefined) return null;
    const pg = obj.pgsizes && obj.pgsizes.bitmap > 0n ? obj.pgsizes : null;
    return {
      space: obj.dma,
      kind: isIoctl(name, 'VFIO_IOMMU_MAP_DMA') ? 'map' : 'unmap',
      iova,
      size,
      vaddr: isIoctl(name, 'VFIO_IOMMU_MAP_DMA') ? (inValue(ev, 'vaddr') ?? null) : null,
      align: pg ? { unit: minPage(pg.bitmap), seq: pg.seq, from: 'VFIO_IOMMU_GET_INFO iova_pgsizes' } : null,
      where: `container fd ${obj.fd}`,
    };
  }
  if (obj.kind === 'iommufd' && IOAS_DMA.has(name)) {
    const id = inNumber(ev, 'ioas_id');
    const iova = inValue(ev, 'iova');
    const length = inValue(ev, 'length');
    if (id === undefined || iova === undefined || length === undefined) return null;
    const ioas = obj.ioas.get(id);
    if (!ioas) return null;
    const isMap = !isIoctl(name, 'IOMMU_IOAS_UNMAP');
    if (isMap && !((inNumber(ev, 'flags') ?? 0) & IOMMU_IOAS_MAP_FIXED_IOVA)) return null; // kernel picks the IOVA
    if (!isMap && iova === 0n && length === U64_MAX) return null; // unmap everything
    return {
      space: ioas.dma,
      kind: isMap ? 'map' : 'unmap',
      iova,
      size: length,
      vaddr: isIoctl(name, 'IOMMU_IOAS_MAP') ? (inValue(ev, 'user_va') ?? null) : null,
      align: ioas.iovaAlignment && ioas.iovaAlignment > 0n ? { unit: ioas.iovaAlignment, seq: ioas.seq, from: 'out_iova_alignment' } : null,
      where: `IOAS ${id} (iommufd fd ${obj.fd})`,
    };
  }
  return null;
}

export function dmaChecks(): Check {
  return {
    before(ev: DecodedIoctl, ctx: EventContext, r: Reporter): void {
      const op = decodeOp(ev, ctx);
      if (!op) return;
      const at = { seq: ev.seq, pid: ev.pid };
      if (op.align) {
        const u = op.align.unit;
        const bad: string[] = [];
        if (op.iova % u !== 0n) bad.push(`iova ${hex(op.iova)}`);
        if (op.size % u !== 0n) bad.push(`size ${hex(op.size)}`);
        if (op.vaddr !== null && op.vaddr % u !== 0n && op.where.startsWith('container')) bad.push(`vaddr ${hex(op.vaddr)}`);
        if (bad.length > 0) {
          r.report(
            R.DMA_UNALIGNED,
            at,
            [op.align.seq, ev.seq],
            `${ev.ioctl} on ${op.where}: ${bad.join(', ')} not a multiple of ${hex(u)} (${op.align.from} #${op.align.seq})`,
          );
        }
      }
      if (op.size <= 0n) return;
      if (op.kind === 'map') {
        const hits = op.space.overlapping(op.iova, op.size);
        if (hits.length > 0) {
          const first = hits[0]!;
          r.report(
            R.DMA_MAP_OVERLAP,
            at,
            [...hits.map((m) => m.seq), ev.seq],
            `${ev.ioctl} ${range(op.iova, op.size)} on ${op.where} overlaps the mapping ${range(first.iova, first.size)} from #${first.seq}` +
              (hits.length > 1 ? ` and ${hits.length - 1} more` : ''),
          );
        }
        return;
      }
      // Mappings made before a mid-session attach are unknown.
      if (!ctx.proc.midSession && op.space.overlapping(op.iova, op.size).length === 0) {
        const failed = op.space.failedOverlapping(op.iova, op.size);
        r.report(
          R.DMA_UNMAP_UNMAPPED,
          at,
          [...failed.map((m) => m.seq), ev.seq],
          `${ev.ioctl} ${range(op.iova, op.size)} on ${op.where}: no live mapping there`,
          { notes: failed.map((m) => `the MAP #${m.seq} of ${range(m.iova, m.size)} failed (${m.errno ?? 'error'}), so nothing was mapped`) },
        );
      }
    },
  };
}
