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

export function onContainer(ev: DecodedIoctl, name: string, c: ContainerState, proc: ProcessState): void {
  const ok = succeeded(ev);
  if (SPAPR_CALLS.has(name)) {
    if (ok) c.spapr = onSpapr(ev, name, c.spapr ?? newSpaprState());
    return;
  }
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
      if (choice.ok) {
        c.backend = choice;
        // A new IOMMU backend instance: no window or registration of an earlier one.
        c.spapr = null;
      }
      if (c.iommuHistory.length >= 16) c.iommuHistory.shift();
      c.iommuHistory.push(choice);
      break;
    }
    case 'VFIO_IOMMU_GET_INFO': {
      if (!ok) break;
      const flags = outNumber(ev, 'flags') ?? 0;
      const bitmap = outValue(ev, 'iova_pgsizes');
      if (flags & VFIO_IOMMU_INFO_PGSIZES && bitmap !== undefined) c.pgsizes = { seq: ev.seq, bitmap };
      break;
    }
    case 'VFIO_IOMMU_MAP_DMA': {
      const iova = inValue(ev, 'iova');
      const size = inValue(ev, 'size');
      // TCEs are overwritten, not refused: the new mapping replaces what was there.
      if (ok && hasTceSemantics(c) && iova !== undefined && size !== undefined) c.dma.unmap(iova, size);
      recordMap(c.dma, ev, iova, size, inValue(ev, 'vaddr'));
      break;
    }
    case 'VFIO_IOMMU_UNMAP_DMA': {
      if (!ok) break;
      const flags = inNumber(ev, 'flags') ?? 0;
      if (flags & VFIO_DMA_UNMAP_FLAG_ALL) c.dma.unmapAll();
      else {
        const iova = inValue(ev, 'iova');
        const size = inValue(ev, 'size');
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
      onEeh(ev, c);
      break;
    default:
      break;
  }
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

export function onGroup(m: ModelView, ev: DecodedIoctl, name: string, g: GroupState, proc: ProcessState): void {
  const ok = succeeded(ev);
  switch (name) {
    case 'VFIO_GROUP_SET_CONTAINER': {
      const v = scalarPayload(ev.in);
      if (v === undefined) break;
      const tfd = Number(BigInt.asIntN(32, v));
      let target = m.lookup(proc.pid, tfd);
      if (!target || (target.kind !== 'container' && target.kind !== 'iommufd')) {
        // The fd has not been seen yet: assume a container until its first own ioctl says otherwise.
        const entry = m.openFd(proc, tfd, 'container', '', ev.seq, null);
        target = m.objects.get(entry.objectId)!;
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
      const t = m.groupTarget(g);
      t?.groups.delete(g.id);
      g.container = null;
      // The last group leaving releases the backend: a new VFIO_SET_IOMMU is then legitimate.
      if (t?.kind === 'container' && ![...t.groups.values()].some((a) => a.ok)) {
        t.iommu = null;
        t.backend = null;
      }
      break;
    }
    case 'VFIO_GROUP_GET_DEVICE_FD': {
      if (!ok) break;
      const fd = ev.ret.newFd?.fd ?? ev.ret.value;
      const entry = m.openFd(proc, fd, 'device', '', ev.seq, ev.seq);
      const d = m.get(entry.objectId, 'device');
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
