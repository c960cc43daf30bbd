// PCI hot reset: which devices a reset of this one affects, and the reset
// itself with proof of ownership (group fds, or none for cdev users).

import { custom, flags, flex, hex, i, o, s32, struct, u16, u32, u8, union } from '../src/decode/dsl.js';
import { ioctl, vfio, family, withErrnoDefaults } from '../src/decode/ioctlDesc.js';
import { argszIn, DEVICE_FD_ERRNOS } from './common.js';

const FLAG_DEV_ID = 1 << 0;

const devid = custom((v) => {
  const n = Number(BigInt.asIntN(32, v));
  return n === 0 ? 'VFIO_PCI_DEVID_OWNED' : n === -1 ? 'VFIO_PCI_DEVID_NOT_OWNED' : String(n);
});

export const vfio_pci_dependent_device = struct('vfio_pci_dependent_device', [
  o('', union('', [
    // group_id in group mode; devid (iommufd device id) when the info says DEV_ID.
    o('group_id', u32, { when: (_v, c) => ((c.root.flags ?? 0) & FLAG_DEV_ID) === 0 }),
    o('devid', u32, { display: devid, when: (_v, c) => ((c.root.flags ?? 0) & FLAG_DEV_ID) !== 0 }),
  ])),
  o('segment', u16, hex),
  o('bus', u8, hex),
  o('devfn', u8, custom((v) => `0x${v.toString(16).padStart(2, '0')} /* ${Number(v) >> 3}.${Number(v) & 7} */`)),
]);

export const vfio_pci_hot_reset_info = struct('vfio_pci_hot_reset_info', [
  argszIn,
  o('flags', u32, flags([
    ['VFIO_PCI_HOT_RESET_FLAG_DEV_ID', FLAG_DEV_ID],
    ['VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED', 1 << 1],
  ])),
  // On ENOSPC the kernel still writes flags and count (the number needed), but no devices.
  o('count', u32),
  o('devices', flex(vfio_pci_dependent_device, 'count', (v, c) => (c.ret >= 0 ? { type: vfio_pci_dependent_device, count: v.count ?? 0 } : null))),
]);

export const vfio_pci_hot_reset = struct('vfio_pci_hot_reset', [
  argszIn,
  i('flags', u32, flags([])),
  i('count', u32),
  i('group_fds', flex(s32, 'count')),
]);


const F = 'hotreset';

export const hotreset = family({
  name: F,
  structs: [vfio_pci_hot_reset_info, vfio_pci_hot_reset],
  ioctls: withErrnoDefaults(DEVICE_FD_ERRNOS, [
    ioctl(F, {
      name: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
      nr: vfio(12),
      fdKinds: ['device'],
      arg: { kind: 'struct', type: vfio_pci_hot_reset_info },
      writes: { success: true, errnos: ['ENOSPC'] },
      errnos: {
        ENOSPC: 'the buffer is too small: count now says how many devices it needs room for',
        ENODEV: 'neither a slot nor a bus reset is possible',
        EPERM: 'an affected device has no IOMMU group',
      },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_PCI_HOT_RESET',
      nr: vfio(13),
      fdKinds: ['device'],
      arg: { kind: 'struct', type: vfio_pci_hot_reset },
      errnos: {
        EINVAL: 'argsz/flags bad, count 0 on a group-path device or non-zero on a cdev, too many fds, or ownership not proven',
        EBADF: 'a group_fds entry is not an open fd',
        EBUSY: 'lock contention with another reset',
      },
      check: (c) => {
        const n = c.in.count ?? 0;
        if (c.argsz >= 12 && n * 4 > c.argsz - 12) c.add('hot-reset-fds-short', 'error', `count ${n} needs argsz ≥ ${12 + 4 * n}, got ${c.argsz}`, 'count');
      },
    }),
  ]),
});
