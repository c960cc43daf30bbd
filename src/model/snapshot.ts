// A plain, JSON-serialisable picture of the session model for the TUI's
// state view and `--json` output. 64-bit values are "0x…" strings because
// JSON has no 64-bit integers.

import type { Attempt, ContainerState, DeviceState, FdEntry, GroupState, IommufdState, ProcessState, ModelView } from './state.js';
import type { DmaSpace } from './dma.js';
import { IOMMU_TYPE_NAMES, eehOpName } from './vfio.js';
import { spaprSnap, type SpaprSnap } from './spapr.js';

export interface AttemptSnap {
  seq: number;
  ok: boolean;
  errno: string | null;
}

export interface MappingSnap {
  iova: string;
  size: string;
  vaddr: string | null;
  flags: number;
  seq: number;
}

export interface DmaSnap {
  mappings: MappingSnap[];
  mappedBytes: string;
  failedMaps: number;
}

export interface FdSnap {
  fd: number;
  kind: string;
  path: string;
  objectId: string;
  firstSeq: number;
  lastSeq: number;
  closedSeq: number | null;
}

export interface ContainerSnap {
  id: string;
  fd: number;
  iommu: (AttemptSnap & { type: number; name: string }) | null;
  groups: Array<AttemptSnap & { id: string; number: string | null }>;
  pgsizes: string | null;
  dma: DmaSnap;
  /** sPAPR TCE windows and preregistered memory (null: no accepted sPAPR call since SET_IOMMU). */
  spapr: SpaprSnap | null;
  eeh: {
    ops: Array<AttemptSnap & { op: string; state?: string }>;
    lastState: { seq: number; state: string } | null;
    pendingReset: number | null;
  };
}

export interface GroupSnap {
  id: string;
  fd: number;
  number: string;
  container: (AttemptSnap & { id: string; fd: number }) | null;
  devices: string[];
}

export interface DeviceSnap {
  id: string;
  fd: number;
  name: string | null;
  via: 'group' | 'cdev';
  group: string | null;
  /** `iommufdId`: the iommufd object the fd named, when the model knows it. */
  bind: (AttemptSnap & { iommufd: number; iommufdId: string | null; devid: number | null }) | null;
  /** `ioas`: pt_id names an IOAS the model saw allocated on that iommufd (else a HWPT or unknown). */
  attach: (AttemptSnap & { ptId: number; ioas: boolean }) | null;
  info: { flags: number; numRegions: number; numIrqs: number } | null;
  regions: Array<{ index: number; flags: number; size: string; offset: string; seq: number }>;
  irqs: Array<{ index: number; count: number | null; flags: number | null; eventfds: Array<{ vector: number; fd: number }> }>;
  migrationFds: string[];
}

export interface IommufdSnap {
  id: string;
  fd: number;
  groups: string[];
  ioas: Array<{ id: number; seq: number; iovaAlignment: string | null; dma: DmaSnap }>;
}

export interface ProcessSnap {
  pid: number;
  exited: boolean;
  fds: FdSnap[];
  closedFds: FdSnap[];
  extensions: Array<{ id: number; answer: number | null; seq: number }>;
  containers: ContainerSnap[];
  groups: GroupSnap[];
  devices: DeviceSnap[];
  iommufds: IommufdSnap[];
}

export interface SessionSnapshot {
  /** seq of the last event applied (-1 before any). */
  seq: number;
  processes: ProcessSnap[];
}

const MAPPINGS_SHOWN = 256;

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function att(a: Attempt): AttemptSnap {
  return { seq: a.seq, ok: a.ok, errno: a.errno };
}

function fdSnap(e: FdEntry): FdSnap {
  return { fd: e.fd, kind: e.kind, path: e.path, objectId: e.objectId, firstSeq: e.firstSeq, lastSeq: e.lastSeq, closedSeq: e.closedSeq };
}

function dmaSnap(d: DmaSpace): DmaSnap {
  return {
    mappings: d.live.slice(0, MAPPINGS_SHOWN).map((m) => ({
      iova: hex(m.iova),
      size: hex(m.size),
      vaddr: m.vaddr === null ? null : hex(m.vaddr),
      flags: m.flags,
      seq: m.seq,
    })),
    mappedBytes: hex(d.mappedBytes),
    failedMaps: d.failed.length,
  };
}

