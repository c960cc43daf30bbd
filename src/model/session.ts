// The session model: VFIO state per traced process, built incrementally from
// DecodedEvents. Kernel-written outputs (info replies, PE states, new fds)
// are taken only from calls that succeeded; caller-set state (container
// links, IOMMU type, EEH ops) is recorded for every call with its outcome, so
// the audit can reason about what the caller meant even when the kernel said
// no (on a machine without VFIO hardware every call fails).

import type { DecodedEvent, DecodedIoctl, FdKind } from '../decode/types.js';
import { ProcessEventKind } from '../trace/events.js';
import { DmaSpace } from './dma.js';
import { arrayValues, fieldNumber, fieldValue, getField, scalarPayload } from './fields.js';
import type {
  Attempt,
  ContainerState,
  DeviceState,
  FdEntry,
  GroupState,
  IommufdState,
  IoasState,
  IrqState,
  ObjectState,
  ProcessState,
} from './state.js';
import * as V from './vfio.js';
import { buildSnapshot, type SessionSnapshot } from './snapshot.js';

/** What an ioctl event refers to, resolved before the event is applied. */
export interface EventContext {
  proc: ProcessState;
  entry: FdEntry;
  obj: ObjectState;
}

const CLOSED_KEEP = 64;
const EEH_OPS_KEEP = 256;
const U64_MAX = (1n << 64n) - 1n;

export function attemptOf(ev: DecodedIoctl): Attempt {
  return { seq: ev.seq, ok: succeeded(ev), errno: ev.ret.errno };
}

/** The kernel accepted the call (a call that never returned did not). */
export function succeeded(ev: DecodedIoctl): boolean {
  return !ev.incomplete && ev.ret.value >= 0;
}

export class SessionModel {
  readonly processes = new Map<number, ProcessState>();
  readonly objects = new Map<string, ObjectState>();
  lastSeq = -1;
  private nextId = 1;

  apply(ev: DecodedEvent): void {
    if (ev.kind === 'ioctl') this.commit(ev, this.prepare(ev));
    else if (ev.kind === 'process') this.applyProcess(ev.seq, ev.pid, ev.record.kind, ev.record.other);
    else this.lastSeq = ev.seq;
  }

  process(pid: number): ProcessState {
    let p = this.processes.get(pid);
    if (!p) {
      p = { pid, fds: new Map(), closedFds: [], extensions: new Map(), exitedSeq: null, midSession: false };
      this.processes.set(pid, p);
    }
    return p;
  }

  /** Processes the trace attached to mid-session (RecordingHeader.attachedPids). */
  markAttached(pids: readonly number[]): void {
    for (const pid of pids) this.process(pid).midSession = true;
  }

  /** The object an fd of a process refers to now, if known. */
  lookup(pid: number, fd: number): ObjectState | undefined {
    const e = this.processes.get(pid)?.fds.get(fd);
    return e ? this.objects.get(e.objectId) : undefined;
  }

  get<T extends ObjectState['kind']>(id: string | null | undefined, kind: T): Extract<ObjectState, { kind: T }> | undefined {
    if (!id) return undefined;
    const o = this.objects.get(id);
    return o && o.kind === kind ? (o as Extract<ObjectState, { kind: T }>) : undefined;
  }

  /** The container or iommufd a group is (meant to be) attached to. */
  groupTarget(g: GroupState): ContainerState | IommufdState | undefined {
    if (!g.container) return undefined;
    const o = this.objects.get(g.container.targetId);
    return o && (o.kind === 'container' || o.kind === 'iommufd') ? o : undefined;
  }

  /** The container a group-path device's group is attached to. */
  deviceContainer(d: DeviceState): ContainerState | undefined {
    const g = this.get(d.groupId, 'group');
    const t = g ? this.groupTarget(g) : undefined;
    return t?.kind === 'container' ? t : undefined;
  }

  /**
   * Resolves (and creates on first sight) the fd entry and object an ioctl
   * event refers to, without applying the event. The audit looks at state
   * between prepare() and commit().
   */
  prepare(ev: DecodedIoctl): EventContext {
    const proc = this.process(ev.pid);
    let entry = proc.fds.get(ev.fd);
    if (entry && entry.path !== '' && ev.fdPath !== '' && entry.path !== ev.fdPath) {
      // Same number, different file: the old fd was closed and the number reused.
      this.closeFd(proc, entry, ev.seq);
      entry = undefined;
    }
    if (entry && entry.path === '' && ev.fdPath !== '') {
      entry.path = ev.fdPath;
      const old = this.objects.get(entry.objectId);
      if (old && old.kind !== ev.fdKind && ev.fdKind !== 'other') this.retype(entry, old, ev.fdKind, ev.seq);
    }
    if (!entry) entry = this.openFd(proc, ev.fd, ev.fdKind, ev.fdPath, ev.seq, null);
    const obj = this.objects.get(entry.objectId)!;
    return { proc, entry, obj };
  }

