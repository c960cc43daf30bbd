// "Buffer too small" capability replies: the kernel succeeded, raised argsz
// and set cap_offset 0; the caller should call again with the larger size.

import type { DecodedIoctl } from '../../decode/types.js';
import { inNumber, outNumber } from '../../model/fields.js';
import { succeeded, type EventContext } from '../../model/session.js';
import { ioctlTable, isIoctl } from '../../model/ioctlName.js';
import { VFIO_DEVICE_FLAGS_CAPS, VFIO_REGION_INFO_FLAG_CAPS } from '../../../decoders/device.js';
import { VFIO_IOMMU_INFO_CAPS } from '../../../decoders/type1.js';
import * as R from '../rules.js';
import type { Check, Reporter } from '../types.js';

/** The INFO ioctls with a capability chain, and the flag that says the reply has one. */
const CAPS_FLAG = ioctlTable<number>({
  VFIO_DEVICE_GET_INFO: VFIO_DEVICE_FLAGS_CAPS,
  VFIO_DEVICE_GET_REGION_INFO: VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_IOMMU_GET_INFO: VFIO_IOMMU_INFO_CAPS,
});

interface Pending {
  seq: number;
  pid: number;
  fd: number;
  ioctl: string;
  index: number | null;
  given: number;
  needed: number;
}

export function capsChecks(): Check {
  const pending = new Map<string, Pending>();
  return {
    after(ev: DecodedIoctl, ctx: EventContext): void {
      const name = ev.ioctl;
      if (name === null) return;
      const flag = CAPS_FLAG.get(name);
      if (flag === undefined) return;
      const index = isIoctl(name, 'VFIO_DEVICE_GET_REGION_INFO') ? (inNumber(ev, 'index') ?? null) : null;
      const key = `${ctx.obj.id}:${name}:${index ?? ''}`;
      const given = inNumber(ev, 'argsz');
      if (given === undefined) return;
      const prev = pending.get(key);
      if (prev && given >= prev.needed) pending.delete(key);
      if (!succeeded(ev)) return;
      const needed = outNumber(ev, 'argsz');
      const flags = outNumber(ev, 'flags') ?? 0;
      const capOffset = outNumber(ev, 'cap_offset');
      if (needed !== undefined && needed > given && flags & flag && capOffset === 0) {
        pending.set(key, { seq: ev.seq, pid: ev.pid, fd: ev.fd, ioctl: name, index, given, needed });
      }
    },
    end(r: Reporter): void {
      for (const p of pending.values()) {
        const what = p.index === null ? p.ioctl : `${p.ioctl} index ${p.index}`;
        r.report(
          R.CAPS_REPLY_NOT_RETRIED,
          { seq: p.seq, pid: p.pid },
          [p.seq],
          `${what} on fd ${p.fd}: argsz ${p.given} too small for the capabilities, kernel asked for ${p.needed}; never called again with that size`,
        );
      }
      pending.clear();
    },
  };
}
