// The session model: VFIO state per traced process, built incrementally from
// DecodedEvents. Kernel-written outputs (info replies, PE states, new fds)
// are taken only from calls that succeeded; caller-set state (container
// links, IOMMU type, EEH ops) is recorded for every call with its outcome, so
// the audit can reason about what the caller meant even when the kernel said
// no (on a machine without VFIO hardware every call fails).

import type { DecodedEvent, DecodedIoctl, FdKind } from '../decode/types.js';
import { ProcessEventKind } from '../trace/events.js';
import { DmaSpace } from './dma.js';
import { Ring } from './ring.js';
import { onContainer, onGroup } from './containerCalls.js';
import { onDevice, onIommufd } from './deviceCalls.js';
import type { ContainerState, DeviceState, FdEntry, GroupState, IommufdState, ObjectState, ProcessState, ModelView } from './state.js';
import { buildSnapshot, type SessionSnapshot } from './snapshot.js';

/** What an ioctl event refers to, resolved before the event is applied. */
export interface EventContext {
  proc: ProcessState;
  entry: FdEntry;
  obj: ObjectState;
}

const CLOSED_KEEP = 64;
/** EEH ops remembered per container (the snapshot and the TUI show these). */
const EEH_OPS_KEEP = 256;

export { attemptOf, succeeded } from './outcome.js';

export class SessionModel implements ModelView {
  readonly processes = new Map<number, ProcessState>();
  readonly objects = new Map<string, ObjectState>();
  lastSeq = -1;
  private nextId = 1;
  private hostWide = false;

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

  /**
   * Processes met mid-session: those the trace attached to (the header's
   * attachedPids) and, host-wide (`--all`), every process introduced
   * without a parent (START with parent 0), met at a call of its own.
   */
  markMidSession(h: { attachedPids: readonly number[]; hostWide: boolean }): void {
    for (const pid of h.attachedPids) this.process(pid).midSession = true;
    this.hostWide = h.hostWide;
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
      if (old && old.kind !== ev.fdKind && ev.fdKind !== 'other') this.retype(entry, old, ev.fdKind);
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
        onContainer(ev, name, obj, ctx.proc);
        break;
      case 'group':
        onGroup(this, ev, name, obj, ctx.proc);
        break;
      case 'device':
        onDevice(this, ev, name, obj, ctx.proc);
        break;
      case 'iommufd':
        onIommufd(ev, name, obj);
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
          id, kind, pid, fd, groups: new Map(), iommu: null, backend: null, iommuHistory: [], pgsizes: null, spaprEnabled: null, spapr: null,
          dma: new DmaSpace(),
          eeh: { ops: new Ring(EEH_OPS_KEEP), lastState: null, pendingReset: null, lastCompletedReset: null, lastConfigure: null, lastRecovery: null, lastStateChange: null, served: false, refusedReset: null },
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

  /** Records a new fd (closing whatever had the number before). Used by the call handlers too. */
  openFd(proc: ProcessState, fd: number, kind: FdKind, path: string, seq: number, createdBy: number | null): FdEntry {
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
  private retype(entry: FdEntry, old: ObjectState, kind: FdKind): void {
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
  }

  private applyProcess(seq: number, pid: number, kind: ProcessEventKind, other: number): void {
    this.lastSeq = seq;
    if (kind === ProcessEventKind.Start) {
      // A forked child shares its parent's open files: the same container,
      // groups and devices, not copies.
      const parent = other > 0 ? this.processes.get(other) : undefined;
      const child = this.process(pid);
      if (parent?.midSession || (this.hostWide && other === 0)) child.midSession = true;
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
}

function groupNumber(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash >= 0 ? path.slice(slash + 1) : path;
}
