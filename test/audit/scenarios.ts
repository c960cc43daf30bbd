// QEMU-like call sequences on the success path, as the kernel would answer
// them, built step by step so each rule test can add exactly one misuse.

import { Sim } from '../model/sim.js';

export const C = 3; // container fd
export const G = 4; // group fd
export const D = 5; // device fd

/** open container+group, attach, choose the backend (as QEMU's vfio_connect_container does). */
export function type1Setup(s = new Sim()): Sim {
  s.fd(C, '/dev/vfio/vfio', 'container').fd(G, '/dev/vfio/42', 'group');
  s.call(C, 'VFIO_GET_API_VERSION', { ret: 0 });
  s.call(C, 'VFIO_CHECK_EXTENSION', { arg: 3, ret: 1 });
  s.call(G, 'VFIO_GROUP_GET_STATUS', { in: { argsz: 8, flags: 0 }, out: { argsz: 8, flags: 1 } });
  s.call(G, 'VFIO_GROUP_SET_CONTAINER', { in: C });
  s.call(C, 'VFIO_SET_IOMMU', { arg: 3 });
  // First GET_INFO: the caps do not fit in 24 bytes, the kernel asks for 0x68; QEMU retries.
  s.call(C, 'VFIO_IOMMU_GET_INFO', {
    in: { argsz: 24, flags: 0, iova_pgsizes: 0, cap_offset: 0 },
    out: { argsz: 0x68, flags: 3, iova_pgsizes: 0xfffffffffffff000n, cap_offset: 0 },
  });
  s.call(C, 'VFIO_IOMMU_GET_INFO', {
    in: { argsz: 0x68, flags: 0, iova_pgsizes: 0, cap_offset: 0 },
    out: { argsz: 0x68, flags: 3, iova_pgsizes: 0xfffffffffffff000n, cap_offset: 24 },
  });
  return s;
}

export function getDevice(s: Sim): Sim {
  s.fd(D, 'anon_inode:[vfio-device]', 'device');
  s.call(G, 'VFIO_GROUP_GET_DEVICE_FD', { in: '0000:06:0d.0', ret: D, newFd: { fd: D, kind: 'device' } });
  s.call(D, 'VFIO_DEVICE_GET_INFO', {
    in: { argsz: 24, flags: 0, num_regions: 0, num_irqs: 0, cap_offset: 0 },
    out: { argsz: 24, flags: 3, num_regions: 9, num_irqs: 5, cap_offset: 0 },
  });
  return s;
}

export function type1Device(s: Sim): Sim {
  getDevice(s);
  for (const index of [0, 2, 7]) {
    s.call(D, 'VFIO_DEVICE_GET_REGION_INFO', {
      in: { argsz: 32, flags: 0, index, cap_offset: 0, size: 0, offset: 0 },
      out: { argsz: 32, flags: 7, index, cap_offset: 0, size: 0x4000, offset: BigInt(index) << 40n },
    });
  }
  s.call(D, 'VFIO_DEVICE_GET_IRQ_INFO', { in: { argsz: 16, flags: 0, index: 0, count: 0 }, out: { argsz: 16, flags: 7, index: 0, count: 1 } });
  s.call(D, 'VFIO_DEVICE_GET_IRQ_INFO', { in: { argsz: 16, flags: 0, index: 2, count: 0 }, out: { argsz: 16, flags: 9, index: 2, count: 8 } });
  s.call(D, 'VFIO_DEVICE_SET_IRQS', { in: { argsz: 28, flags: 0x24, index: 2, start: 0, count: 2, data: [10, 11] } });
  // Disable INTx: DATA_NONE|TRIGGER with count 0.
  s.call(D, 'VFIO_DEVICE_SET_IRQS', { in: { argsz: 20, flags: 0x21, index: 0, start: 0, count: 0, data: [] } });
  return s;
}

export function type1Dma(s: Sim): Sim {
  s.call(C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0, size: 0x80000000 } });
  s.call(C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f1000000000n, iova: 0x100000000n, size: 0x10000000 } });
  s.call(C, 'VFIO_IOMMU_UNMAP_DMA', {
    in: { argsz: 24, flags: 0, iova: 0, size: 0x80000000 },
    out: { argsz: 24, flags: 0, iova: 0, size: 0x80000000 },
  });
  return s;
}

export function cleanType1(): Sim {
  const s = type1Dma(type1Device(type1Setup()));
  s.exit();
  return s;
}

export function spaprSetup(s = new Sim()): Sim {
  s.fd(C, '/dev/vfio/vfio', 'container').fd(G, '/dev/vfio/1', 'group');
  s.call(C, 'VFIO_GET_API_VERSION', { ret: 0 });
  s.call(C, 'VFIO_CHECK_EXTENSION', { arg: 7, ret: 1 });
  s.call(G, 'VFIO_GROUP_SET_CONTAINER', { in: C });
  s.call(C, 'VFIO_SET_IOMMU', { arg: 7 });
  s.call(C, 'VFIO_CHECK_EXTENSION', { arg: 5, ret: 1 });
  s.call(C, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', {
    in: { argsz: 32, flags: 0 },
    out: { argsz: 32, flags: 1, dma32_window_start: 0, dma32_window_size: 0x40000000 },
  });
  s.call(C, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f0000000000n, size: 0x40000000 } });
  s.call(C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0, size: 0x40000000 } });
  getDevice(s);
  return s;
}

export function eeh(s: Sim, op: number, ret = 0): void {
  s.call(C, 'VFIO_EEH_PE_OP', { in: { argsz: 40, flags: 0, op }, ret });
}

/** The EEH recovery QEMU drives for a guest: enable, detect a freeze, reset, configure. */
export function spaprEehRecovery(s: Sim): Sim {
  eeh(s, 1); // ENABLE
  eeh(s, 4, 0); // GET_STATE: NORMAL
  eeh(s, 4, 2); // GET_STATE: STOPPED
  eeh(s, 6); // RESET_HOT
  eeh(s, 4, 1); // GET_STATE: RESET
  eeh(s, 5); // RESET_DEACTIVATE
  eeh(s, 8); // CONFIGURE
  eeh(s, 4, 0); // NORMAL again
  s.call(D, 'VFIO_DEVICE_GET_REGION_INFO', {
    in: { argsz: 32, flags: 0, index: 0, cap_offset: 0, size: 0, offset: 0 },
    out: { argsz: 32, flags: 7, index: 0, cap_offset: 0, size: 0x4000, offset: 0 },
  });
  return s;
}

export function cleanSpapr(): Sim {
  const s = spaprEehRecovery(spaprSetup());
  s.exit();
  return s;
}
