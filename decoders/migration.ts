// The migration data fd (from MIG_DEVICE_STATE's data_fd): pre-copy sizes.

import { au64, dec, hex, io, o, struct, u32 } from '../src/decode/dsl.js';
import { ioctl, vfio, family } from '../src/decode/ioctlDesc.js';
import { argszIn } from './common.js';

export const vfio_precopy_info = struct('vfio_precopy_info', [
  argszIn,
  io('flags', u32, hex),
  o('initial_bytes', au64, dec),
  o('dirty_bytes', au64, dec),
]);

const F = 'migration';

export const migration = family({
  name: F,
  structs: [],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_MIG_GET_PRECOPY_INFO',
      nr: vfio(21),
      fdKinds: ['migration'],
      arg: { kind: 'struct', type: vfio_precopy_info },
      writes: 'success',
      errnos: { EINVAL: 'argsz < 24, or the device is not in PRE_COPY / PRE_COPY_P2P' },
    }),
  ],
});
