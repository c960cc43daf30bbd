// One PCI function of the emulated machine, alone in its IOMMU group: its
// PE, backing file, group (/dev/vfio/GROUP), device, device cdev
// (/dev/vfio/devices/vfioN) and the open files the kernel would count for
// them. What is shared between functions (containers, iommufd contexts)
// lives in kernel.ts.

import { BackingFile } from './backing.js';
import { Cdev, CdevFile, cdevPath, IOMMUFD_PATH } from './cdev.js';
import { CallCtx } from './ctx.js';
import { Device } from './device.js';
import { ProtectionDomain } from './eeh.js';
import type { EehRule } from './eehScript.js';
import { fail } from './errno.js';
import { anyHolds, OpenFileMap, type FileIdentity, type ProcessFiles } from './files.js';
import { Group, type FdLookup } from './group.js';
import type { IommufdCtx } from './iommufd.js';
import type { Profile } from './profile.js';
import { ret, type Verdict } from './types.js';
import { isIoctl } from '../model/ioctlName.js';

/** What a function needs of the machine around it. */
export interface MachineFiles {
  procs: ProcessFiles;
  identity: FileIdentity | null;
  /** The processes that may hold the machine's files. */
  pids: ReadonlySet<number>;
  lookup: Omit<FdLookup, 'deviceInUse'>;
  /** The iommufd behind a /dev/iommu fd (on machines that have one). */
  iommufd(pid: number, fd: number): IommufdCtx | null;
  signalEventfd?: ((pid: number, fd: number) => void) | undefined;
}

export class PciFunction {
  readonly pe: ProtectionDomain;
  readonly backing: BackingFile;
  readonly group: Group;
  readonly device: Device;
  readonly groupPath: string;
  readonly cdevPath: string;
  /** Opens of the group file (one at a time in the kernel: a new one means the old was closed). */
  private readonly groupFiles: OpenFileMap<object>;
  /** The group open file the container (or iommufd) was set through. */
  private attachedVia: object | null = null;
  private readonly cdevFiles: OpenFileMap<CdevFile>;
  private readonly cdev: Cdev;

  constructor(
    readonly profile: Profile,
    /** N of /dev/vfio/devices/vfioN: the order functions were registered in. */
    readonly index: number,
    eeh: readonly EehRule[],
    backingDir: string | undefined,
    private readonly m: MachineFiles,
  ) {
    this.pe = new ProtectionDomain(eeh);
    this.backing = new BackingFile(profile, backingDir);
    this.groupPath = `/dev/vfio/${profile.group}`;
    this.cdevPath = cdevPath(index);
    this.groupFiles = new OpenFileMap(this.groupPath, m.procs, m.identity);
    this.cdevFiles = new OpenFileMap(this.cdevPath, m.procs, m.identity);
    // A frozen PE answers all-ones on config space and BARs (see BackingFile.freeze).
    const syncMmio = (): void => (this.pe.mmioBlocked() ? this.backing.freeze() : this.backing.thaw());
    this.pe.onReset(() => this.backing.resetAsserted());
    this.pe.onChange(syncMmio);
    syncMmio();
    const lookup: FdLookup = { ...m.lookup, deviceInUse: () => this.deviceHeld() };
    this.group = new Group(profile.group, profile.address, this.backing.path, lookup, profile.kernel, this.pe);
    this.device = new Device(profile, this.backing, lookup, m.signalEventfd);
    this.cdev = new Cdev(this.device, {
      iommufd: (pid, fd) => {
        const path = m.procs.path(pid, fd);
        if (path === null) return null;
        return (path === IOMMUFD_PATH ? m.iommufd(pid, fd) : null) ?? 'other';
      },
      groupOpen: () => anyHolds(m.procs, m.pids, [this.groupPath]),
      // Open through the group path, or bound through another cdev file.
      boundElsewhere: (file) => this.group.bound !== null || this.cdevFiles.values().some((f) => f !== file && f.bound !== null),
    });
  }

  /**
   * Whether the device is open: a group-path device file held (an fd or a
   * mapping), or a cdev file bound (an unbound cdev opens nothing).
   */
  deviceHeld(): boolean {
    return anyHolds(this.m.procs, this.m.pids, [this.backing.path]) || this.cdevFiles.values().some((f) => f.bound !== null);
  }

  /** A group or group-path device ioctl; `group`: which of the two the fd is. */
  handle(call: CallCtx, isGroup: boolean): Verdict {
    const hadIommu = this.group.hasIommu();
    const v = isGroup ? this.group.handle(call) : this.device.handle(call);
    if (v.action === 'openat') this.device.opened();
    if (isGroup && !hadIommu && this.group.hasIommu()) this.attachedVia = this.groupFiles.get(call.call.pid, call.call.fd, () => ({}));
    return v;
  }

  /** A cdev ioctl (`call` null: a request no description knows). */
  handleCdev(call: CallCtx | null, pid: number, fd: number): Verdict {
    // Only BIND makes a file worth remembering: one never bound refuses the rest.
    const known = this.cdevFiles.peek(pid, fd) !== undefined || (call !== null && isIoctl(call.name, 'VFIO_DEVICE_BIND_IOMMUFD'));
    const file = known ? this.cdevFiles.get(pid, fd, () => new CdevFile()) : new CdevFile();
    // Until bound the file refuses everything, unknown requests too.
    return call ? this.cdev.handle(file, call) : ret(file.bound ? fail('ENOTTY') : fail('EINVAL'));
  }

  /**
   * The kernel's release of this function's files: a cdev file gone
   * unbinds; the device with no file left closes (interrupts off, config
   * reset) and leaves its iommufd; the group, once neither its attaching
   * open file nor a device file is held, leaves its container or iommufd.
   */
  release(): void {
    // A mapping of the cdev holds its file (and the bind) like an fd.
    const mapped = [...this.m.pids].some((pid) => this.m.procs.mapped(pid).includes(this.cdevPath));
    if (!mapped) for (const file of this.cdevFiles.sweep(this.m.pids)) this.cdev.release(file);
    const deviceHeld = this.deviceHeld();
    if (!deviceHeld) {
      this.device.closed();
      this.group.deviceClosed();
    }
    this.groupFiles.sweep(this.m.pids);
    // A container's device fds hold the group file; an iommufd's do not.
    const groupHeld = (deviceHeld && this.group.container !== null) || (this.attachedVia !== null && this.groupFiles.has(this.attachedVia));
    if (!groupHeld && this.group.hasIommu()) {
      this.attachedVia = null;
      this.group.container?.detach(this.group);
      this.group.container = null;
      this.group.iommufd = null;
    }
  }

  fork(parent: number, child: number): void {
    this.cdevFiles.fork(parent, child);
  }

  dispose(): void {
    this.groupFiles.dispose();
    this.cdevFiles.dispose();
    this.backing.dispose();
  }
}
