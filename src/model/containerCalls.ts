// How container and group calls change the session model (SessionModel.commit
// dispatches here by fd kind).

import type { DecodedIoctl } from '../decode/types.js';
import { getField, inNumber, inValue, outNumber, outValue, scalarPayload } from './fields.js';
import { hasTceSemantics } from './backend.js';
import { attemptOf, recordMap, succeeded } from './outcome.js';
import { newSpaprState, onSpapr, SPAPR_CALLS } from './spapr.js';
import type { ContainerState, EehOpEntry, GroupState, ProcessState, ModelView } from './state.js';
import {
  VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_RESET_DEACTIVATE,
  VFIO_EEH_PE_RESET_FUNDAMENTAL, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_UNFREEZE_DMA, VFIO_EEH_PE_UNFREEZE_IO,
} from '../../decoders/eeh.js';
import { VFIO_DMA_UNMAP_FLAG_ALL, VFIO_IOMMU_INFO_PGSIZES } from '../../decoders/type1.js';
import { eehStateName } from './vfio.js';
import { ioctlTable, type IoctlTable } from './ioctlName.js';

/** What a container call does to its container (`ok`: the kernel accepted it). */
type ContainerCall = (ev: DecodedIoctl, c: ContainerState, proc: ProcessState, ok: boolean) => void;

/** The container calls the model follows; the sPAPR backend's own are SPAPR_CALLS. */
export const CONTAINER_CALLS: IoctlTable<ContainerCall> = ioctlTable<ContainerCall>({
  VFIO_CHECK_EXTENSION: (ev, _c, proc, ok) => {
    const ext = Number(BigInt.asIntN(32, ev.record.arg));
    const prev = proc.extensions.get(ext);
    if (ok || !prev || prev.answer === null) proc.extensions.set(ext, { seq: ev.seq, answer: ok ? ev.ret.value : null });
  },
  VFIO_SET_IOMMU: (ev, c) => {
    const choice = { ...attemptOf(ev), type: Number(BigInt.asIntN(32, ev.record.arg)) };
    c.iommu = choice;
    if (choice.ok) {
      c.backend = choice;
      // A new IOMMU backend instance: no window or registration of an earlier one.
      c.spapr = null;
    }
    if (c.iommuHistory.length >= 16) c.iommuHistory.shift();
    c.iommuHistory.push(choice);
  },
  VFIO_IOMMU_GET_INFO: (ev, c, _proc, ok) => {
    if (!ok) return;
    const flags = outNumber(ev, 'flags') ?? 0;
    const bitmap = outValue(ev, 'iova_pgsizes');
    if (flags & VFIO_IOMMU_INFO_PGSIZES && bitmap !== undefined) c.pgsizes = { seq: ev.seq, bitmap };
  },
  VFIO_IOMMU_MAP_DMA: (ev, c, _proc, ok) => {
    const iova = inValue(ev, 'iova');
    const size = inValue(ev, 'size');
    // TCEs are overwritten, not refused: the new mapping replaces what was there.
    if (ok && hasTceSemantics(c) && iova !== undefined && size !== undefined) c.dma.unmap(iova, size);
    recordMap(c.dma, ev, iova, size, inValue(ev, 'vaddr'));
  },
  VFIO_IOMMU_UNMAP_DMA: (ev, c, _proc, ok) => {
    if (!ok) return;
    const flags = inNumber(ev, 'flags') ?? 0;
    if (flags & VFIO_DMA_UNMAP_FLAG_ALL) c.dma.unmapAll();
    else {
      const iova = inValue(ev, 'iova');
      const size = inValue(ev, 'size');
      if (iova !== undefined && size !== undefined) c.dma.unmap(iova, size);
    }
  },
  VFIO_IOMMU_ENABLE: (ev, c) => {
    c.spaprEnabled = attemptOf(ev);
  },
  VFIO_IOMMU_DISABLE: (_ev, c, _proc, ok) => {
    if (ok) c.spaprEnabled = null;
  },
  VFIO_EEH_PE_OP: (ev, c) => onEeh(ev, c),
});

export function onContainer(ev: DecodedIoctl, name: string, c: ContainerState, proc: ProcessState): void {
  const ok = succeeded(ev);
  if (SPAPR_CALLS.has(name)) {
    if (ok) c.spapr = onSpapr(ev, name, c.spapr ?? newSpaprState());
    return;
  }
  CONTAINER_CALLS.get(name)?.(ev, c, proc, ok);
}

