// Device fd ioctls (group-path device fds and /dev/vfio/devices/vfioN cdevs):
// device/region/irq info with their capability chains, reset, graphics
// planes and ioeventfds. SET_IRQS, hot reset, DEVICE_FEATURE and the iommufd
// binding have their own files.

import { au64, caps, custom, enumOf, flags, flex, hex, i, o, rsv, s32, struct, u8, u16, u32, u64, union, dec, fdDisplay, type Display } from '../src/decode/dsl.js';
import { ioctl, retNewFd, vfio, withErrnoDefaults, family } from '../src/decode/ioctlDesc.js';
import { argszIn, argszInOut, capHeaderField, named, vfio_info_cap_header, DEVICE_FD_ERRNOS } from './common.js';

export const VFIO_DEVICE_FLAGS_RESET = 1 << 0;
export const VFIO_DEVICE_FLAGS_PCI = 1 << 1;
export const VFIO_DEVICE_FLAGS_PLATFORM = 1 << 2;
export const VFIO_DEVICE_FLAGS_AMBA = 1 << 3;
export const VFIO_DEVICE_FLAGS_CCW = 1 << 4;
export const VFIO_DEVICE_FLAGS_AP = 1 << 5;
export const VFIO_DEVICE_FLAGS_FSL_MC = 1 << 6;
export const VFIO_DEVICE_FLAGS_CAPS = 1 << 7;
export const VFIO_DEVICE_FLAGS_CDX = 1 << 8;

export const vfio_device_info_cap_pci_atomic_comp = struct('vfio_device_info_cap_pci_atomic_comp', [
  capHeaderField,
  o('flags', u32, flags([
    ['VFIO_PCI_ATOMIC_COMP32', 1 << 0],
    ['VFIO_PCI_ATOMIC_COMP64', 1 << 1],
    ['VFIO_PCI_ATOMIC_COMP128', 1 << 2],
  ])),
  o('reserved', u32, hex),
]);

// s390 zPCI capabilities (linux/vfio_zdev.h), ids 1–4.
export const vfio_device_info_cap_zpci_base = struct('vfio_device_info_cap_zpci_base', [
  capHeaderField,
  o('start_dma', u64, hex),
  o('end_dma', u64, hex),
  o('pchid', u16, hex),
  o('vfn', u16),
  o('fmb_length', u16),
  o('pft', u8, hex),
  o('gid', u8),
  o('fh', u32, hex),
]);

export const vfio_device_info_cap_zpci_group = struct('vfio_device_info_cap_zpci_group', [
  capHeaderField,
  o('dasm', u64, hex),
  o('msi_addr', u64, hex),
  o('flags', u64, flags([['VFIO_DEVICE_INFO_ZPCI_FLAG_REFRESH', 1]])),
  o('mui', u16),
  o('noi', u16),
  o('maxstbl', u16),
  o('version', u8),
  o('reserved', u8, hex),
  o('imaxstbl', u16),
]);

export const vfio_device_info_cap_zpci_util = struct('vfio_device_info_cap_zpci_util', [
  capHeaderField,
  o('size', u32),
  o('util_str', flex(u8, 'size')),
]);

export const vfio_device_info_cap_zpci_pfip = struct('vfio_device_info_cap_zpci_pfip', [
  capHeaderField,
  o('size', u32),
  o('pfip', flex(u8, 'size')),
]);

export const DEVICE_INFO_FLAGS = named({
  VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_PLATFORM, VFIO_DEVICE_FLAGS_AMBA, VFIO_DEVICE_FLAGS_CCW,
  VFIO_DEVICE_FLAGS_AP, VFIO_DEVICE_FLAGS_FSL_MC, VFIO_DEVICE_FLAGS_CAPS, VFIO_DEVICE_FLAGS_CDX,
});

export const vfio_device_info = struct('vfio_device_info', [
  argszInOut,
  o('flags', u32, flags(DEVICE_INFO_FLAGS)),
  o('num_regions', u32),
  o('num_irqs', u32),
  o('cap_offset', u32),
  o('pad', u32, hex),
  o('caps', caps('cap_offset', 'flags', VFIO_DEVICE_FLAGS_CAPS, vfio_info_cap_header, [
    [1, 'VFIO_DEVICE_INFO_CAP_ZPCI_BASE', vfio_device_info_cap_zpci_base],
    [2, 'VFIO_DEVICE_INFO_CAP_ZPCI_GROUP', vfio_device_info_cap_zpci_group],
    [3, 'VFIO_DEVICE_INFO_CAP_ZPCI_UTIL', vfio_device_info_cap_zpci_util],
    [4, 'VFIO_DEVICE_INFO_CAP_ZPCI_PFIP', vfio_device_info_cap_zpci_pfip],
    [5, 'VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP', vfio_device_info_cap_pci_atomic_comp],
  ])),
]);

export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR1_REGION_INDEX = 1;
export const VFIO_PCI_BAR2_REGION_INDEX = 2;
export const VFIO_PCI_BAR3_REGION_INDEX = 3;
export const VFIO_PCI_BAR4_REGION_INDEX = 4;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
export const VFIO_PCI_NUM_REGIONS = 9;

