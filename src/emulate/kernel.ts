// The emulated VFIO kernel: one machine (a profile) with one IOMMU group
// holding one PCI function. `handle()` takes an ioctl stopped at entry and
// returns the verdict the tracer applies. fds are told apart by path, the
// same way the decoder does: /dev/vfio/vfio (a container per open fd),
// /dev/vfio/GROUP, and the device's backing file.

import { readdirSync, readlinkSync } from 'node:fs';
import { families } from '../../decoders/index.js';
import type { FdKind } from '../decode/types.js';
import { BackingFile } from './backing.js';
import { Container } from './container.js';
import { CallCtx } from './ctx.js';
import { Device } from './device.js';
import { ProtectionDomain } from './eeh.js';
import type { EehRule } from './eehScript.js';
import { fail } from './errno.js';
import { Group, type FdLookup } from './group.js';
import type { Profile } from './profile.js';
import { IoctlTable } from './table.js';
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
  /** How an interrupt reaches the client: add 1 to its eventfd (default: nothing). */
  signalEventfd?: (pid: number, fd: number) => void;
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
  private readonly containers = new Map<string, Container>();
  private readonly le: boolean;
  private readonly table = vfioIoctlTable();
  private readonly fdPath: (pid: number, fd: number) => string | null;
  private readonly fdList: (pid: number) => number[];
  /** Calls answered, by ioctl name (unknown numbers under their hex). */
  readonly counts = new Map<string, number>();

  constructor(o: KernelOptions) {
    this.profile = o.profile;
    this.le = o.littleEndian ?? true;
    this.pe = new ProtectionDomain(o.eeh ?? []);
    this.backing = new BackingFile(o.profile, o.backingDir);
    this.fdPath = o.fdPath ?? procFdPath;
    this.fdList = o.fdList ?? procFdList;
    const lookup: FdLookup = {
      path: (pid, fd) => this.fdPath(pid, fd),
      container: (pid, fd) => this.containerFor(pid, fd),
      deviceFds: (pid) => this.countDeviceFds(pid),
    };
    // A frozen PE answers all-ones on config space and BARs (see BackingFile.freeze).
    const syncMmio = (): void => (this.pe.mmioBlocked() ? this.backing.freeze() : this.backing.thaw());
    this.pe.onReset(() => this.backing.resetAsserted());
    this.pe.onChange(syncMmio);
    syncMmio();
    this.group = new Group(o.profile.group, o.profile.address, this.backing.path, lookup, o.profile.kernel);
    this.device = new Device(o.profile, this.backing, lookup, o.signalEventfd);
  }

  /** What kind of fd this path is, or null when it is not the emulated machine's. */
  kindOf(path: string): FdKind | null {
    if (path === '/dev/vfio/vfio') return 'container';
    if (path === `/dev/vfio/${this.profile.group}`) return 'group';
    if (path === this.backing.path) return 'device';
    return null;
  }

  private containerFor(pid: number, fd: number): Container {
    const key = `${pid}:${fd}`;
    let c = this.containers.get(key);
    if (!c) this.containers.set(key, (c = new Container(this.profile, this.pe)));
    return c;
  }

  private countDeviceFds(pid: number): number {
    return this.fdList(pid).filter((fd) => this.fdPath(pid, fd) === this.backing.path).length;
  }

  handle(call: EmuCall): Verdict {
    const kind = this.kindOf(call.fdPath);
    if (kind === null) return RUN;
    let v: Verdict;
    let name: string;
    if (kind === 'container') {
      const ct = this.containerFor(call.pid, call.fd);
      const desc = this.table.resolve(call.request, kind, ct.backendName());
      name = desc?.name ?? hexName(call.request);
      // Unknown cmd: EINVAL until a backend is set, then the backend's ENOTTY.
      v = desc ? ct.handle(new CallCtx(call, desc, this.le)) : ret(ct.backend ? fail('ENOTTY') : fail('EINVAL'));
    } else {
      const desc = this.table.resolve(call.request, kind, null);
      name = desc?.name ?? hexName(call.request);
      const target = kind === 'group' ? this.group : this.device;
      v = desc ? target.handle(new CallCtx(call, desc, this.le)) : ret(fail('ENOTTY'));
    }
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    return v;
  }

  /** A forked child shares its parent's open containers (the same open files). */
  fork(parent: number, child: number): void {
    for (const [key, c] of [...this.containers]) {
      const [pid, fd] = key.split(':');
      if (Number(pid) === parent) this.containers.set(`${child}:${fd}`, c);
    }
  }

  /** Live flip of the PE state (the TUI's EEH control). */
  setPeState(state: number): void {
    this.pe.setState(state);
  }

  dispose(): void {
    this.backing.dispose();
  }
}

function hexName(request: number): string {
  return `0x${(request >>> 0).toString(16)}`;
}

function procFdList(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map(Number);
  } catch {
    return [];
  }
}

function procFdPath(pid: number, fd: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}
