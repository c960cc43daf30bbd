// Group fd (/dev/vfio/N, /dev/vfio/noiommu-N) ioctls.

import { flags, o, struct, u32 } from '../src/decode/dsl.js';
import { ioctl, retNewFd, vfio, family } from '../src/decode/ioctlDesc.js';
import { argszIn, named } from './common.js';

export const VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

export const vfio_group_status = struct('vfio_group_status', [
  argszIn,
  o('flags', u32, flags(named({ VFIO_GROUP_FLAGS_VIABLE, VFIO_GROUP_FLAGS_CONTAINER_SET }))),
]);

const F = 'group';

export const group = family({
  name: F,
  structs: [vfio_group_status],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_GROUP_GET_STATUS',
      nr: vfio(3),
      fdKinds: ['group'],
      arg: { kind: 'struct', type: vfio_group_status },
      writes: 'success',
      errnos: { ENODEV: 'the group is gone' },
    }),
    ioctl(F, {
      name: 'VFIO_GROUP_SET_CONTAINER',
      nr: vfio(4),
      fdKinds: ['group'],
      arg: { kind: 'fdptr' },
      errnos: {
        EBADF: 'the pointed-to fd is not open',
        EBADFD: 'the fd is neither a container nor an iommufd',
        EINVAL: 'the group already has a container',
        EPERM: 'noiommu group without CAP_SYS_RAWIO',
        EBUSY: 'the group\'s DMA ownership could not be claimed',
      },
    }),
    ioctl(F, {
      name: 'VFIO_GROUP_UNSET_CONTAINER',
      nr: vfio(5),
      fdKinds: ['group'],
      arg: { kind: 'none' },
      errnos: { EINVAL: 'no container set', EBUSY: 'device fds are still open' },
    }),
    ioctl(F, {
      name: 'VFIO_GROUP_GET_DEVICE_FD',
      nr: vfio(6),
      fdKinds: ['group'],
      arg: { kind: 'cstring' },
      ret: retNewFd('device', 'device'),
      errnos: {
        ENODEV: 'no device in the group matches the name',
        EINVAL: 'the group has no container or iommufd yet',
        EACCES: 'bad or missing VF token',
      },
    }),
  ],
});