  commit(ev: DecodedIoctl, ctx: EventContext): void {
    this.lastSeq = ev.seq;
    ctx.entry.lastSeq = ev.seq;
    const name = ev.ioctl;
    if (name === null) return;
    const obj = ctx.obj;
    switch (obj.kind) {
      case 'container':
        this.onContainer(ev, name, obj, ctx.proc);
        break;
      case 'group':
        this.onGroup(ev, name, obj, ctx.proc);
        break;
      case 'device':
        this.onDevice(ev, name, obj, ctx.proc);
        break;
      case 'iommufd':
        this.onIommufd(ev, name, obj);
        break;
      default:
        break;
    }
  }

  snapshot(): SessionSnapshot {
    return buildSnapshot(this);
  }

  // ---- fds and objects ------------------------------------------------------

  private newObject(kind: FdKind, pid: number, fd: number, path: string): ObjectState {
    const id = `${kind}#${this.nextId++}`;
    let obj: ObjectState;
    switch (kind) {
      case 'container':
        obj = {
          id, kind, pid, fd, groups: new Map(), iommu: null, iommuHistory: [], pgsizes: null, spaprEnabled: null,
          dma: new DmaSpace(),
          eeh: { ops: [], lastState: null, pendingReset: null, lastCompletedReset: null, lastConfigure: null, lastRecovery: null },
        };
        break;
      case 'iommufd':
        obj = { id, kind, pid, fd, ioas: new Map(), groups: new Map() };
        break;
      case 'group':
        obj = { id, kind, pid, fd, number: groupNumber(path), container: null, devices: [] };
        break;
      case 'device':
        obj = {
          id, kind, pid, fd, name: path.startsWith('/dev/vfio/devices/') ? path : null,
          via: path.startsWith('/dev/vfio/devices/') ? 'cdev' : 'group',
          groupId: null, bind: null, attach: null, info: null, regions: new Map(), irqs: new Map(), migrationFds: [],
        };
        break;
      case 'migration':
        obj = { id, kind, pid, fd, deviceId: null, seq: this.lastSeq };
        break;
      default:
        obj = { id, kind, pid, fd };
    }
    this.objects.set(id, obj);
    return obj;
  }

  private openFd(proc: ProcessState, fd: number, kind: FdKind, path: string, seq: number, createdBy: number | null): FdEntry {
    const old = proc.fds.get(fd);
    if (old) this.closeFd(proc, old, seq);
    const obj = this.newObject(kind, proc.pid, fd, path);
    const entry: FdEntry = { pid: proc.pid, fd, kind, path, objectId: obj.id, firstSeq: seq, lastSeq: seq, createdBy, closedSeq: null };
    proc.fds.set(fd, entry);
    return entry;
  }

  private closeFd(proc: ProcessState, entry: FdEntry, seq: number): void {
    entry.closedSeq = seq;
    proc.fds.delete(entry.fd);
    if (proc.closedFds.length >= CLOSED_KEEP) proc.closedFds.shift();
    proc.closedFds.push(entry);
  }

  /** An fd first named by another call (GROUP_SET_CONTAINER's argument) turned out to be of another kind. */
  private retype(entry: FdEntry, old: ObjectState, kind: FdKind, seq: number): void {
    const obj = this.newObject(kind, entry.pid, entry.fd, entry.path);
    entry.kind = kind;
    entry.objectId = obj.id;
    this.objects.delete(old.id);
    if ((old.kind === 'container' || old.kind === 'iommufd') && (obj.kind === 'container' || obj.kind === 'iommufd')) {
      for (const [gid, a] of old.groups) {
        obj.groups.set(gid, a);
        const g = this.get(gid, 'group');
        if (g?.container) g.container.targetId = obj.id;
      }
    }
    void seq;
  }

