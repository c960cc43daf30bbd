// The emulated VFIO kernel: one machine whose PCI functions (profiles) each
// sit in an IOMMU group of their own. `handle()` takes an ioctl stopped at
// entry and returns the verdict the tracer applies. fds are told apart by
// path, the same way the decoder does: /dev/vfio/vfio (a container per open
// file), /dev/vfio/GROUP, each device's backing file, and on kernels with
// iommufd /dev/iommu and the device cdevs (an iommufd context and a cdev
// state per open file). What the kernel undoes
// when the last reference to a file goes is undone when an answer depends
// on it (`release`; files.ts says how it is seen).

import { registry } from '../../decoders/index.js';
import type { IoctlDesc } from '../decode/ioctlDesc.js';
import { VFIO_TYPE } from '../decode/encoding.js';
import { backendOfIommuType, resolveIoctl, servedBy } from '../decode/resolve.js';
import { VFIO_TYPE1v2_IOMMU } from '../../decoders/container.js';
import type { FdKind } from '../decode/types.js';
import { hasModernPath, IOMMUFD_PATH } from './cdev.js';
import { Container } from './container.js';
import { CallCtx } from './ctx.js';
import type { EehRule } from './eehScript.js';
import { fail } from './errno.js';
import { OpenFileMap, procFiles, type FileIdentity, type ProcessFiles } from './files.js';
import { PciFunction } from './function.js';
import type { Profile } from './profile.js';
import { geometryOf } from './ioas.js';
import { IommufdCtx, type MemReader } from './iommufd.js';
import { type1IovaRanges } from './type1.js';
import { ret, RUN, type EmuCall, type Verdict } from './types.js';
import { ioctlSet } from '../model/ioctlName.js';

export interface KernelOptions {
  /** The first function; its IOMMU and kernel release are the machine's. */
  profile: Profile;
  /** Further functions, each in an IOMMU group of its own (same IOMMU and kernel, other address and group). */
  more?: readonly Profile[];
  eeh?: readonly EehRule[];
  /** Byte order of the traced ABI (default: little-endian). */
  littleEndian?: boolean;
  /** Directory for the devices' backing files (default: a fresh one under /dev/shm each). */
  backingDir?: string;
  /** Override how other fds of the target are looked up (tests). */
  fdPath?: (pid: number, fd: number) => string | null;
  /** Override how the target's open fds are listed (tests). */
  fdList?: (pid: number) => number[];
  /** Override which files the target has mapped (tests). */
  mappedList?: (pid: number) => string[];
  /** How two fds are found to be the same open file (default: each (pid, fd) is its own). */
  identity?: FileIdentity;
  /** How an interrupt reaches the client: add 1 to its eventfd (default: nothing). */
  signalEventfd?: (pid: number, fd: number) => void;
  /** Reads the client's memory, for arguments that point further (default: unreadable). */
  readMemory?: MemReader;
}


/** Functions of one machine must share its IOMMU and kernel, and differ in address and group; an EEH script drives a machine of one. */
export function checkMachine(profiles: readonly Profile[], eeh: readonly EehRule[] = []): void {
  const [first, ...rest] = profiles;
  if (!first) throw new Error('a machine needs a device');
  if (eeh.length > 0 && profiles.length > 1) throw new Error('an EEH script drives one PE: give it a machine of one function');
  for (const [k, p] of rest.entries()) {
    const other = profiles.slice(0, k + 1);
    if (p.iommu !== first.iommu) throw new Error(`device ${p.name} has a ${p.iommu} IOMMU, the machine ${first.iommu}: one IOMMU per machine`);
    if (p.kernel !== first.kernel) throw new Error(`device ${p.name} answers as kernel ${p.kernel}, the machine as ${first.kernel}`);
    if (other.some((o) => o.address === p.address)) throw new Error(`two devices at ${p.address}: give one another address`);
    if (other.some((o) => o.group === p.group)) throw new Error(`two devices in IOMMU group ${p.group}: give one another group`);
  }
}

/** Where a path leads in the machine. */
type Route = { kind: 'container' } | { kind: 'iommufd' } | { kind: 'group' | 'device' | 'cdev'; fn: PciFunction };

