// How device and iommufd calls change the session model (SessionModel.commit
// dispatches here by fd kind).

import type { DecodedIoctl } from '../decode/types.js';
import { DmaSpace } from './dma.js';
import { arrayValues, inNumber, inValue, outNumber, outValue } from './fields.js';
import { attemptOf, recordMap, succeeded } from './outcome.js';
import type { DeviceState, IoasState, IommufdState, IrqState, ProcessState, ModelView } from './state.js';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../../decoders/irqs.js';

const U64_MAX = (1n << 64n) - 1n;

export function onDevice(m: ModelView, ev: DecodedIoctl, name: string, d: DeviceState, proc: ProcessState): void {
  const ok = succeeded(ev);
  switch (name) {
    case 'VFIO_DEVICE_GET_INFO':
      if (ok)
        d.info = {
          seq: ev.seq,
          flags: outNumber(ev, 'flags') ?? 0,
          numRegions: outNumber(ev, 'num_regions') ?? 0,
          numIrqs: outNumber(ev, 'num_irqs') ?? 0,
        };
      break;
    case 'VFIO_DEVICE_GET_REGION_INFO': {
      const index = inNumber(ev, 'index');
      if (!ok || index === undefined) break;
      d.regions.set(index, {
        index,
        seq: ev.seq,
        flags: outNumber(ev, 'flags') ?? 0,
        size: outValue(ev, 'size') ?? 0n,
        offset: outValue(ev, 'offset') ?? 0n,
        capOffset: outNumber(ev, 'cap_offset') ?? 0,
      });
      break;
    }
    case 'VFIO_DEVICE_GET_IRQ_INFO': {
      const index = inNumber(ev, 'index');
      if (!ok || index === undefined) break;
      irqOf(d, index).info = { seq: ev.seq, flags: outNumber(ev, 'flags') ?? 0, count: outNumber(ev, 'count') ?? 0 };
      break;
    }
    case 'VFIO_DEVICE_SET_IRQS':
      applySetIrqs(ev, d);
      break;
    case 'VFIO_DEVICE_BIND_IOMMUFD': {
      if (d.bind?.ok && !ok) break;
      const iommufdFd = inNumber(ev, 'iommufd') ?? -1;
      d.bind = { ...attemptOf(ev), iommufdFd, devid: ok ? (outNumber(ev, 'out_devid') ?? null) : null };
      break;
    }
    case 'VFIO_DEVICE_ATTACH_IOMMUFD_PT': {
      if (d.attach?.ok && !ok) break;
      const ptId = (ok ? outNumber(ev, 'pt_id') : undefined) ?? inNumber(ev, 'pt_id') ?? 0;
      d.attach = { ...attemptOf(ev), ptId };
      break;
    }
    case 'VFIO_DEVICE_DETACH_IOMMUFD_PT':
      if (ok) d.attach = null;
      break;
    case 'VFIO_DEVICE_FEATURE': {
      const nf = ev.ret.newFd;
      if (ok && nf && nf.kind === 'migration') {
        const entry = m.openFd(proc, nf.fd, 'migration', '', ev.seq, ev.seq);
        const mig = m.get(entry.objectId, 'migration');
        if (mig) {
          mig.deviceId = d.id;
          mig.seq = ev.seq;
          d.migrationFds.push(mig.id);
        }
      }
      break;
    }
    default:
      break;
  }
}

export function onIommufd(ev: DecodedIoctl, name: string, f: IommufdState): void {
  const ok = succeeded(ev);
  switch (name) {
    case 'IOMMU_IOAS_ALLOC': {
      const id = ok ? outNumber(ev, 'out_ioas_id') : undefined;
      if (id !== undefined) ioasOf(f, id, ev.seq);
      break;
    }
    case 'IOMMU_DESTROY': {
      const id = inNumber(ev, 'id');
      if (ok && id !== undefined) f.ioas.delete(id);
      break;
    }
    case 'IOMMU_IOAS_IOVA_RANGES': {
      const id = inNumber(ev, 'ioas_id');
      const align = outValue(ev, 'out_iova_alignment');
      if (ok && id !== undefined && align !== undefined) ioasOf(f, id, ev.seq).iovaAlignment = align;
      break;
    }
    case 'IOMMU_IOAS_MAP':
    case 'IOMMU_IOAS_MAP_FILE': {
      const id = inNumber(ev, 'ioas_id');
      if (id === undefined) break;
      const iova = (ok ? outValue(ev, 'iova') : undefined) ?? inValue(ev, 'iova');
      recordMap(ioasOf(f, id, ev.seq).dma, ev, iova, inValue(ev, 'length'), inValue(ev, 'user_va') ?? null);
      break;
    }
    case 'IOMMU_IOAS_UNMAP': {
      const id = inNumber(ev, 'ioas_id');
      const iova = inValue(ev, 'iova');
      const length = inValue(ev, 'length');
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