  private applyProcess(seq: number, pid: number, kind: ProcessEventKind, other: number): void {
    this.lastSeq = seq;
    if (kind === ProcessEventKind.Start) {
      // A forked child shares its parent's open files: the same container,
      // groups and devices, not copies.
      const parent = other > 0 ? this.processes.get(other) : undefined;
      const child = this.process(pid);
      if (parent?.midSession) child.midSession = true;
      if (parent && child.fds.size === 0) {
        for (const [fd, e] of parent.fds) child.fds.set(fd, { ...e, pid, firstSeq: seq, lastSeq: seq });
        for (const [ext, q] of parent.extensions) if (!child.extensions.has(ext)) child.extensions.set(ext, q);
      }
      return;
    }
    if (kind !== ProcessEventKind.Exit && kind !== ProcessEventKind.Killed) {
      this.process(pid);
      return;
    }
    const proc = this.process(pid);
    proc.exitedSeq = seq;
    for (const e of [...proc.fds.values()]) this.closeFd(proc, e, seq);
  }

  // ---- per fd kind ----------------------------------------------------------

  private onContainer(ev: DecodedIoctl, name: string, c: ContainerState, proc: ProcessState): void {
    const ok = succeeded(ev);
    switch (name) {
      case 'VFIO_CHECK_EXTENSION': {
        const ext = Number(BigInt.asIntN(32, ev.record.arg));
        const prev = proc.extensions.get(ext);
        if (ok || !prev || prev.answer === null) proc.extensions.set(ext, { seq: ev.seq, answer: ok ? ev.ret.value : null });
        break;
      }
      case 'VFIO_SET_IOMMU': {
        const choice = { ...attemptOf(ev), type: Number(BigInt.asIntN(32, ev.record.arg)) };
        c.iommu = choice;
        if (c.iommuHistory.length >= 16) c.iommuHistory.shift();
        c.iommuHistory.push(choice);
        break;
      }
      case 'VFIO_IOMMU_GET_INFO': {
        if (!ok) break;
        const flags = fieldNumber(ev.out, 'flags') ?? 0;
        const bitmap = fieldValue(ev.out, 'iova_pgsizes');
        if (flags & V.VFIO_IOMMU_INFO_PGSIZES && bitmap !== undefined) c.pgsizes = { seq: ev.seq, bitmap };
        break;
      }
      case 'VFIO_IOMMU_MAP_DMA':
        recordMap(c.dma, ev, fieldValue(ev.in, 'iova'), fieldValue(ev.in, 'size'), fieldValue(ev.in, 'vaddr'));
        break;
      case 'VFIO_IOMMU_UNMAP_DMA': {
        if (!ok) break;
        const flags = fieldNumber(ev.in, 'flags') ?? 0;
        if (flags & V.VFIO_DMA_UNMAP_FLAG_ALL) c.dma.unmapAll();
        else {
          const iova = fieldValue(ev.in, 'iova');
          const size = fieldValue(ev.in, 'size');
          if (iova !== undefined && size !== undefined) c.dma.unmap(iova, size);
        }
        break;
      }
      case 'VFIO_IOMMU_ENABLE':
        c.spaprEnabled = attemptOf(ev);
        break;
      case 'VFIO_IOMMU_DISABLE':
        if (ok) c.spaprEnabled = null;
        break;
      case 'VFIO_EEH_PE_OP':
        this.onEeh(ev, c);
        break;
      default:
        break;
    }
  }

  private onEeh(ev: DecodedIoctl, c: ContainerState): void {
    const op = fieldNumber(ev.in, 'op');
    if (op === undefined) return;
    const e = c.eeh;
    const entry: (typeof e.ops)[number] = { ...attemptOf(ev), op };
    if (op === V.VFIO_EEH_PE_GET_STATE && entry.ok) {
      entry.state = V.eehStateName(ev.ret.value);
      e.lastState = { seq: ev.seq, state: entry.state, value: ev.ret.value };
    }
    if (e.ops.length >= EEH_OPS_KEEP) e.ops.shift();
    e.ops.push(entry);
    switch (op) {
      case V.VFIO_EEH_PE_RESET_HOT:
      case V.VFIO_EEH_PE_RESET_FUNDAMENTAL:
        e.pendingReset = entry;
        break;
      case V.VFIO_EEH_PE_RESET_DEACTIVATE:
        if (e.pendingReset) e.lastCompletedReset = { resetSeq: e.pendingReset.seq, deactivateSeq: ev.seq };
        e.pendingReset = null;
        e.lastRecovery = ev.seq;
        break;
      case V.VFIO_EEH_PE_CONFIGURE:
        e.lastConfigure = ev.seq;
        e.lastRecovery = ev.seq;
        break;
      case V.VFIO_EEH_PE_UNFREEZE_IO:
      case V.VFIO_EEH_PE_UNFREEZE_DMA:
      case V.VFIO_EEH_PE_ENABLE:
        e.lastRecovery = ev.seq;
        break;
      default:
        break;
    }
  }

