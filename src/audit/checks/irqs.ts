// SET_IRQS against what GET_IRQ_INFO said the index can do.

import type { DecodedIoctl } from '../../decode/types.js';
import { inNumber } from '../../model/fields.js';
import type { EventContext } from '../../model/session.js';
import { isIoctl } from '../../model/ioctlName.js';
import { VFIO_IRQ_INFO_EVENTFD } from '../../../decoders/device.js';
import { VFIO_IRQ_SET_DATA_EVENTFD } from '../../../decoders/irqs.js';
import * as R from '../rules.js';
import type { Check, Reporter } from '../types.js';

export function irqChecks(): Check {
  return {
    before(ev: DecodedIoctl, ctx: EventContext, r: Reporter): void {
      if (!isIoctl(ev.ioctl, 'VFIO_DEVICE_SET_IRQS') || ctx.obj.kind !== 'device') return;
      const index = inNumber(ev, 'index');
      const flags = inNumber(ev, 'flags');
      const start = inNumber(ev, 'start') ?? 0;
      const count = inNumber(ev, 'count') ?? 0;
      if (index === undefined || flags === undefined) return;
      const info = ctx.obj.irqs.get(index)?.info;
      if (!info) return;
      const at = { seq: ev.seq, pid: ev.pid };
      const events = [info.seq, ev.seq];
      if (info.count === 0) {
        r.report(R.SET_IRQS_UNSUPPORTED, at, events, `IRQ index ${index} has count 0 (VFIO_DEVICE_GET_IRQ_INFO #${info.seq})`);
      } else if (flags & VFIO_IRQ_SET_DATA_EVENTFD && !(info.flags & VFIO_IRQ_INFO_EVENTFD)) {
        r.report(R.SET_IRQS_UNSUPPORTED, at, events, `DATA_EVENTFD on IRQ index ${index}, which lacks VFIO_IRQ_INFO_EVENTFD (#${info.seq})`);
      } else if (start >= info.count || start + count > info.count) {
        r.report(
          R.SET_IRQS_UNSUPPORTED,
          at,
          events,
          `vectors ${start}..${start + count - 1} outside the ${info.count} of IRQ index ${index} (#${info.seq})`,
        );
      }
    },
  };
}
