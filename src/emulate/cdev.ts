// The device cdev (/dev/vfio/devices/vfioN): the modern path to the same
// vfio-pci device the group hands out. An open file of it does nothing
// until VFIO_DEVICE_BIND_IOMMUFD binds it to an iommufd; then it attaches to
// an IOAS or HWPT and takes every device ioctl. The file is the device's
// backing file bind-mounted at that path (sandbox.ts), so reads, writes and
// mmaps reach the same bytes as a group-path device fd.

import { CallCtx } from './ctx.js';
import type { Device } from './device.js';
import { locate } from './encode.js';
import { fail } from './errno.js';
import type { BoundDevice, IommufdCtx } from './iommufd.js';
import type { Profile } from './profile.js';
import { ret, type Verdict } from './types.js';
import { ioctlTable, type IoctlTable } from '../model/ioctlName.js';

/** The cdev of the `index`th function registered (vfio0, vfio1, …). */
export function cdevPath(index: number): string {
  return `/dev/vfio/devices/vfio${index}`;
}
export const IOMMUFD_PATH = '/dev/iommu';

/** Whether the emulated host has /dev/iommu and device cdevs: an x86 IOMMU on a kernel with both (6.6+). */
export function hasModernPath(p: Pick<Profile, 'iommu' | 'kernel'>): boolean {
  return p.iommu === 'type1' && p.kernel !== '6.1';
}

/** One open file of the cdev. */
export class CdevFile {
  bound: BoundDevice | null = null;
}

/** What the cdev needs of the rest of the machine. */
export interface CdevHost {
  /** The iommufd behind `pid`'s `fd`: null when fd is not open, 'other' when it is some other file. */
  iommufd(pid: number, fd: number): IommufdCtx | null | 'other';
  /** Whether the group is open (the legacy path then owns the device). */
  groupOpen(): boolean;
  /** Whether some other cdev file has the device bound. */
  boundElsewhere(file: CdevFile): boolean;
}

/** A call the cdev answers itself, on one open file of it. */
type CdevCall = (cdev: Cdev, file: CdevFile, c: CallCtx) => Verdict;
/** A call that needs the file bound: until then it grants nothing (EINVAL). */
const whenBound =
  (h: (cdev: Cdev, bound: BoundDevice, c: CallCtx) => Verdict): CdevCall =>
  (cdev, file, c) =>
    file.bound ? h(cdev, file.bound, c) : ret(fail('EINVAL'));

export class Cdev {
  /** The calls the cdev answers itself; any other is the device's, once the file is bound. */
  static readonly calls: IoctlTable<CdevCall> = ioctlTable<CdevCall>({
    VFIO_DEVICE_BIND_IOMMUFD: (cdev, file, c) => cdev.bind(file, c),
    VFIO_DEVICE_ATTACH_IOMMUFD_PT: whenBound((cdev, bound, c) => cdev.attach(bound, c)),
    VFIO_DEVICE_DETACH_IOMMUFD_PT: whenBound((_cdev, bound, c) => {
      const a = c.args();
      if (!('bytes' in a)) return a;
      if (a.num('flags') !== 0) return ret(fail('EINVAL'));
      bound.ctx.detach(bound);
      return ret(0);
    }),
  });

  constructor(
    private readonly device: Device,
    private readonly host: CdevHost,
  ) {}

  handle(file: CdevFile, c: CallCtx): Verdict {
    const own = Cdev.calls.get(c.name);
    if (own) return own(this, file, c);
    // Until bound, the file grants nothing.
    return file.bound ? this.device.handle(c, true) : ret(fail('EINVAL'));
  }

  private attach(bound: BoundDevice, c: CallCtx): Verdict {
    const a = c.args();
    if (!('bytes' in a)) return a;
    if (a.num('flags') !== 0) return ret(fail('EINVAL'));
    const hwpt = bound.ctx.attach(bound, a.num('pt_id'));
    if (hwpt < 0) return ret(hwpt);
    // Only pt_id is copied back: the HWPT actually attached.
    return this.writeField(c, a.set('pt_id', hwpt).bytes, 'pt_id');
  }

  private bind(file: CdevFile, c: CallCtx): Verdict {
    const a = c.args();
    if (!('bytes' in a)) return a;
    const iommufd = Number(BigInt.asIntN(32, a.get('iommufd')));
    if (a.num('flags') !== 0 || iommufd < 0) return ret(fail('EINVAL'));
    if (this.host.groupOpen()) return ret(fail('EBUSY'));
    if (file.bound) return ret(fail('EINVAL'));
    const ctx = this.host.iommufd(c.call.pid, iommufd);
    if (ctx === null) return ret(fail('EBADF'));
    if (ctx === 'other') return ret(fail('EBADFD'));
    // Only the group path may open a device more than once.
    if (this.host.boundElsewhere(file)) return ret(fail('EINVAL'));
    file.bound = ctx.bind();
    this.device.opened();
    return this.writeField(c, a.set('out_devid', file.bound.id).bytes, 'out_devid');
  }

  /** The unbind the kernel does when the file's last reference goes. */
  release(file: CdevFile): void {
    if (!file.bound) return;
    file.bound.ctx.unbind(file.bound);
    file.bound = null;
  }

  private writeField(c: CallCtx, bytes: Uint8Array, field: string): Verdict {
    const { offset, type } = locate(c.structType(), field);
    return ret(0, [{ addr: c.call.arg + BigInt(offset), bytes: bytes.slice(offset, offset + type.size) }]);
  }
}