  private onGroup(ev: DecodedIoctl, name: string, g: GroupState, proc: ProcessState): void {
    const ok = succeeded(ev);
    switch (name) {
      case 'VFIO_GROUP_SET_CONTAINER': {
        const v = scalarPayload(ev.in);
        if (v === undefined) break;
        const tfd = Number(BigInt.asIntN(32, v));
        let target = this.lookup(proc.pid, tfd);
        if (!target || (target.kind !== 'container' && target.kind !== 'iommufd')) {
          // The fd has not been seen yet: assume a container until its first own ioctl says otherwise.
          const entry = this.openFd(proc, tfd, 'container', '', ev.seq, null);
          target = this.objects.get(entry.objectId)!;
        }
        if (target.kind !== 'container' && target.kind !== 'iommufd') break;
        // A failed second SET_CONTAINER (EINVAL: already set) does not undo the first.
        if (g.container?.ok && !ok) break;
        const a = attemptOf(ev);
        g.container = { ...a, targetId: target.id, targetFd: tfd };
        target.groups.set(g.id, a);
        break;
      }
      case 'VFIO_GROUP_UNSET_CONTAINER': {
        if (!ok || !g.container) break;
        const t = this.groupTarget(g);
        t?.groups.delete(g.id);
        g.container = null;
        // The last group leaving releases the backend: a new VFIO_SET_IOMMU is then legitimate.
        if (t?.kind === 'container' && ![...t.groups.values()].some((a) => a.ok)) t.iommu = null;
        break;
      }
      case 'VFIO_GROUP_GET_DEVICE_FD': {
        if (!ok) break;
        const fd = ev.ret.newFd?.fd ?? ev.ret.value;
        const entry = this.openFd(proc, fd, 'device', '', ev.seq, ev.seq);
        const d = this.get(entry.objectId, 'device');
        if (!d) break;
        d.groupId = g.id;
        d.via = 'group';
        d.name = ev.in?.text ?? getField(ev.in, '')?.text ?? null;
        g.devices.push(d.id);
        break;
      }
      default:
        break;
    }
  }

  private onDevice(ev: DecodedIoctl, name: string, d: DeviceState, proc: ProcessState): void {
    const ok = succeeded(ev);
    switch (name) {
      case 'VFIO_DEVICE_GET_INFO':
        if (ok)
          d.info = {
            seq: ev.seq,
            flags: fieldNumber(ev.out, 'flags') ?? 0,
            numRegions: fieldNumber(ev.out, 'num_regions') ?? 0,
            numIrqs: fieldNumber(ev.out, 'num_irqs') ?? 0,
          };
        break;
      case 'VFIO_DEVICE_GET_REGION_INFO': {
        const index = fieldNumber(ev.in, 'index');
        if (!ok || index === undefined) break;
        d.regions.set(index, {
          index,
          seq: ev.seq,
          flags: fieldNumber(ev.out, 'flags') ?? 0,
          size: fieldValue(ev.out, 'size') ?? 0n,
          offset: fieldValue(ev.out, 'offset') ?? 0n,
          capOffset: fieldNumber(ev.out, 'cap_offset') ?? 0,
        });
        break;
      }
      case 'VFIO_DEVICE_GET_IRQ_INFO': {
        const index = fieldNumber(ev.in, 'index');
        if (!ok || index === undefined) break;
        irqOf(d, index).info = { seq: ev.seq, flags: fieldNumber(ev.out, 'flags') ?? 0, count: fieldNumber(ev.out, 'count') ?? 0 };
        break;
      }
      case 'VFIO_DEVICE_SET_IRQS':
        applySetIrqs(ev, d);
        break;
      case 'VFIO_DEVICE_BIND_IOMMUFD': {
        if (d.bind?.ok && !ok) break;
        const iommufdFd = fieldNumber(ev.in, 'iommufd') ?? -1;
        d.bind = { ...attemptOf(ev), iommufdFd, devid: ok ? (fieldNumber(ev.out, 'out_devid') ?? null) : null };
        break;
      }
      case 'VFIO_DEVICE_ATTACH_IOMMUFD_PT': {
        if (d.attach?.ok && !ok) break;
        const ptId = (ok ? fieldNumber(ev.out, 'pt_id') : undefined) ?? fieldNumber(ev.in, 'pt_id') ?? 0;
        d.attach = { ...attemptOf(ev), ptId };
        break;
      }
      case 'VFIO_DEVICE_DETACH_IOMMUFD_PT':
        if (ok) d.attach = null;
        break;
      case 'VFIO_DEVICE_FEATURE': {
        const nf = ev.ret.newFd;
        if (ok && nf && nf.kind === 'migration') {
          const entry = this.openFd(proc, nf.fd, 'migration', '', ev.seq, ev.seq);
          const m = this.get(entry.objectId, 'migration');
          if (m) {
            m.deviceId = d.id;
            m.seq = ev.seq;
            d.migrationFds.push(m.id);
          }
        }
        break;
      }
      default:
        break;
    }
  }