export class EmulatedKernel {
  /** The first function's profile: the machine's IOMMU and kernel release. */
  readonly profile: Profile;
  readonly functions: readonly PciFunction[];
  private readonly routes = new Map<string, Route>();
  private readonly containers: OpenFileMap<Container>;
  /** iommufd contexts, one per open /dev/iommu, on kernels that have it. */
  private readonly iommufds: OpenFileMap<IommufdCtx>;
  private readonly modern: boolean;
  private readonly newIommufd: () => IommufdCtx;
  private readonly le: boolean;
  private readonly reg = registry();
  /** The machine's architecture, as far as which ioctls exist (sPAPR ones only on POWER). */
  private readonly arch: string;
  private readonly procs: ProcessFiles;
  /** The processes that may hold the machine's files: every caller and its forked children. */
  private readonly pids = new Set<number>();
  /** Calls answered, by ioctl name (unknown numbers under their hex). */
  readonly counts = new Map<string, number>();

  constructor(o: KernelOptions) {
    const profiles = [o.profile, ...(o.more ?? [])];
    checkMachine(profiles, o.eeh ?? []);
    this.profile = o.profile;
    this.le = o.littleEndian ?? true;
    this.arch = o.profile.iommu === 'spapr' ? 'ppc64le' : 'x86_64';
    this.procs = { path: o.fdPath ?? procFiles.path, fds: o.fdList ?? procFiles.fds, mapped: o.mappedList ?? procFiles.mapped };
    const identity = o.identity ?? null;
    this.containers = new OpenFileMap('/dev/vfio/vfio', this.procs, identity);
    this.iommufds = new OpenFileMap(IOMMUFD_PATH, this.procs, identity);
    this.modern = hasModernPath(o.profile);
    const geometry = geometryOf(type1IovaRanges(o.profile.iovaBits));
    const readMemory = o.readMemory ?? (() => null);
    this.newIommufd = () => new IommufdCtx(geometry, o.profile.kernel, readMemory);
    const iommufd = (pid: number, fd: number): IommufdCtx | null =>
      this.modern && this.procs.path(pid, fd) === IOMMUFD_PATH ? this.iommufds.get(pid, fd, this.newIommufd) : null;
    const machine = {
      procs: this.procs,
      identity,
      pids: this.pids,
      lookup: { path: this.procs.path, container: (pid: number, fd: number) => this.containerFor(pid, fd), iommufd },
      iommufd,
      signalEventfd: o.signalEventfd,
    };
    // EEH rules script the first function's PE.
    this.functions = profiles.map((p, k) => new PciFunction(p, k, k === 0 ? (o.eeh ?? []) : [], o.backingDir, machine));
    this.routes.set('/dev/vfio/vfio', { kind: 'container' });
    if (this.modern) this.routes.set(IOMMUFD_PATH, { kind: 'iommufd' });
    for (const fn of this.functions) {
      this.routes.set(fn.groupPath, { kind: 'group', fn });
      this.routes.set(fn.backing.path, { kind: 'device', fn });
      if (this.modern) this.routes.set(fn.cdevPath, { kind: 'cdev', fn });
    }
  }

  /** The first function's parts (the only ones on a one-device machine). */
  get pe(): PciFunction['pe'] {
    return this.functions[0]!.pe;
  }
  get backing(): PciFunction['backing'] {
    return this.functions[0]!.backing;
  }
  get group(): PciFunction['group'] {
    return this.functions[0]!.group;
  }
  get device(): PciFunction['device'] {
    return this.functions[0]!.device;
  }

  /** What kind of fd this path is, or null when it is not the emulated machine's. */
  kindOf(path: string): FdKind | null {
    const r = this.routes.get(path);
    if (!r) return null;
    return r.kind === 'cdev' ? 'device' : r.kind;
  }

  private containerFor(pid: number, fd: number, file?: number): Container {
    return this.containers.get(pid, fd, () => new Container(this.profile), file);
  }

  /** The container behind `pid`'s `fd`, if that fd was used as one (tests). */
  containerOf(pid: number, fd: number): Container | undefined {
    return this.containers.peek(pid, fd);
  }

