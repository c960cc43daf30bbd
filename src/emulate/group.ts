// The IOMMU group (/dev/vfio/GROUP): status, container attach/detach (a
// legacy container, or an iommufd in compatibility mode), and the device fd,
// which becomes a real open() of the device's backing file.

import { fail } from './errno.js';
import { CallCtx, isVerdict } from './ctx.js';
import type { Container } from './container.js';
import { ProtectionDomain } from './eeh.js';
import type { BoundDevice, IommufdCtx } from './iommufd.js';
import { DEFAULT_KERNEL, type KernelVersion } from './profile.js';
import { ret, type Verdict } from './types.js';
import { ioctlTable, type IoctlTable } from '../model/ioctlName.js';
import { VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE } from '../../decoders/group.js';

/** How the kernel model sees the target's other fds. */
export interface FdLookup {
  /** /proc/PID/fd/FD link target, or null if the fd is not open. */
  path(pid: number, fd: number): string | null;
  /** The container object behind a /dev/vfio/vfio fd (created on first use). */
  container(pid: number, fd: number): Container;
  /** Whether a session process holds the device file (an fd or a mapping). */
  deviceInUse(): boolean;
  /** The iommufd context behind a /dev/iommu fd (null: not one, or no iommufd on this kernel). */
  iommufd(pid: number, fd: number): IommufdCtx | null;
}

const O_RDWR = 0o2;
const O_CLOEXEC = 0o2000000;

/** A call the group answers. */
type GroupCall = (g: Group, c: CallCtx) => Verdict;

export class Group {
  /** The calls the group answers; any other is ENOTTY. */
  static readonly calls: IoctlTable<GroupCall> = ioctlTable<GroupCall>({
    VFIO_GROUP_GET_STATUS: (g, c) => g.status(c),
    VFIO_GROUP_SET_CONTAINER: (g, c) => g.setContainer(c),
    VFIO_GROUP_UNSET_CONTAINER: (g) => g.unsetContainer(),
    VFIO_GROUP_GET_DEVICE_FD: (g, c) => g.getDeviceFd(c),
  });

  container: Container | null = null;
  /** Set instead of a container: the iommufd whose compat IOAS the device attaches to. */
  iommufd: IommufdCtx | null = null;
  /** The device as bound to that iommufd while its file is open. */
  bound: BoundDevice | null = null;

  constructor(
    readonly id: number,
    readonly address: string,
    readonly backingPath: string,
    private readonly fds: FdLookup,
    private readonly kernel: KernelVersion = DEFAULT_KERNEL,
    /** The group's partitionable endpoint (EEH). */
    readonly pe: ProtectionDomain = new ProtectionDomain([]),
  ) {}

  handle(c: CallCtx): Verdict {
    const h = Group.calls.get(c.name);
    return h ? h(this, c) : ret(fail('ENOTTY'));
  }

  /** A container or an iommufd is set. */
  hasIommu(): boolean {
    return this.container !== null || this.iommufd !== null;
  }

  /** The device file went: it leaves the iommufd it was bound to. */
  deviceClosed(): void {
    if (this.bound) this.bound.ctx.unbind(this.bound);
    this.bound = null;
  }

  private status(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    a.set('flags', VFIO_GROUP_FLAGS_VIABLE | (this.hasIommu() ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0));
    return c.reply(0, a, c.desc.minsz);
  }

  private unsetContainer(): Verdict {
    if (!this.hasIommu()) return ret(fail('EINVAL'));
    // An iommufd is just let go: a device already open stays bound to it.
    if (this.iommufd) {
      this.iommufd = null;
      return ret(0);
    }
    if (this.fds.deviceInUse()) return ret(fail('EBUSY'));
    this.container!.detach(this);
    this.container = null;
    return ret(0);
  }

  private setContainer(c: CallCtx): Verdict {
    if (c.readable() < 4) return ret(fail('EFAULT'));
    const e = c.call.entry;
    const fd = new DataView(e.buffer, e.byteOffset, 4).getInt32(0, c.le);
    const path = fd < 0 ? null : this.fds.path(c.call.pid, fd);
    if (path === null) return ret(fail('EBADF'));
    if (this.hasIommu()) return ret(fail('EINVAL'));
    const iommufd = path === '/dev/vfio/vfio' ? null : this.fds.iommufd(c.call.pid, fd);
    if (iommufd) {
      iommufd.ensureCompatIoas();
      this.iommufd = iommufd;
      return ret(0);
    }
    // 6.1 (no iommufd) answers EINVAL for any other fd, 6.2+ EBADFD.
    if (path !== '/dev/vfio/vfio') return ret(fail(this.kernel === '6.1' ? 'EINVAL' : 'EBADFD'));
    const ct = this.fds.container(c.call.pid, fd);
    this.container = ct;
    ct.groups.add(this);
    return ret(0);
  }

  private getDeviceFd(c: CallCtx): Verdict {
    if (c.call.inFault !== null) return ret(fail('EFAULT'));
    const text = Buffer.from(c.call.entry).toString('latin1');
    const sp = text.indexOf(' ');
    const name = sp < 0 ? text : text.slice(0, sp);
    if (name !== this.address) return ret(fail('ENODEV'));
    // A VF token given to a function that is neither an SR-IOV PF nor a VF.
    if (sp >= 0 && /\bvf_token=/.test(text.slice(sp))) return ret(fail('EINVAL'));
    if (this.iommufd) {
      // The first open binds the device to the iommufd and attaches it to the compat IOAS.
      if (!this.bound) {
        const ioas = this.iommufd.compatIoas();
        if (!ioas) return ret(fail('ENODEV'));
        const bound = this.iommufd.bind();
        const err = this.iommufd.attach(bound, ioas.id);
        if (err < 0) {
          this.iommufd.unbind(bound);
          return ret(err);
        }
        this.bound = bound;
      }
    } else if (!this.container || this.container.iommuType === null) return ret(fail('EINVAL'));
    return { action: 'openat', path: this.backingPath, flags: O_RDWR | O_CLOEXEC };
  }
}
