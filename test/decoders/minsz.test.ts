// minsz and sizes computed by the DSL against the numbers the kernel uses
// (docs/abi.md): offsets are never typed, so these are checks
// of the layout rules, not copies.

import { describe, expect, it } from 'vitest';
import { registry } from '../../decoders/index.js';
import { gccCheck, hasGcc, headerText, trixieHeaders, type HeaderSet } from './kheaders.js';
import { encodeIo } from '../../src/decode/encoding.js';
import { hostArch } from '../../src/trace/platform.js';

const MINSZ: Record<string, number> = {
  VFIO_IOMMU_GET_INFO: 16,
  VFIO_IOMMU_MAP_DMA: 32,
  VFIO_IOMMU_UNMAP_DMA: 24,
  VFIO_IOMMU_DIRTY_PAGES: 8,
  VFIO_IOMMU_SPAPR_TCE_GET_INFO: 16,
  VFIO_IOMMU_SPAPR_REGISTER_MEMORY: 24,
  VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: 24,
  VFIO_IOMMU_SPAPR_TCE_CREATE: 40,
  VFIO_IOMMU_SPAPR_TCE_REMOVE: 16,
  VFIO_EEH_PE_OP: 12,
  VFIO_GROUP_GET_STATUS: 8,
  VFIO_DEVICE_GET_INFO: 16,
  VFIO_DEVICE_GET_REGION_INFO: 32,
  VFIO_DEVICE_GET_IRQ_INFO: 16,
  VFIO_DEVICE_SET_IRQS: 20,
  VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: 12,
  VFIO_DEVICE_PCI_HOT_RESET: 12,
  VFIO_DEVICE_QUERY_GFX_PLANE: 60,
  VFIO_DEVICE_IOEVENTFD: 28,
  VFIO_DEVICE_FEATURE: 8,
  VFIO_DEVICE_BIND_IOMMUFD: 16,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: 12,
  VFIO_DEVICE_DETACH_IOMMUFD_PT: 8,
  VFIO_MIG_GET_PRECOPY_INFO: 24,
};

const SIZE: Record<string, number> = {
  vfio_eeh_pe_op: 40,
  vfio_iommu_type1_info: 24,
  vfio_iommu_spapr_tce_info: 32,
  vfio_iommu_spapr_tce_create: 40,
  vfio_device_gfx_plane_info: 64,
  vfio_device_ioeventfd: 32,
  vfio_device_bind_iommufd: 24,
  vfio_device_attach_iommufd_pt: 16,
  vfio_device_detach_iommufd_pt: 12,
  vfio_pci_dependent_device: 8,
  vfio_iommu_type1_info_cap_migration: 32,
  vfio_iommu_type1_info_dma_avail: 12,
  vfio_bitmap: 24,
  vfio_iommu_type1_dirty_bitmap_get: 40,
  vfio_device_feature_mig_state: 8,
  vfio_device_feature_dma_logging_control: 24,
  vfio_device_feature_dma_logging_report: 32,
};

describe('computed layouts', () => {
  const reg = registry();
  it('minsz of every VFIO struct ioctl', () => {
    for (const [name, minsz] of Object.entries(MINSZ)) {
      for (const d of reg.byName.get(name) ?? []) expect(d.minsz, name).toBe(minsz);
      expect(reg.byName.has(name), name).toBe(true);
    }
  });

  it('struct sizes', () => {
    for (const [name, size] of Object.entries(SIZE)) expect(reg.structs.get(name)?.size, name).toBe(size);
  });

});

const trixie = hasGcc() ? trixieHeaders() : { set: null, why: 'gcc missing' };

describe.skipIf(!trixie.set)(`completeness against Debian 13's headers${trixie.set ? '' : ` (skipped: ${trixie.why})`}`, () => {
  it('every ioctl they define is described, under that name and request number', () => {
    const reg = registry();
    const set = trixie.set as HeaderSet;
    const { text, includes } = headerText(set);
    const names = [...text.matchAll(/#define\s+((?:VFIO|IOMMU)_[A-Z0-9_]+)\s+_IO\((?:VFIO_TYPE|IOMMUFD_TYPE),/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(45);
    const lines = includes.map((h) => `#include <${h}>`);
    for (const name of new Set(names)) {
      const descs = reg.ioctls.filter((d) => d.name === name);
      expect(descs.length, `${name} has no description`).toBeGreaterThan(0);
      // One name, one number, whatever the backend.
      expect(new Set(descs.map((d) => d.nr)).size, name).toBe(1);
      // The host's own encoding of _IO() (POWER adds IOC_VOID).
      lines.push(`_Static_assert(${name} == ${encodeIo(hostArch(), descs[0]!.nr)}u, "${name}");`);
    }
    expect(gccCheck(lines.join('\n') + '\n', [set.include])).toBe('');
  });
});
