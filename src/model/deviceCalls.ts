// How device and iommufd calls change the session model (SessionModel.commit
// dispatches here by fd kind).

import type { DecodedIoctl } from '../decode/types.js';
import { DmaSpace } from './dma.js';
import { arrayValues, inNumber, inValue, outNumber, outValue } from './fields.js';
import { attemptOf, recordMap, succeeded } from './outcome.js';
import type { DeviceState, IoasState, IommufdState, IrqState, ProcessState, ModelView } from './state.js';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../../decoders/irqs.js';
import { ioctlTable, type IoctlTable } from './ioctlName.js';

const U64_MAX = (1n << 64n) - 1n;

/** What a device call does to its device (`ok`: the kernel accepted it). */
type DeviceCall = (m: ModelView, ev: DecodedIoctl, d: DeviceState, proc: ProcessState, ok: boolean) => void;

/** The device calls the model follows (group-path and cdev device fds alike). */
export const DEVICE_CALLS: IoctlTable<DeviceCall> = ioctlTable<DeviceCall>({
  VFIO_DEVICE_GET_INFO: (_m, ev, d, _proc, ok) => {
    if (ok)
      d.info = {
        seq: ev.seq,
        flags: outNumber(ev, 'flags') ?? 0,
        numRegions: outNumber(ev, 'num_regions') ?? 0,
        numIrqs: outNumber(ev, 'num_irqs') ?? 0,
      };
  },
  VFIO_DEVICE_GET_REGION_INFO: (_m, ev, d, _proc, ok) => {
    const index = inNumber(ev, 'index');
    if (!ok || index === undefined) return;
    d.regions.set(index, {
      index,
      seq: ev.seq,
      flags: outNumber(ev, 'flags') ?? 0,
      size: outValue(ev, 'size') ?? 0n,
      offset: outValue(ev, 'offset') ?? 0n,
      capOffset: outNumber(ev, 'cap_offset') ?? 0,
    });
  },
  VFIO_DEVICE_GET_IRQ_INFO: (_m, ev, d, _proc, ok) => {
    const index = inNumber(ev, 'index');
    if (!ok || index === undefined) return;
    irqOf(d, index).info = { seq: ev.seq, flags: outNumber(ev, 'flags') ?? 0, count: outNumber(ev, 'count') ?? 0 };
  },
  VFIO_DEVICE_SET_IRQS: (_m, ev, d) => applySetIrqs(ev, d),
  VFIO_DEVICE_BIND_IOMMUFD: (_m, ev, d, _proc, ok) => {
    if (d.bind?.ok && !ok) return;
    const iommufdFd = inNumber(ev, 'iommufd') ?? -1;
    d.bind = { ...attemptOf(ev), iommufdFd, devid: ok ? (outNumber(ev, 'out_devid') ?? null) : null };
  },
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: (_m, ev, d, _proc, ok) => {
    if (d.attach?.ok && !ok) return;
    const ptId = (ok ? outNumber(ev, 'pt_id') : undefined) ?? inNumber(ev, 'pt_id') ?? 0;
    d.attach = { ...attemptOf(ev), ptId };
  },
  VFIO_DEVICE_DETACH_IOMMUFD_PT: (_m, _ev, d, _proc, ok) => {
    if (ok) d.attach = null;
  },
  VFIO_DEVICE_FEATURE: (m, ev, d, proc, ok) => {
    const nf = ev.ret.newFd;
    if (!ok || !nf || nf.kind !== 'migration') return;
    const entry = m.openFd(proc, nf.fd, 'migration', '', ev.seq, ev.seq);
    const mig = m.get(entry.objectId, 'migration');
    if (mig) {
      mig.deviceId = d.id;
      mig.seq = ev.seq;
      d.migrationFds.push(mig.id);
    }
  },
});

export function onDevice(m: ModelView, ev: DecodedIoctl, name: string, d: DeviceState, proc: ProcessState): void {
  DEVICE_CALLS.get(name)?.(m, ev, d, proc, succeeded(ev));
}

/** What an iommufd command does to its context (`ok`: the kernel accepted it). */
type IommufdCall = (ev: DecodedIoctl, f: IommufdState, ok: boolean) => void;

/** The iommufd commands the model follows (its VFIO compat calls it does not). */
export const IOMMUFD_CALLS: IoctlTable<IommufdCall> = ioctlTable<IommufdCall>({
  IOMMU_IOAS_ALLOC: (ev, f, ok) => {
    const id = ok ? outNumber(ev, 'out_ioas_id') : undefined;
    if (id !== undefined) ioasOf(f, id, ev.seq);
  },
  IOMMU_DESTROY: (ev, f, ok) => {
    const id = inNumber(ev, 'id');
    if (ok && id !== undefined) f.ioas.delete(id);
  },
  IOMMU_IOAS_IOVA_RANGES: (ev, f, ok) => {
    const id = inNumber(ev, 'ioas_id');
    const align = outValue(ev, 'out_iova_alignment');
    if (ok && id !== undefined && align !== undefined) ioasOf(f, id, ev.seq).iovaAlignment = align;
  },
  IOMMU_IOAS_MAP: ioasMap,
  IOMMU_IOAS_MAP_FILE: ioasMap,
  IOMMU_IOAS_UNMAP: (ev, f, ok) => {
    const id = inNumber(ev, 'ioas_id');
    const iova = inValue(ev, 'iova');
    const length = inValue(ev, 'length');
    if (!ok || id === undefined || iova === undefined || length === undefined) return;
    const dma = ioasOf(f, id, ev.seq).dma;
    if (iova === 0n && length === U64_MAX) dma.unmapAll();
    else dma.unmap(iova, length);
  },
});

export function onIommufd(ev: DecodedIoctl, name: string, f: IommufdState): void {
  IOMMUFD_CALLS.get(name)?.(ev, f, succeeded(ev));
}

/** IOMMU_IOAS_MAP and IOMMU_IOAS_MAP_FILE: the same fields but the source (MAP_FILE has no user_va). */
function ioasMap(ev: DecodedIoctl, f: IommufdState, ok: boolean): void {
  const id = inNumber(ev, 'ioas_id');
  if (id === undefined) return;
  const iova = (ok ? outValue(ev, 'iova') : undefined) ?? inValue(ev, 'iova');
  recordMap(ioasOf(f, id, ev.seq).dma, ev, iova, inValue(ev, 'length'), inValue(ev, 'user_va') ?? null);
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

function applySetIrqs(ev: DecodedIoctl, d: DeviceState): void {
  const index = inNumber(ev, 'index');
  const flags = inNumber(ev, 'flags');
  const start = inNumber(ev, 'start');
  const count = inNumber(ev, 'count');
  if (index === undefined || flags === undefined || start === undefined || count === undefined) return;
  const irq = irqOf(d, index);
  irq.lastSet = { ...attemptOf(ev), flags, start, count };
  if (!succeeded(ev) || !(flags & VFIO_IRQ_SET_ACTION_TRIGGER)) return;
  if (flags & VFIO_IRQ_SET_DATA_NONE && count === 0) {
    irq.eventfds.clear();
    return;
  }
  if (!(flags & VFIO_IRQ_SET_DATA_EVENTFD)) return;
  const fds = arrayValues(ev.in, 'data');
  for (let i = 0; i < count && i < fds.length; i++) {
    const fd = Number(BigInt.asIntN(32, fds[i]!));
    if (fd < 0) irq.eventfds.delete(start + i);
    else irq.eventfds.set(start + i, fd);
  }
}