function onEeh(ev: DecodedIoctl, c: ContainerState): void {
  const op = inNumber(ev, 'op');
  if (op === undefined) return;
  const e = c.eeh;
  // One literal of a fixed shape (no spread, no property added later): this
  // runs for every EEH op, and GET_STATE polls can be most of a session.
  const ok = succeeded(ev);
  const state = op === VFIO_EEH_PE_GET_STATE && ok ? eehStateName(ev.ret.value) : undefined;
  const entry: EehOpEntry = state !== undefined ? { seq: ev.seq, ok, errno: ev.ret.errno, op, state } : { seq: ev.seq, ok, errno: ev.ret.errno, op };
  if (state !== undefined) e.lastState = { seq: ev.seq, state, value: ev.ret.value };
  if (op !== VFIO_EEH_PE_GET_STATE && op !== VFIO_EEH_PE_UNFREEZE_IO && op !== VFIO_EEH_PE_UNFREEZE_DMA) e.lastStateChange = ev.seq;
  e.ops.push(entry);
  if (ok) e.served = true;
  switch (op) {
    case VFIO_EEH_PE_RESET_HOT:
    case VFIO_EEH_PE_RESET_FUNDAMENTAL:
      // A reset the kernel refused asserted nothing (judged on intent while no EEH op has succeeded here).
      e.refusedReset = !ok && e.served ? entry : null;
      e.pendingReset = e.refusedReset ? null : entry;
      break;
    case VFIO_EEH_PE_RESET_DEACTIVATE:
      e.refusedReset = null;
      if (e.pendingReset) e.lastCompletedReset = { resetSeq: e.pendingReset.seq, deactivateSeq: ev.seq };
      e.pendingReset = null;
      e.lastRecovery = ev.seq;
      break;
    case VFIO_EEH_PE_CONFIGURE:
      e.lastConfigure = ev.seq;
      e.lastRecovery = ev.seq;
      break;
    case VFIO_EEH_PE_UNFREEZE_IO:
    case VFIO_EEH_PE_UNFREEZE_DMA:
    case VFIO_EEH_PE_ENABLE:
      e.lastRecovery = ev.seq;
      break;
    default:
      break;
  }
}

/** What a group call does to its group (`ok`: the kernel accepted it). */
type GroupCall = (m: ModelView, ev: DecodedIoctl, g: GroupState, proc: ProcessState, ok: boolean) => void;

/** The group calls the model follows. */
export const GROUP_CALLS: IoctlTable<GroupCall> = ioctlTable<GroupCall>({
  VFIO_GROUP_SET_CONTAINER: (m, ev, g, proc, ok) => {
    const v = scalarPayload(ev.in);
    if (v === undefined) return;
    const tfd = Number(BigInt.asIntN(32, v));
    let target = m.lookup(proc.pid, tfd);
    if (!target || (target.kind !== 'container' && target.kind !== 'iommufd')) {
      // The fd has not been seen yet: assume a container until its first own ioctl says otherwise.
      const entry = m.openFd(proc, tfd, 'container', '', ev.seq, null);
      target = m.objects.get(entry.objectId)!;
    }
    if (target.kind !== 'container' && target.kind !== 'iommufd') return;
    // A failed second SET_CONTAINER (EINVAL: already set) does not undo the first.
    if (g.container?.ok && !ok) return;
    const a = attemptOf(ev);
    g.container = { ...a, targetId: target.id, targetFd: tfd };
    target.groups.set(g.id, a);
  },
  VFIO_GROUP_UNSET_CONTAINER: (m, _ev, g, _proc, ok) => {
    if (!ok || !g.container) return;
    const t = m.groupTarget(g);
    t?.groups.delete(g.id);
    g.container = null;
    // The last group leaving releases the backend: a new VFIO_SET_IOMMU is then legitimate.
    if (t?.kind === 'container' && ![...t.groups.values()].some((a) => a.ok)) {
      t.iommu = null;
      t.backend = null;
    }
  },
  VFIO_GROUP_GET_DEVICE_FD: (m, ev, g, proc, ok) => {
    if (!ok) return;
    const fd = ev.ret.newFd?.fd ?? ev.ret.value;
    const entry = m.openFd(proc, fd, 'device', '', ev.seq, ev.seq);
    const d = m.get(entry.objectId, 'device');
    if (!d) return;
    d.groupId = g.id;
    d.via = 'group';
    d.name = ev.in?.text ?? getField(ev.in, '')?.text ?? null;
    g.devices.push(d.id);
  },
});

export function onGroup(m: ModelView, ev: DecodedIoctl, name: string, g: GroupState, proc: ProcessState): void {
  GROUP_CALLS.get(name)?.(m, ev, g, proc, succeeded(ev));
}
