// The emulated VFIO kernel: one machine (a profile) with one IOMMU group
// holding one PCI function. `handle()` takes an ioctl stopped at entry and
// returns the verdict the tracer applies. fds are told apart by path, the
// same way the decoder does: /dev/vfio/vfio (a container per open file),
// /dev/vfio/GROUP, the device's backing file, and on kernels with iommufd
// /dev/iommu and the device cdev (an iommufd context and a cdev state per
// open file). What the kernel undoes
// when the last reference to a file goes is undone when an answer depends
// on it (`release`; files.ts says how it is seen).

import { families } from '../../decoders/index.js';
import type { FdKind } from '../decode/types.js';
import { BackingFile } from './backing.js';
import { Cdev, CdevFile, CDEV_PATH, hasModernPath, IOMMUFD_PATH } from './cdev.js';
import { Container } from './container.js';
import { CallCtx } from './ctx.js';
import { Device } from './device.js';
import { ProtectionDomain } from './eeh.js';
import type { EehRule } from './eehScript.js';
import { fail } from './errno.js';
import { anyHolds, OpenFileMap, procFiles, type FileIdentity, type ProcessFiles } from './files.js';
import { Group, type FdLookup } from './group.js';
import type { Profile } from './profile.js';
import { IommufdCtx, type MemReader } from './iommufd.js';
import { IoctlTable } from './table.js';
import { type1IovaRanges } from './type1.js';
import { ret, RUN, type EmuCall, type Verdict } from './types.js';

export interface KernelOptions {
  profile: Profile;
  eeh?: readonly EehRule[];
  /** Byte order of the traced ABI (default: little-endian). */
  littleEndian?: boolean;
  /** Directory for the device's backing file (default: a fresh one under /dev/shm). */
  backingDir?: string;
  /** Override how other fds of the target are looked up (tests). */
  fdPath?: (pid: number, fd: number) => string | null;
  /** Override how the target's open fds are listed (tests). */
  fdList?: (pid: number) => number[];
  /** How two fds are found to be the same open file (default: each (pid, fd) is its own). */
  identity?: FileIdentity;
  /** How an interrupt reaches the client: add 1 to its eventfd (default: nothing). */
  signalEventfd?: (pid: number, fd: number) => void;
  /** Reads the client's memory, for arguments that point further (default: unreadable). */
  readMemory?: MemReader;
}

let defaultTable: IoctlTable | null = null;
export function vfioIoctlTable(): IoctlTable {
  defaultTable ??= new IoctlTable(families.flatMap((f) => f.ioctls));
  return defaultTable;
}

export class EmulatedKernel {
  readonly profile: Profile;
  readonly pe: ProtectionDomain;
  readonly backing: BackingFile;
  readonly group: Group;
  readonly device: Device;
  private readonly containers: OpenFileMap<Container>;
  /** Opens of the group file (only one at a time in the kernel; a new one means the old was closed). */
  private readonly groupFiles: OpenFileMap<object>;
  /** The group open file the container was set through. */
  private attachedVia: object | null = null;
  /** iommufd contexts (one per open /dev/iommu) and cdev files, on kernels that have them. */
  private readonly iommufds: OpenFileMap<IommufdCtx>;
  private readonly cdevFiles: OpenFileMap<CdevFile>;
  private readonly cdev: Cdev;
  private readonly modern: boolean;
  private readonly newIommufd: () => IommufdCtx;
  private readonly le: boolean;
  private readonly table = vfioIoctlTable();
  private readonly procs: ProcessFiles;
  /** The processes that may hold the machine's files: every caller and its forked children. */
  private readonly pids = new Set<number>();
  /** Calls answered, by ioctl name (unknown numbers under their hex). */
  readonly counts = new Map<string, number>();

