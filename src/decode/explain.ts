// What an errno usually means for a VFIO/iommufd ioctl, when the ioctl's own
// description has nothing more specific.

const GENERIC: Readonly<Record<string, string>> = {
  EINVAL: 'invalid argument: argsz below minsz, unknown flags, or a bad field value',
  ENOTTY: 'not an ioctl of this fd kind, IOMMU backend or driver',
  EFAULT: 'the kernel could not read or write the argument (bad pointer or argsz past mapped memory)',
  EBADF: 'not an open file descriptor',
  EBADFD: 'the fd is not of the kind this call needs',
  EPERM: 'not permitted (wrong process, missing privilege, or not yet enabled)',
  EACCES: 'access denied (e.g. VF token, or v1 container)',
  EBUSY: 'busy: in use by another user or during a reset',
  ENODEV: 'no such device, or the device/group is gone',
  ENXIO: 'no such device or address (e.g. no group attached)',
  ENOMEM: 'out of memory',
  ENOSPC: 'no space: the buffer or a kernel limit is too small',
  ENOENT: 'no such object, mapping or IOVA',
  EEXIST: 'already exists (e.g. overlapping mapping)',
  EIO: 'I/O error (e.g. the device failed to resume, or EEH disabled)',
  E2BIG: 'non-zero bytes in a part of the struct the kernel does not understand',
  EOPNOTSUPP: 'the call is understood but a field value is not supported',
  EOVERFLOW: 'arithmetic overflow in the requested range',
  EMSGSIZE: 'the output array is too small; the needed count was written back',
  EINTR: 'interrupted by a signal',
  EAGAIN: 'try again',
  ERESTARTSYS: 'interrupted; restarted if the signal handler allows it',
};

export function genericErrnoMeaning(errno: string): string {
  return GENERIC[errno] ?? errno;
}
