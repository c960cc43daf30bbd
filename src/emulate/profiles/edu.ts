// edu: QEMU's educational PCI device (1234:11e8) as vfio-pci shows it on a
// q35 machine with intel-iommu: a conventional PCI function on the root bus
// with a 1 MiB register BAR, one MSI vector and INTx, no MSI-X, no PCIe
// capability and no reset method.

import { DEFAULT_KERNEL, type Profile } from '../profile.js';

export const edu: Profile = {
  name: 'edu',
  description: 'type1 IOMMU (39-bit Intel IOMMU); QEMU edu (1234:11e8), conventional PCI, MSI and INTx, no reset',
  iommu: 'type1',
  eeh: false,
  iovaBits: 39,
  kernel: DEFAULT_KERNEL,
  address: '0000:00:01.0',
  group: 1,
  pci: {
    vendor: 0x1234,
    device: 0x11e8,
    subsystemVendor: 0x1af4,
    subsystem: 0x1100,
    classCode: 0xff0000,
    revision: 0x10,
    bars: [{ index: 0, size: 0x100000, kind: 'mem32', prefetchable: false, mmap: true }],
    msix: null,
    msi: 1,
    rom: 0,
    intx: true,
    pcie: false,
    reset: false,
    hotResetWorks: true,
    config: null,
  },
};
