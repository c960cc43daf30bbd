// Linux errno values the emulated kernel returns (the same on every
// architecture vfiotrace emulates). Node's os.constants lacks EBADFD, so the
// table is spelled out; test/emulate checks it against <errno.h>.

export const E = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  EOVERFLOW: 75,
  EBADFD: 77,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
} as const;

export type ErrnoName = keyof typeof E;

/** The kernel's return value for a failure: -errno. */
export function fail(name: ErrnoName): number {
  return -E[name];
}

export function errnoName(value: number): ErrnoName | null {
  for (const [k, v] of Object.entries(E)) if (v === -value) return k as ErrnoName;
  return null;
}