  constructor(o: KernelOptions) {
    this.profile = o.profile;
    this.le = o.littleEndian ?? true;
    this.pe = new ProtectionDomain(o.eeh ?? []);
    this.backing = new BackingFile(o.profile, o.backingDir);
    this.procs = { path: o.fdPath ?? procFiles.path, fds: o.fdList ?? procFiles.fds, mapped: procFiles.mapped };
    this.containers = new OpenFileMap('/dev/vfio/vfio', this.procs, o.identity ?? null);
    this.groupFiles = new OpenFileMap(`/dev/vfio/${o.profile.group}`, this.procs, o.identity ?? null);
    this.iommufds = new OpenFileMap(IOMMUFD_PATH, this.procs, o.identity ?? null);
    this.cdevFiles = new OpenFileMap(CDEV_PATH, this.procs, o.identity ?? null);
    this.modern = hasModernPath(o.profile);
    const usable = type1IovaRanges(o.profile.iovaBits);
    const readMemory = o.readMemory ?? (() => null);
    this.newIommufd = () => new IommufdCtx(usable, o.profile.kernel, readMemory);
    const lookup: FdLookup = {
      path: (pid, fd) => this.procs.path(pid, fd),
      container: (pid, fd) => this.containerFor(pid, fd),
      deviceInUse: () => this.deviceHeld(),
      iommufd: (pid, fd) => (this.modern && this.procs.path(pid, fd) === IOMMUFD_PATH ? this.iommufds.get(pid, fd, this.newIommufd) : null),
    };
    // A frozen PE answers all-ones on config space and BARs (see BackingFile.freeze).
    const syncMmio = (): void => (this.pe.mmioBlocked() ? this.backing.freeze() : this.backing.thaw());
    this.pe.onReset(() => this.backing.resetAsserted());
    this.pe.onChange(syncMmio);
    syncMmio();
    this.group = new Group(o.profile.group, o.profile.address, this.backing.path, lookup, o.profile.kernel);
    this.device = new Device(o.profile, this.backing, lookup, o.signalEventfd);
    this.cdev = new Cdev(this.device, {
      iommufd: (pid, fd) => {
        const path = this.procs.path(pid, fd);
        if (path === null) return null;
        return path === IOMMUFD_PATH && this.modern ? this.iommufds.get(pid, fd, this.newIommufd) : 'other';
      },
      groupOpen: () => anyHolds(this.procs, this.pids, [`/dev/vfio/${this.profile.group}`]),
      boundElsewhere: (file) => this.cdevFiles.values().some((f) => f !== file && f.bound !== null),
    });
  }

  /**
   * Whether the device is open: a group-path device file held (an fd or a
   * mapping), or a cdev file bound (an unbound cdev opens nothing).
   */
  private deviceHeld(): boolean {
    return anyHolds(this.procs, this.pids, [this.backing.path]) || this.cdevFiles.values().some((f) => f.bound !== null);
  }

  /** What kind of fd this path is, or null when it is not the emulated machine's. */
  kindOf(path: string): FdKind | null {
    if (path === '/dev/vfio/vfio') return 'container';
    if (path === `/dev/vfio/${this.profile.group}`) return 'group';
    if (path === this.backing.path) return 'device';
    if (this.modern && path === IOMMUFD_PATH) return 'iommufd';
    if (this.modern && path === CDEV_PATH) return 'device';
    return null;
  }

  private containerFor(pid: number, fd: number): Container {
    return this.containers.get(pid, fd, () => new Container(this.profile, this.pe));
  }

  /** The container behind `pid`'s `fd`, if that fd was used as one (tests). */
  containerOf(pid: number, fd: number): Container | undefined {
    return this.containers.peek(pid, fd);
  }