/** Region names in index order (0–8, so an index picks its name). */
export const PCI_REGION_NAMES: readonly string[] = named({
  VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_BAR1_REGION_INDEX, VFIO_PCI_BAR2_REGION_INDEX,
  VFIO_PCI_BAR3_REGION_INDEX, VFIO_PCI_BAR4_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX,
  VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX,
}).map(([n]) => n);

/** vfio-pci region index: 0–8 fixed, ≥ 9 device-specific (described by a TYPE cap). */
export const regionIndex: Display = custom((v) => {
  const n = Number(v);
  return PCI_REGION_NAMES[n] ?? `${n} /* device-specific */`;
});

export const vfio_region_sparse_mmap_area = struct('vfio_region_sparse_mmap_area', [o('offset', au64, hex), o('size', au64, hex)]);

export const vfio_region_info_cap_sparse_mmap = struct('vfio_region_info_cap_sparse_mmap', [
  capHeaderField,
  o('nr_areas', u32),
  o('reserved', u32, hex),
  o('areas', { kind: 'flex', elem: vfio_region_sparse_mmap_area, count: 'nr_areas', size: 0, align: 8 }),
]);

const VENDOR_TYPE = 0x80000000;
const regionType: Display = custom((v) => {
  const n = Number(v);
  if ((n & VENDOR_TYPE) !== 0) return `VFIO_REGION_TYPE_PCI_VENDOR_TYPE|0x${(n & 0xffff).toString(16).padStart(4, '0')}`;
  return ['0', 'VFIO_REGION_TYPE_GFX', 'VFIO_REGION_TYPE_CCW', 'VFIO_REGION_TYPE_MIGRATION_DEPRECATED'][n] ?? String(n);
});

// Subtype names live in a namespace per type (and per vendor for vendor types).
const SUBTYPES: Record<number, readonly string[]> = {
  [(VENDOR_TYPE | 0x8086) >>> 0]: ['', 'VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION', 'VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG', 'VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG'],
  [(VENDOR_TYPE | 0x10de) >>> 0]: ['', 'VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM'],
  [(VENDOR_TYPE | 0x1014) >>> 0]: ['', 'VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD'],
  1: ['', 'VFIO_REGION_SUBTYPE_GFX_EDID'],
  2: ['', 'VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD', 'VFIO_REGION_SUBTYPE_CCW_SCHIB', 'VFIO_REGION_SUBTYPE_CCW_CRW'],
  3: ['', 'VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED'],
};
const regionSubtype: Display = custom((v, vals) => {
  const n = Number(v);
  return SUBTYPES[(vals.type ?? 0) >>> 0]?.[n] || String(n);
});

export const vfio_region_info_cap_type = struct('vfio_region_info_cap_type', [
  capHeaderField,
  o('type', u32, regionType),
  o('subtype', u32, regionSubtype),
]);

export const vfio_region_info_cap_nvlink2_ssatgt = struct('vfio_region_info_cap_nvlink2_ssatgt', [capHeaderField, o('tgt', au64, hex)]);
export const vfio_region_info_cap_nvlink2_lnkspd = struct('vfio_region_info_cap_nvlink2_lnkspd', [
  capHeaderField,
  o('link_speed', u32),
  o('__pad', u32, hex),
]);

export const VFIO_REGION_INFO_FLAG_READ = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
export const VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
export const VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;

export const REGION_INFO_FLAGS = named({ VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_CAPS });

export const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
export const VFIO_REGION_INFO_CAP_TYPE = 2;
export const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
export const VFIO_REGION_INFO_CAP_NVLINK2_SSATGT = 4;
export const VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD = 5;

export const vfio_region_info = struct('vfio_region_info', [
  argszInOut,
  o('flags', u32, flags(REGION_INFO_FLAGS)),
  i('index', u32, regionIndex),
  o('cap_offset', u32),
  o('size', au64, hex),
  // Opaque: use it for pread/pwrite/mmap, never compute it.
  o('offset', au64, hex),
  o('caps', caps('cap_offset', 'flags', VFIO_REGION_INFO_FLAG_CAPS, vfio_info_cap_header, [
    [VFIO_REGION_INFO_CAP_SPARSE_MMAP, 'VFIO_REGION_INFO_CAP_SPARSE_MMAP', vfio_region_info_cap_sparse_mmap],
    [VFIO_REGION_INFO_CAP_TYPE, 'VFIO_REGION_INFO_CAP_TYPE', vfio_region_info_cap_type],
    // MSIX_MAPPABLE is a bare header.
    [VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 'VFIO_REGION_INFO_CAP_MSIX_MAPPABLE', vfio_info_cap_header],
    [VFIO_REGION_INFO_CAP_NVLINK2_SSATGT, 'VFIO_REGION_INFO_CAP_NVLINK2_SSATGT', vfio_region_info_cap_nvlink2_ssatgt],
    [VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD, 'VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD', vfio_region_info_cap_nvlink2_lnkspd],
  ])),
]);

