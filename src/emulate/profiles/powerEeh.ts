// power-eeh: a POWER (PowerNV-style) machine: sPAPR TCE v2 IOMMU with EEH, and
// one PCIe function modelled on a Mellanox ConnectX-4 (15b3:1013) with a
// 64-bit prefetchable BAR holding its MSI-X table.

import { DEFAULT_KERNEL, type Profile } from '../profile.js';

export const powerEeh: Profile = {
  name: 'power-eeh',
  description: 'sPAPR TCE v2 IOMMU with EEH; ConnectX-4-like PCIe function (15b3:1013) with MSI-X, INTx and FLR',
  iommu: 'spapr',
  eeh: true,
  iovaBits: 64,
  kernel: DEFAULT_KERNEL,
  address: '0000:01:00.0',
  group: 42,
  pci: {
    vendor: 0x15b3,
    device: 0x1013,
    subsystemVendor: 0x15b3,
    subsystem: 0x0003,
    classCode: 0x020000,
    revision: 0x00,
    bars: [{ index: 0, size: 0x2000000, kind: 'mem64', prefetchable: true, mmap: true }],
    msix: { vectors: 16, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 },
    msi: 0,
    rom: 0,
    intx: true,
    pcie: true,
    reset: true,
    hotResetWorks: true,
    config: null,
  },
};