  handle(call: EmuCall): Verdict {
    const route = this.routes.get(call.fdPath);
    if (!route) return RUN;
    this.pids.add(call.pid);
    const kind: FdKind = route.kind === 'cdev' ? 'device' : route.kind;
    // One look-up per call: telling open files apart costs a kcmp.
    const container = route.kind === 'container' ? this.containerFor(call.pid, call.fd, call.file) : null;
    let iommuType: number | null = null;
    if (container) iommuType = container.iommuType;
    // The VFIO calls /dev/iommu answers are type1's (compatibility mode).
    else if (route.kind === 'iommufd') iommuType = VFIO_TYPE1v2_IOMMU;
    const desc = this.resolve(call.request, kind, iommuType);
    const name = desc?.name ?? hexName(call.request);
    const ctx = desc ? new CallCtx(call, desc, this.le) : null;
    // Answers that depend on which files are still open: every group call,
    // SET_IOMMU (does the container still have a group?), the cdev's BIND and
    // ATTACH (is the device free?), iommufd calls on objects a closed cdev
    // takes away (not the hot map/unmap/copy).
    if (route.kind === 'group' || (desc !== null && RELEASE_FIRST.has(desc.name))) this.release();
    let v: Verdict;
    switch (route.kind) {
      case 'container':
        // Unknown cmd: EINVAL until a backend is set, then the backend's ENOTTY.
        v = ctx ? container!.handle(ctx) : ret(container!.backend ? fail('ENOTTY') : fail('EINVAL'));
        break;
      case 'iommufd':
        v = ctx ? this.iommufds.get(call.pid, call.fd, this.newIommufd, call.file).handle(ctx) : ret(fail('ENOTTY'));
        break;
      case 'cdev':
        v = route.fn.handleCdev(ctx, call.pid, call.fd);
        break;
      default:
        v = ctx ? route.fn.handle(ctx, route.kind === 'group') : ret(fail('ENOTTY'));
    }
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    return v;
  }

  /**
   * The description the kernel dispatches `request` to on this fd: the
   * decoder's resolution, kept only when the fd's kind and the container's
   * backend serve it (with no backend set, backend-specific numbers mean
   * nothing yet).
   */
  private resolve(request: number, kind: FdKind, iommuType: number | null): IoctlDesc | null {
    // VFIO and iommufd requests are _IO(';', nr): the type byte, no size.
    if (((request >>> 8) & 0xff) !== VFIO_TYPE) return null;
    const cands = this.reg.byNr.get(request & 0xff);
    if (!cands) return null;
    const d = resolveIoctl(cands, kind, iommuType !== null ? { kind, iommu: iommuType } : { kind }, this.arch).desc;
    if (!d || !d.fdKinds.includes(kind)) return null;
    const backend = iommuType !== null ? backendOfIommuType(iommuType) : null;
    if (d.backends !== 'any' && (backend === null || !servedBy(d, backend))) return null;
    return d;
  }

  /**
   * What the kernel does when the last reference to a file goes (see
   * PciFunction.release); then iommufd contexts and containers nobody holds
   * are forgotten. A container's last group takes its IOMMU and mappings.
   */
  private release(): void {
    for (const pid of [...this.pids]) if (this.procs.fds(pid) === null) this.pids.delete(pid);
    for (const fn of this.functions) fn.release();
    this.iommufds.sweep(this.pids);
    this.containers.sweep(this.pids);
  }

  /** A forked child holds its parent's open files. */
  fork(parent: number, child: number): void {
    this.pids.add(child);
    this.containers.fork(parent, child);
    this.iommufds.fork(parent, child);
    for (const fn of this.functions) fn.fork(parent, child);
  }

  /** Live flip of the first function's PE state (the TUI's EEH control). */
  setPeState(state: number): void {
    this.pe.setState(state);
  }

  dispose(): void {
    this.containers.dispose();
    this.iommufds.dispose();
    for (const fn of this.functions) fn.dispose();
  }
}

const RELEASE_FIRST = ioctlSet([
  'VFIO_SET_IOMMU', 'VFIO_IOMMU_GET_INFO', 'VFIO_DEVICE_BIND_IOMMUFD', 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', 'IOMMU_DESTROY',
  'IOMMU_IOAS_ALLOC', 'IOMMU_IOAS_IOVA_RANGES', 'IOMMU_IOAS_ALLOW_IOVAS', 'IOMMU_OPTION', 'IOMMU_HWPT_ALLOC', 'IOMMU_GET_HW_INFO',
  'IOMMU_VFIO_IOAS',
]);

function hexName(request: number): string {
  return `0x${(request >>> 0).toString(16)}`;
}