export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;

export const IRQ_INDEXES = named({ VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX });
export const irqIndex = enumOf(IRQ_INDEXES);

export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
export const VFIO_IRQ_INFO_NORESIZE = 1 << 3;

export const vfio_irq_info = struct('vfio_irq_info', [
  argszIn,
  o('flags', u32, flags(named({ VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_NORESIZE }))),
  i('index', u32, irqIndex),
  o('count', u32),
]);

const GFX_DMABUF = 1 << 1;
const GFX_REGION = 1 << 2;

export const vfio_device_gfx_plane_info = struct('vfio_device_gfx_plane_info', [
  argszIn,
  i('flags', u32, flags([
    ['VFIO_GFX_PLANE_TYPE_PROBE', 1 << 0],
    ['VFIO_GFX_PLANE_TYPE_DMABUF', GFX_DMABUF],
    ['VFIO_GFX_PLANE_TYPE_REGION', GFX_REGION],
  ])),
  i('drm_plane_type', u32),
  o('drm_format', u32, hex),
  o('drm_format_mod', au64, hex),
  o('width', u32),
  o('height', u32),
  o('stride', u32),
  o('size', u32),
  o('x_pos', u32),
  o('y_pos', u32),
  o('x_hot', u32),
  o('y_hot', u32),
  o('', union('', [
    o('region_index', u32, { display: dec, when: (v) => ((v.flags ?? 0) & GFX_REGION) !== 0 }),
    o('dmabuf_id', u32, { display: dec, when: (v) => ((v.flags ?? 0) & GFX_REGION) === 0 }),
  ])),
  o('reserved', u32, hex),
]);

export const vfio_device_ioeventfd = struct('vfio_device_ioeventfd', [
  argszIn,
  i('flags', u32, flags([
    ['VFIO_DEVICE_IOEVENTFD_8', 1 << 0],
    ['VFIO_DEVICE_IOEVENTFD_16', 1 << 1],
    ['VFIO_DEVICE_IOEVENTFD_32', 1 << 2],
    ['VFIO_DEVICE_IOEVENTFD_64', 1 << 3],
  ])),
  i('offset', au64, hex),
  i('data', au64, hex),
  i('fd', s32, fdDisplay),
  rsv('reserved', u32),
]);

const RESUME = 'the device could not be runtime-resumed';
const F = 'device';
const DEV: ['device'] = ['device'];

export const device = family({
  name: F,
  structs: [vfio_device_info, vfio_region_info],
  ioctls: withErrnoDefaults(DEVICE_FD_ERRNOS, [
    ioctl(F, {
      name: 'VFIO_DEVICE_GET_INFO',
      nr: vfio(7),
      fdKinds: DEV,
      arg: { kind: 'struct', type: vfio_device_info },
      minszEnd: 'num_irqs',
      writes: 'success',
      errnos: { EINVAL: 'argsz < 16', EIO: RESUME },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_GET_REGION_INFO',
      nr: vfio(8),
      fdKinds: DEV,
      arg: { kind: 'struct', type: vfio_region_info },
      writes: 'success',
      errnos: { EINVAL: 'argsz < 32, a bad region index, or VGA asked when absent' },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_GET_IRQ_INFO',
      nr: vfio(9),
      fdKinds: DEV,
      arg: { kind: 'struct', type: vfio_irq_info },
      writes: 'success',
      errnos: { EINVAL: 'argsz < 16, index ≥ 5, or ERR asked on a non-PCIe device' },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_RESET',
      nr: vfio(11),
      fdKinds: DEV,
      arg: { kind: 'none' },
      errnos: { EINVAL: 'the device cannot be reset', EIO: RESUME },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_QUERY_GFX_PLANE',
      nr: vfio(14),
      fdKinds: DEV,
      arg: { kind: 'struct', type: vfio_device_gfx_plane_info },
      minszEnd: 'dmabuf_id',
      writes: 'success',
      errnos: { ENOTTY: 'the device has no graphics planes (mdev only)', EINVAL: 'argsz < 60 or bad flags' },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_GET_GFX_DMABUF',
      nr: vfio(15),
      fdKinds: DEV,
      arg: { kind: 'u32ptr', name: 'dmabuf_id', display: dec },
      ret: retNewFd('dmabuf', 'dma-buf'),
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_IOEVENTFD',
      nr: vfio(16),
      fdKinds: DEV,
      arg: { kind: 'struct', type: vfio_device_ioeventfd },
      minszEnd: 'fd',
      errnos: { EINVAL: 'argsz < 28, not exactly one size flag, or fd < -1' },
      check: (c) => {
        const sz = (c.in.flags ?? 0) & 0xf;
        if (sz !== 1 && sz !== 2 && sz !== 4 && sz !== 8) c.add('ioeventfd-size', 'error', 'exactly one VFIO_DEVICE_IOEVENTFD_<size> flag must be set', 'flags');
      },
    }),
  ]),
});

