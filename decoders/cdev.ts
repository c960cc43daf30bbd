// Binding a cdev device fd (/dev/vfio/devices/vfioN) to an iommufd and
// attaching it to an IOAS/HWPT.

import { au64, flags, i, io, o, s32, struct, u32, dec, fdDisplay, ptrDisplay } from '../src/decode/dsl.js';
import { ioctl, vfio, family } from '../src/decode/ioctlDesc.js';
import { argszIn } from './common.js';

export const vfio_device_bind_iommufd = struct('vfio_device_bind_iommufd', [
  argszIn,
  i('flags', u32, flags([['VFIO_DEVICE_BIND_FLAG_TOKEN', 1 << 0]])),
  i('iommufd', s32, fdDisplay),
  o('out_devid', u32, dec),
  // Added with the VF token flag; points at a 16-byte UUID.
  i('token_uuid_ptr', au64, ptrDisplay),
]);

export const vfio_device_attach_iommufd_pt = struct('vfio_device_attach_iommufd_pt', [
  argszIn,
  i('flags', u32, flags([['VFIO_DEVICE_ATTACH_PASID', 1 << 0]])),
  // In: IOAS or HWPT id; out: the HWPT actually attached.
  io('pt_id', u32, dec),
  i('pasid', u32, dec),
]);

export const vfio_device_detach_iommufd_pt = struct('vfio_device_detach_iommufd_pt', [
  argszIn,
  i('flags', u32, flags([['VFIO_DEVICE_DETACH_PASID', 1 << 0]])),
  i('pasid', u32, dec),
]);

const F = 'cdev';

export const cdev = family({
  name: F,
  structs: [],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_DEVICE_BIND_IOMMUFD',
      nr: vfio(18),
      fdKinds: ['device'],
      arg: { kind: 'struct', type: vfio_device_bind_iommufd },
      minszEnd: 'out_devid',
      zeroTail: true,
      writes: 'success',
      errnos: {
        EINVAL: 'argsz < 16, unknown flags, iommufd < 0, this file already bound, the device already bound through another cdev file, or a group-path device fd',
        E2BIG: 'non-zero bytes beyond the struct the kernel knows (older kernels: a non-zero token_uuid_ptr)',
        EBUSY: 'the group is in use through the legacy container path',
        EBADF: 'iommufd is not an open fd',
        EBADFD: 'iommufd is an open fd of some other file, not /dev/iommu',
      },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
      nr: vfio(19),
      fdKinds: ['device'],
      arg: { kind: 'struct', type: vfio_device_attach_iommufd_pt },
      minszEnd: 'pt_id',
      writes: 'success',
      errnos: {
        EINVAL: 'argsz < 12, unknown flags, PASID with argsz < 16, or an unbound cdev',
        EOPNOTSUPP: 'PASID attach not supported by the driver',
        ENOTTY: 'a group-path device fd (reaches the driver)',
        EBUSY: 'a reset is in progress',
      },
    }),
    ioctl(F, {
      name: 'VFIO_DEVICE_DETACH_IOMMUFD_PT',
      nr: vfio(20),
      fdKinds: ['device'],
      arg: { kind: 'struct', type: vfio_device_detach_iommufd_pt },
      minszEnd: 'flags',
      errnos: { EINVAL: 'argsz < 8, unknown flags, PASID with argsz < 12, or an unbound cdev', ENOTTY: 'a group-path device fd' },
    }),
  ],
});
