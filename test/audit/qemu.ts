// QEMU-like sessions as raw records (see records.ts), for the real decoder.

import { RecordBuilder, type Call } from './records.js';

export const CFD = 3;
export const GFD = 4;
export const DFD = 5;

export class Session extends RecordBuilder {
  ctr(name: string, c: Call = {}): this {
    return this.call(CFD, '/dev/vfio/vfio', 'container', name, c);
  }
  grp(name: string, c: Call = {}): this {
    return this.call(GFD, this.groupPath, 'group', name, c);
  }
  dev(name: string, c: Call = {}): this {
    return this.call(DFD, 'anon_inode:[vfio-device]', 'device', name, c);
  }
  eeh(op: number, ret = 0): this {
    return this.ctr('VFIO_EEH_PE_OP', { in: { argsz: 40, flags: 0, op }, ret });
  }
  groupPath = '/dev/vfio/42';
}

export function type1Prefix(s = new Session()): Session {
  s.ctr('VFIO_GET_API_VERSION')
    .ctr('VFIO_CHECK_EXTENSION', { arg: 3, ret: 1 })
    .grp('VFIO_GROUP_GET_STATUS', { in: { argsz: 8, flags: 0 }, out: { flags: 1 } })
    .grp('VFIO_GROUP_SET_CONTAINER', { fdArg: CFD })
    .ctr('VFIO_SET_IOMMU', { arg: 3 })
    .ctr('VFIO_IOMMU_GET_INFO', { in: { argsz: 24 }, out: { argsz: 0x68, flags: 3, iova_pgsizes: 0xfffffffffffff000n, cap_offset: 0 } })
    .ctr('VFIO_IOMMU_GET_INFO', { in: { argsz: 0x68 }, out: { argsz: 0x68, flags: 3, iova_pgsizes: 0xfffffffffffff000n, cap_offset: 0 } })
    .grp('VFIO_GROUP_GET_DEVICE_FD', { str: '0000:06:0d.0', ret: DFD })
    .dev('VFIO_DEVICE_GET_INFO', { in: { argsz: 24 }, out: { flags: 3, num_regions: 9, num_irqs: 5 } });
  return s;
}

export function type1Session(): Session {
  const s = type1Prefix();
  for (const index of [0, 2, 7]) {
    s.dev('VFIO_DEVICE_GET_REGION_INFO', { in: { argsz: 32, index }, out: { flags: 7, size: 0x4000, offset: BigInt(index) << 40n } });
  }
  s.dev('VFIO_DEVICE_GET_IRQ_INFO', { in: { argsz: 16, index: 2 }, out: { flags: 9, count: 8 } })
    .dev('VFIO_DEVICE_SET_IRQS', { in: { argsz: 28, flags: 0x24, index: 2, start: 0, count: 2 }, data: [10, 11] })
    .ctr('VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0, size: 0x80000000 } })
    .ctr('VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f1000000000n, iova: 0x100000000n, size: 0x10000000 } })
    .ctr('VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova: 0, size: 0x80000000 }, out: { size: 0x80000000 } });
  return s;
}

export function spaprPrefix(s = new Session('ppc64le')): Session {
  s.groupPath = '/dev/vfio/1';
  s.ctr('VFIO_GET_API_VERSION')
    .ctr('VFIO_CHECK_EXTENSION', { arg: 7, ret: 1 })
    .grp('VFIO_GROUP_SET_CONTAINER', { fdArg: CFD })
    .ctr('VFIO_SET_IOMMU', { arg: 7 })
    .ctr('VFIO_CHECK_EXTENSION', { arg: 5, ret: 1 })
    .ctr('VFIO_IOMMU_SPAPR_TCE_GET_INFO', { in: { argsz: 32 }, out: { flags: 1, dma32_window_start: 0, dma32_window_size: 0x40000000 } })
    .ctr('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f0000000000n, size: 0x40000000 } })
    .ctr('VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0, size: 0x40000000 } })
    .grp('VFIO_GROUP_GET_DEVICE_FD', { str: '0001:00:01.0', ret: DFD });
  return s;
}

export function spaprSession(): Session {
  const s = spaprPrefix();
  s.eeh(1).eeh(4, 0).eeh(4, 2).eeh(6).eeh(4, 1).eeh(5).eeh(8).eeh(4, 0);
  s.dev('VFIO_DEVICE_GET_REGION_INFO', { in: { argsz: 32, index: 0 }, out: { flags: 7, size: 0x4000, offset: 0 } });
  return s;
}

/** Where PowerNV puts a second (64-bit) DMA window. */
export const DDW_START = 0x800000000000000n;

/** QEMU's pseries start: the default window asked for, RAM registered, a 64-bit window made. */
export function spaprDdwSession(): Session {
  const s = new Session('ppc64le');
  s.groupPath = '/dev/vfio/1';
  s.ctr('VFIO_GET_API_VERSION')
    .grp('VFIO_GROUP_SET_CONTAINER', { fdArg: CFD })
    .ctr('VFIO_SET_IOMMU', { arg: 7 })
    .ctr('VFIO_IOMMU_SPAPR_TCE_GET_INFO', {
      in: { argsz: 32 },
      out: { flags: 1, dma32_window_start: 0, dma32_window_size: 0x80000000, 'ddw.pgsizes': 0x1011000, 'ddw.max_dynamic_windows_supported': 1, 'ddw.levels': 5 },
    })
    .ctr('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f0000000000n, size: 0x40000000 } })
    .ctr('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f8000000000n, size: 0x100000 } })
    // Refused: nothing registered.
    .ctr('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f9000000001n, size: 0x1000 }, ret: -22 })
    .ctr('VFIO_IOMMU_SPAPR_TCE_CREATE', { in: { argsz: 40, flags: 0, page_shift: 16, window_size: 0x40000000, levels: 1 }, out: { start_addr: DDW_START } });
  return s;
}
