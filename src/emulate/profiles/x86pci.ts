// x86-pci: a type1 IOMMU machine with one PCIe NIC function as vfio-pci shows
// QEMU's e1000e (an Intel 82574L, 8086:10d3) behind a pcie-root-port, with
// the host IOMMU properties of QEMU's intel-iommu (39 address bits). Every
// answer is held to recordings of the real kernel (test/realkernel/golden/).

import { DEFAULT_KERNEL, type Profile } from '../profile.js';

export const x86Pci: Profile = {
  name: 'x86-pci',
  description: 'type1 IOMMU (39-bit Intel IOMMU); Intel 82574L PCIe NIC (8086:10d3) as QEMU\'s e1000e, with MSI, MSI-X, INTx and FLR',
  iommu: 'type1',
  eeh: false,
  iovaBits: 39,
  kernel: DEFAULT_KERNEL,
  address: '0000:01:00.0',
  group: 42,
  pci: {
    vendor: 0x8086,
    device: 0x10d3,
    subsystemVendor: 0x8086,
    subsystem: 0xa01f,
    classCode: 0x020000,
    revision: 0x00,
    bars: [
      { index: 0, size: 0x20000, kind: 'mem32', prefetchable: false, mmap: true },
      { index: 1, size: 0x20000, kind: 'mem32', prefetchable: false, mmap: true },
      { index: 2, size: 0x20, kind: 'io', prefetchable: false, mmap: false },
      { index: 3, size: 0x4000, kind: 'mem32', prefetchable: false, mmap: true },
    ],
    msix: { vectors: 5, tableBar: 3, tableOffset: 0x0000, pbaBar: 3, pbaOffset: 0x2000 },
    msi: 1,
    rom: 0x40000,
    intx: true,
    pcie: true,
    reset: true,
    hotResetWorks: false,
    config: null,
  },
};