  handle(call: EmuCall): Verdict {
    const kind = this.kindOf(call.fdPath);
    if (kind === null) return RUN;
    this.pids.add(call.pid);
    let v: Verdict;
    let name: string;
    if (kind === 'container') {
      const ct = this.containerFor(call.pid, call.fd);
      const desc = this.table.resolve(call.request, kind, ct.backendName());
      name = desc?.name ?? hexName(call.request);
      // Whether the container still has a group decides SET_IOMMU.
      if (desc?.name === 'VFIO_SET_IOMMU') this.release();
      // Unknown cmd: EINVAL until a backend is set, then the backend's ENOTTY.
      v = desc ? ct.handle(new CallCtx(call, desc, this.le)) : ret(ct.backend ? fail('ENOTTY') : fail('EINVAL'));
    } else if (kind === 'iommufd') {
      // The VFIO calls /dev/iommu answers are type1's (compatibility mode).
      const desc = this.table.resolve(call.request, kind, 'type1');
      name = desc?.name ?? hexName(call.request);
      const ctx = this.iommufds.get(call.pid, call.fd, this.newIommufd);
      v = desc ? ctx.handle(new CallCtx(call, desc, this.le)) : ret(fail('ENOTTY'));
    } else if (call.fdPath === CDEV_PATH) {
      const desc = this.table.resolve(call.request, kind, null);
      name = desc?.name ?? hexName(call.request);
      // Whether another file holds the device or the group decides BIND.
      if (desc?.name === 'VFIO_DEVICE_BIND_IOMMUFD') this.release();
      const file = this.cdevFiles.get(call.pid, call.fd, () => new CdevFile());
      v = desc ? this.cdev.handle(file, new CallCtx(call, desc, this.le)) : ret(fail('ENOTTY'));
    } else {
      const desc = this.table.resolve(call.request, kind, null);
      name = desc?.name ?? hexName(call.request);
      // Every group answer depends on which files are still open.
      if (kind === 'group') this.release();
      const target = kind === 'group' ? this.group : this.device;
      const hadContainer = this.group.hasIommu();
      v = desc ? target.handle(new CallCtx(call, desc, this.le)) : ret(fail('ENOTTY'));
      if (v.action === 'openat') this.device.opened();
      if (kind === 'group' && !hadContainer && this.group.hasIommu()) this.attachedVia = this.groupFiles.get(call.pid, call.fd, () => ({}));
    }
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    return v;
  }

  /**
   * What the kernel does when the last reference to a file goes: the device
   * file (fds and mappings) closes the device (interrupts off, function
   * reset); the group file, once no device file holds it either, leaves its
   * container, which drops its IOMMU and mappings with its last group; a
   * container nobody holds is forgotten.
   */
  private release(): void {
    for (const pid of [...this.pids]) if (this.procs.fds(pid) === null) this.pids.delete(pid);
    for (const file of this.cdevFiles.sweep(this.pids)) this.cdev.release(file);
    this.iommufds.sweep(this.pids);
    const deviceHeld = this.deviceHeld();
    if (!deviceHeld) {
      this.device.closed();
      this.group.deviceClosed();
    }
    this.groupFiles.sweep(this.pids);
    const groupHeld = deviceHeld || (this.attachedVia !== null && this.groupFiles.has(this.attachedVia));
    if (!groupHeld && this.group.hasIommu()) {
      this.attachedVia = null;
      this.group.container?.detach(this.group);
      this.group.container = null;
      this.group.iommufd = null;
    }
    this.containers.sweep(this.pids);
  }

  /** A forked child holds its parent's open files. */
  fork(parent: number, child: number): void {
    this.pids.add(child);
    this.containers.fork(parent, child);
    this.iommufds.fork(parent, child);
    this.cdevFiles.fork(parent, child);
  }

  /** Live flip of the PE state (the TUI's EEH control). */
  setPeState(state: number): void {
    this.pe.setState(state);
  }

  dispose(): void {
    this.containers.dispose();
    this.groupFiles.dispose();
    this.iommufds.dispose();
    this.cdevFiles.dispose();
    this.backing.dispose();
  }
}

function hexName(request: number): string {
  return `0x${(request >>> 0).toString(16)}`;
}
