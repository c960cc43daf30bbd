// Container ioctls of the type1 IOMMU backend (VFIO_SET_IOMMU 1 or 3), also
// served by iommufd's VFIO compatibility layer.

import { au64, caps, flags, flex, hex, i, io, o, ptr, struct, u32, u64, u8, dec, ptrDisplay } from '../src/decode/dsl.js';
import { ioctl, vfio, family, type Backend } from '../src/decode/ioctlDesc.js';
import { argszIn, argszInOut, capHeaderField, named, vfio_info_cap_header } from './common.js';

const TYPE1: readonly Backend[] = ['type1'];

export const vfio_iova_range = struct('vfio_iova_range', [o('start', u64, hex), o('end', u64, hex)]);

export const vfio_iommu_type1_info_cap_iova_range = struct('vfio_iommu_type1_info_cap_iova_range', [
  capHeaderField,
  o('nr_iovas', u32),
  o('reserved', u32, hex),
  o('iova_ranges', flex(vfio_iova_range, 'nr_iovas')),
]);

export const vfio_iommu_type1_info_cap_migration = struct('vfio_iommu_type1_info_cap_migration', [
  capHeaderField,
  o('flags', u32, hex),
  o('pgsize_bitmap', u64, hex),
  o('max_dirty_bitmap_size', u64, dec),
]);

export const vfio_iommu_type1_info_dma_avail = struct('vfio_iommu_type1_info_dma_avail', [capHeaderField, o('avail', u32)]);

export const VFIO_IOMMU_INFO_PGSIZES = 1 << 0;
export const VFIO_IOMMU_INFO_CAPS = 1 << 1;

export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

export const vfio_iommu_type1_info = struct('vfio_iommu_type1_info', [
  argszInOut,
  o('flags', u32, flags(named({ VFIO_IOMMU_INFO_PGSIZES, VFIO_IOMMU_INFO_CAPS }))),
  o('iova_pgsizes', au64, hex),
  o('cap_offset', u32),
  o('pad', u32, hex),
  o('caps', caps('cap_offset', 'flags', VFIO_IOMMU_INFO_CAPS, vfio_info_cap_header, [
    [VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 'VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE', vfio_iommu_type1_info_cap_iova_range],
    [VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 'VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION', vfio_iommu_type1_info_cap_migration],
    [VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 'VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL', vfio_iommu_type1_info_dma_avail],
  ])),
]);

export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
export const VFIO_DMA_MAP_FLAG_VADDR = 1 << 2;
export const DMA_MAP_FLAGS = named({ VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_MAP_FLAG_VADDR });

export const vfio_iommu_type1_dma_map = struct('vfio_iommu_type1_dma_map', [
  argszIn,
  i('flags', u32, flags(DMA_MAP_FLAGS)),
  i('vaddr', u64, ptrDisplay),
  i('iova', u64, hex),
  i('size', u64, hex),
]);

export const vfio_bitmap = struct('vfio_bitmap', [
  i('pgsize', u64, hex),
  i('size', u64, dec),
  i('data', ptr('__u64 *')),
]);

export const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
export const VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
export const VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2;

export const vfio_iommu_type1_dma_unmap = struct('vfio_iommu_type1_dma_unmap', [
  argszIn,
  i('flags', u32, flags(named({ VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, VFIO_DMA_UNMAP_FLAG_ALL, VFIO_DMA_UNMAP_FLAG_VADDR }))),
  i('iova', u64, hex),
  // Rewritten on success with the number of bytes unmapped.
  io('size', u64, hex),
  i('data', flex(u8, 'argsz', (v) =>
    ((v.flags ?? 0) & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) !== 0 ? { type: vfio_bitmap, count: 1, single: true, ctype: 'struct vfio_bitmap' } : null,
  )),
]);

export const vfio_iommu_type1_dirty_bitmap_get = struct('vfio_iommu_type1_dirty_bitmap_get', [
  i('iova', u64, hex),
  i('size', u64, hex),
  i('bitmap', vfio_bitmap),
]);

export const VFIO_IOMMU_DIRTY_PAGES_FLAG_START = 1 << 0;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP = 1 << 1;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP = 1 << 2;

export const vfio_iommu_type1_dirty_bitmap = struct('vfio_iommu_type1_dirty_bitmap', [
  argszIn,
  i('flags', u32, flags(named({ VFIO_IOMMU_DIRTY_PAGES_FLAG_START, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP }))),
  i('data', flex(u8, 'argsz', (v) =>
    ((v.flags ?? 0) & VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) !== 0 ? { type: vfio_iommu_type1_dirty_bitmap_get, count: 1, single: true, ctype: 'struct vfio_iommu_type1_dirty_bitmap_get' } : null,
  )),
]);

const F = 'type1';

export const type1 = family({
  name: F,
  structs: [vfio_iommu_type1_info, vfio_iommu_type1_dirty_bitmap_get],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_IOMMU_GET_INFO',
      nr: vfio(12),
      fdKinds: ['container', 'iommufd'],
      backends: TYPE1,
      arg: { kind: 'struct', type: vfio_iommu_type1_info },
      minszEnd: 'iova_pgsizes',
      writes: 'success',
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_MAP_DMA',
      nr: vfio(13),
      fdKinds: ['container', 'iommufd'],
      backends: TYPE1,
      arg: { kind: 'struct', type: vfio_iommu_type1_dma_map },
      errnos: {
        EEXIST: 'the IOVA range overlaps an existing mapping',
        ENOSPC: 'dma_entry_limit reached',
        ENOENT: 'VADDR update of a range that is not mapped',
        EINVAL: 'argsz < 32, bad flags (need READ/WRITE or VADDR), or misaligned/wrapping/out-of-range IOVA',
      },
      check: (c) => {
        const f = c.in.flags ?? 0;
        const rw = (f & 3) !== 0;
        const va = (f & 4) !== 0;
        if (rw === va) c.add('map-dma-flags', 'warning', 'flags must have READ and/or WRITE, or VADDR alone (the kernel answers EINVAL)', 'flags');
      },
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_UNMAP_DMA',
      nr: vfio(14),
      fdKinds: ['container', 'iommufd'],
      backends: TYPE1,
      arg: { kind: 'struct', type: vfio_iommu_type1_dma_unmap },
      writes: 'success',
      errnos: { EINVAL: 'argsz < 24, DIRTY combined with ALL/VADDR, ALL with non-zero iova/size, or a bitmap argsz < 48' },
      check: (c) => {
        const f = c.in.flags ?? 0;
        if ((f & 1) !== 0 && c.argsz < 48) c.add('unmap-bitmap-argsz', 'error', 'GET_DIRTY_BITMAP needs argsz ≥ 48 (room for struct vfio_bitmap)', 'argsz');
      },
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_DIRTY_PAGES',
      nr: vfio(17),
      fdKinds: ['container'],
      backends: TYPE1,
      arg: { kind: 'struct', type: vfio_iommu_type1_dirty_bitmap },
      errnos: {
        EACCES: 'a v1 type1 container does not track dirty pages',
        EINVAL: 'not exactly one of START/STOP/GET_BITMAP, a GET_BITMAP argsz < 48, wrong pgsize, or tracking off',
      },
      check: (c) => {
        const f = (c.in.flags ?? 0) & 7;
        if (f !== 1 && f !== 2 && f !== 4) c.add('dirty-pages-flags', 'warning', 'exactly one of START, STOP, GET_BITMAP must be set', 'flags');
      },
    }),
  ],
});