function containerSnap(m: ModelView, c: ContainerState): ContainerSnap {
  return {
    id: c.id,
    fd: c.fd,
    iommu: c.iommu ? { ...att(c.iommu), type: c.iommu.type, name: IOMMU_TYPE_NAMES[c.iommu.type] ?? `type ${c.iommu.type}` } : null,
    groups: [...c.groups].map(([id, a]) => ({ ...att(a), id, number: m.get(id, 'group')?.number ?? null })),
    pgsizes: c.pgsizes ? hex(c.pgsizes.bitmap) : null,
    dma: dmaSnap(c.dma),
    spapr: c.spapr ? spaprSnap(c.spapr) : null,
    eeh: {
      ops: c.eeh.ops.map((o) => ({ ...att(o), op: eehOpName(o.op), ...(o.state ? { state: o.state } : {}) })),
      lastState: c.eeh.lastState ? { seq: c.eeh.lastState.seq, state: c.eeh.lastState.state } : null,
      pendingReset: c.eeh.pendingReset?.seq ?? null,
    },
  };
}

function groupSnap(g: GroupState): GroupSnap {
  return {
    id: g.id,
    fd: g.fd,
    number: g.number,
    container: g.container ? { ...att(g.container), id: g.container.targetId, fd: g.container.targetFd } : null,
    devices: [...g.devices],
  };
}

function deviceSnap(m: ModelView, d: DeviceState): DeviceSnap {
  const f = d.bind ? m.lookup(d.pid, d.bind.iommufdFd) : undefined;
  const iommufd = f?.kind === 'iommufd' ? f : undefined;
  return {
    id: d.id,
    fd: d.fd,
    name: d.name,
    via: d.via,
    group: d.groupId,
    bind: d.bind ? { ...att(d.bind), iommufd: d.bind.iommufdFd, iommufdId: iommufd?.id ?? null, devid: d.bind.devid } : null,
    attach: d.attach ? { ...att(d.attach), ptId: d.attach.ptId, ioas: iommufd?.ioas.has(d.attach.ptId) ?? false } : null,
    info: d.info ? { flags: d.info.flags, numRegions: d.info.numRegions, numIrqs: d.info.numIrqs } : null,
    regions: [...d.regions.values()]
      .sort((a, b) => a.index - b.index)
      .map((r) => ({ index: r.index, flags: r.flags, size: hex(r.size), offset: hex(r.offset), seq: r.seq })),
    irqs: [...d.irqs.values()]
      .sort((a, b) => a.index - b.index)
      .map((i) => ({
        index: i.index,
        count: i.info?.count ?? null,
        flags: i.info?.flags ?? null,
        eventfds: [...i.eventfds].sort((a, b) => a[0] - b[0]).map(([vector, fd]) => ({ vector, fd })),
      })),
    migrationFds: [...d.migrationFds],
  };
}

function iommufdSnap(f: IommufdState): IommufdSnap {
  return {
    id: f.id,
    fd: f.fd,
    groups: [...f.groups.keys()],
    ioas: [...f.ioas.values()].map((s) => ({
      id: s.id,
      seq: s.seq,
      iovaAlignment: s.iovaAlignment === null ? null : hex(s.iovaAlignment),
      dma: dmaSnap(s.dma),
    })),
  };
}

function processSnap(m: ModelView, p: ProcessState): ProcessSnap {
  const snap: ProcessSnap = {
    pid: p.pid,
    exited: p.exitedSeq !== null,
    fds: [...p.fds.values()].sort((a, b) => a.fd - b.fd).map(fdSnap),
    closedFds: p.closedFds.map(fdSnap),
    extensions: [...p.extensions].map(([id, q]) => ({ id, answer: q.answer, seq: q.seq })),
    containers: [],
    groups: [],
    devices: [],
    iommufds: [],
  };
  for (const o of m.objects.values()) {
    if (o.pid !== p.pid) continue;
    if (o.kind === 'container') snap.containers.push(containerSnap(m, o));
    else if (o.kind === 'group') snap.groups.push(groupSnap(o));
    else if (o.kind === 'device') snap.devices.push(deviceSnap(m, o));
    else if (o.kind === 'iommufd') snap.iommufds.push(iommufdSnap(o));
  }
  return snap;
}

export function buildSnapshot(m: ModelView): SessionSnapshot {
  return { seq: m.lastSeq, processes: [...m.processes.values()].map((p) => processSnap(m, p)) };
}
