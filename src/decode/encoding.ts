// ioctl request numbers per architecture. VFIO and iommufd use _IO(';', nr):
// no size, "no direction". The generic _IOC layout (x86, arm64, riscv) gives
// dir=0; powerpc has a 3-bit direction field at bit 29 with _IOC_NONE = 1,
// so every VFIO number there carries 0x20000000.

export const VFIO_TYPE = 0x3b; // ';'

export interface IoctlEncoding {
  /** Bits that _IO() sets besides type and nr. */
  none: number;
  /** Mask of the bits that must equal `none | type<<8` for a size-less ';' ioctl. */
  fixedMask: number;
}

const GENERIC: IoctlEncoding = { none: 0, fixedMask: 0xffffff00 };
const POWERPC: IoctlEncoding = { none: 0x20000000, fixedMask: 0xffffff00 };

export function isPowerpc(arch: string): boolean {
  return arch.startsWith('ppc') || arch.startsWith('powerpc');
}

export function encodingFor(arch: string): IoctlEncoding {
  return isPowerpc(arch) ? POWERPC : GENERIC;
}

/** The full request number of _IO(';', nr) on `arch`. */
export function encodeIo(arch: string, nr: number): number {
  return (encodingFor(arch).none | (VFIO_TYPE << 8) | (nr & 0xff)) >>> 0;
}

/**
 * The _IOC_NR of a request if it is _IO(';', nr) for this encoding, else -1.
 * The kernel takes `cmd` as unsigned int, so only the low 32 bits count.
 */
export function decodeIo(enc: IoctlEncoding, request: bigint | number): number {
  const cmd = typeof request === 'number' ? request >>> 0 : Number(BigInt.asUintN(32, request));
  if (((cmd & enc.fixedMask) >>> 0) !== ((enc.none | (VFIO_TYPE << 8)) >>> 0)) return -1;
  return cmd & 0xff;
}

/** Architectures whose layouts this decoder describes (LP64). */
export const SUPPORTED_ARCHES = ['x86_64', 'aarch64', 'ppc64le', 'ppc64', 'riscv64'] as const;

// The AUDIT_ARCH_* table lives with the other ABI facts of a recording.
export { AUDIT_ARCH } from '../trace/auditArch.js';
