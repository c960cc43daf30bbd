// Container ioctls of the sPAPR TCE backend (VFIO_SET_IOMMU 2 = v1, 7 = v2),
// which exists only on POWER. MAP/UNMAP reuse the type1 structs with
// narrower semantics.

import { flags, hex, i, o, rsv, struct, u32, u64, dec, ptrDisplay } from '../src/decode/dsl.js';
import { ioctl, vfio, family, type Backend } from '../src/decode/ioctlDesc.js';
import { argszIn, named } from './common.js';
import { vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_unmap } from './type1.js';

const BOTH: readonly Backend[] = ['spapr-v1', 'spapr-v2'];
const V1: readonly Backend[] = ['spapr-v1'];
const V2: readonly Backend[] = ['spapr-v2'];

export const vfio_iommu_spapr_tce_ddw_info = struct('vfio_iommu_spapr_tce_ddw_info', [
  o('pgsizes', u64, hex),
  o('max_dynamic_windows_supported', u32),
  o('levels', u32),
]);

export const VFIO_IOMMU_SPAPR_INFO_DDW = 1 << 0;

export const vfio_iommu_spapr_tce_info = struct('vfio_iommu_spapr_tce_info', [
  argszIn,
  o('flags', u32, flags(named({ VFIO_IOMMU_SPAPR_INFO_DDW }))),
  o('dma32_window_start', u32, hex),
  o('dma32_window_size', u32, hex),
  o('ddw', vfio_iommu_spapr_tce_ddw_info),
]);

export const vfio_iommu_spapr_register_memory = struct('vfio_iommu_spapr_register_memory', [
  argszIn,
  i('flags', u32, flags([])),
  i('vaddr', u64, ptrDisplay),
  i('size', u64, hex),
]);

export const vfio_iommu_spapr_tce_create = struct('vfio_iommu_spapr_tce_create', [
  argszIn,
  i('flags', u32, flags([])),
  i('page_shift', u32, dec),
  rsv('__resv1', u32),
  i('window_size', u64, hex),
  i('levels', u32, dec),
  rsv('__resv2', u32),
  o('start_addr', u64, hex),
]);

export const vfio_iommu_spapr_tce_remove = struct('vfio_iommu_spapr_tce_remove', [
  argszIn,
  i('flags', u32, flags([])),
  i('start_addr', u64, hex),
]);

const EPERM_MM = "the caller's mm is not the container's";
const F = 'spapr';

export const spapr = family({
  name: F,
  structs: [],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_IOMMU_SPAPR_TCE_GET_INFO',
      nr: vfio(12),
      fdKinds: ['container'],
      backends: BOTH,
      arg: { kind: 'struct', type: vfio_iommu_spapr_tce_info },
      minszEnd: 'dma32_window_size',
      writes: 'success',
      errnos: { ENXIO: 'no group in the container', EPERM: EPERM_MM },
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_MAP_DMA',
      nr: vfio(13),
      fdKinds: ['container'],
      backends: BOTH,
      arg: { kind: 'struct', type: vfio_iommu_type1_dma_map },
      errnos: { EPERM: `not enabled yet (v1: IOMMU_ENABLE; v2: REGISTER_MEMORY), or ${EPERM_MM}`, EINVAL: 'flags beyond READ|WRITE, or a bad range' },
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_UNMAP_DMA',
      nr: vfio(14),
      fdKinds: ['container'],
      backends: BOTH,
      // sPAPR does not write back the unmapped size.
      arg: { kind: 'struct', type: vfio_iommu_type1_dma_unmap },
      errnos: { EPERM: `not enabled yet, or ${EPERM_MM}`, EINVAL: 'flags must be 0 on sPAPR' },
      check: (c) => {
        if ((c.in.flags ?? 0) !== 0) c.add('spapr-unmap-flags', 'error', 'sPAPR UNMAP_DMA takes no flags (the kernel answers EINVAL)', 'flags');
      },
    }),
    ioctl(F, { name: 'VFIO_IOMMU_ENABLE', nr: vfio(15), fdKinds: ['container'], backends: V1, arg: { kind: 'none' }, errnos: { EPERM: EPERM_MM, EBUSY: 'already enabled' } }),
    ioctl(F, { name: 'VFIO_IOMMU_DISABLE', nr: vfio(16), fdKinds: ['container'], backends: V1, arg: { kind: 'none' }, errnos: { EPERM: EPERM_MM } }),
    ioctl(F, {
      name: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY',
      nr: vfio(17),
      fdKinds: ['container'],
      backends: V2,
      arg: { kind: 'struct', type: vfio_iommu_spapr_register_memory },
      errnos: { EINVAL: 'argsz < 24, flags != 0, or misaligned vaddr/size', EPERM: EPERM_MM },
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY',
      nr: vfio(18),
      fdKinds: ['container'],
      backends: V2,
      arg: { kind: 'struct', type: vfio_iommu_spapr_register_memory },
      errnos: { EINVAL: 'argsz < 24 or flags != 0', EPERM: EPERM_MM },
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
      nr: vfio(19),
      fdKinds: ['container'],
      backends: V2,
      arg: { kind: 'struct', type: vfio_iommu_spapr_tce_create },
      writes: 'success',
      errnos: { EINVAL: 'argsz < 40 or flags != 0', EPERM: EPERM_MM },
    }),
    ioctl(F, {
      name: 'VFIO_IOMMU_SPAPR_TCE_REMOVE',
      nr: vfio(20),
      fdKinds: ['container'],
      backends: V2,
      arg: { kind: 'struct', type: vfio_iommu_spapr_tce_remove },
      errnos: { EINVAL: 'argsz < 16 or flags != 0', EPERM: EPERM_MM },
    }),
  ],
});