  private onIommufd(ev: DecodedIoctl, name: string, f: IommufdState): void {
    const ok = succeeded(ev);
    switch (name) {
      case 'IOMMU_IOAS_ALLOC': {
        const id = ok ? fieldNumber(ev.out, 'out_ioas_id') : undefined;
        if (id !== undefined) ioasOf(f, id, ev.seq);
        break;
      }
      case 'IOMMU_DESTROY': {
        const id = fieldNumber(ev.in, 'id');
        if (ok && id !== undefined) f.ioas.delete(id);
        break;
      }
      case 'IOMMU_IOAS_IOVA_RANGES': {
        const id = fieldNumber(ev.in, 'ioas_id');
        const align = fieldValue(ev.out, 'out_iova_alignment');
        if (ok && id !== undefined && align !== undefined) ioasOf(f, id, ev.seq).iovaAlignment = align;
        break;
      }
      case 'IOMMU_IOAS_MAP':
      case 'IOMMU_IOAS_MAP_FILE': {
        const id = fieldNumber(ev.in, 'ioas_id');
        if (id === undefined) break;
        const iova = (ok ? fieldValue(ev.out, 'iova') : undefined) ?? fieldValue(ev.in, 'iova');
        recordMap(ioasOf(f, id, ev.seq).dma, ev, iova, fieldValue(ev.in, 'length'), fieldValue(ev.in, 'user_va') ?? null);
        break;
      }
      case 'IOMMU_IOAS_UNMAP': {
        const id = fieldNumber(ev.in, 'ioas_id');
        const iova = fieldValue(ev.in, 'iova');
        const length = fieldValue(ev.in, 'length');
        if (!ok || id === undefined || iova === undefined || length === undefined) break;
        const dma = ioasOf(f, id, ev.seq).dma;
        if (iova === 0n && length === U64_MAX) dma.unmapAll();
        else dma.unmap(iova, length);
        break;
      }
      default:
        break;
    }
  }
}

function groupNumber(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash >= 0 ? path.slice(slash + 1) : path;
}

function ioasOf(f: IommufdState, id: number, seq: number): IoasState {
  let s = f.ioas.get(id);
  if (!s) {
    s = { id, seq, dma: new DmaSpace(), iovaAlignment: null };
    f.ioas.set(id, s);
  }
  return s;
}

function irqOf(d: DeviceState, index: number): IrqState {
  let s = d.irqs.get(index);
  if (!s) {
    s = { index, info: null, eventfds: new Map(), lastSet: null };
    d.irqs.set(index, s);
  }
  return s;
}

function recordMap(
  dma: DmaSpace,
  ev: DecodedIoctl,
  iova: bigint | undefined,
  size: bigint | undefined,
  vaddr: bigint | null | undefined,
): void {
  if (iova === undefined || size === undefined) return;
  const m = { iova, size, vaddr: vaddr ?? null, flags: fieldNumber(ev.in, 'flags') ?? 0, seq: ev.seq };
  if (succeeded(ev)) dma.map(m);
  else dma.noteFailed({ ...m, errno: ev.ret.errno });
}

function applySetIrqs(ev: DecodedIoctl, d: DeviceState): void {
  const index = fieldNumber(ev.in, 'index');
  const flags = fieldNumber(ev.in, 'flags');
  const start = fieldNumber(ev.in, 'start');
  const count = fieldNumber(ev.in, 'count');
  if (index === undefined || flags === undefined || start === undefined || count === undefined) return;
  const irq = irqOf(d, index);
  irq.lastSet = { ...attemptOf(ev), flags, start, count };
  if (!succeeded(ev) || !(flags & V.VFIO_IRQ_SET_ACTION_TRIGGER)) return;
  if (flags & V.VFIO_IRQ_SET_DATA_NONE && count === 0) {
    irq.eventfds.clear();
    return;
  }
  if (!(flags & V.VFIO_IRQ_SET_DATA_EVENTFD)) return;
  const fds = arrayValues(ev.in, 'data');
  for (let i = 0; i < count && i < fds.length; i++) {
    const fd = Number(BigInt.asIntN(32, fds[i]!));
    if (fd < 0) irq.eventfds.delete(start + i);
    else irq.eventfds.set(start + i, fd);
  }
}
