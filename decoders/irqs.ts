// VFIO_DEVICE_SET_IRQS: a 20-byte header followed by one element per vector,
// whose type the DATA_* flag picks (none, bool u8, eventfd s32).

import { enumOf, flags, flex, i, struct, u32, u8, s32 } from '../src/decode/dsl.js';
import { ioctl, vfio, family, withErrnoDefaults } from '../src/decode/ioctlDesc.js';
import { argszIn, named, DEVICE_FD_ERRNOS } from './common.js';
import { IRQ_INDEXES } from './device.js';

export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
export const VFIO_IRQ_SET_DATA_TYPE_MASK = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

export const vfio_irq_set = struct('vfio_irq_set', [
  argszIn,
  i('flags', u32, flags(named({
    VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD,
    VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_TRIGGER,
  }))),
  i('index', u32, enumOf(IRQ_INDEXES)),
  i('start', u32),
  i('count', u32),
  i('data', flex(u8, 'count', (v) => {
    const f = v.flags ?? 0;
    const n = v.count ?? 0;
    if ((f & VFIO_IRQ_SET_DATA_BOOL) !== 0) return { type: u8, count: n, ctype: '__u8[]' };
    // Each eventfd is an __s32 fd; -1 de-assigns the vector.
    if ((f & VFIO_IRQ_SET_DATA_EVENTFD) !== 0) return { type: s32, count: n, ctype: '__s32[]' };
    return null;
  })),
]);

/** Bytes per data element for a flags word (0 for DATA_NONE or an invalid mix). */
export function irqElementSize(f: number): number {
  const d = f & VFIO_IRQ_SET_DATA_TYPE_MASK;
  return d === VFIO_IRQ_SET_DATA_BOOL ? 1 : d === VFIO_IRQ_SET_DATA_EVENTFD ? 4 : 0;
}

const F = 'irqs';

export const irqs = family({
  name: F,
  structs: [vfio_irq_set],
  ioctls: withErrnoDefaults(DEVICE_FD_ERRNOS, [
    ioctl(F, {
      name: 'VFIO_DEVICE_SET_IRQS',
      nr: vfio(10),
      fdKinds: ['device'],
      arg: { kind: 'struct', type: vfio_irq_set },
      errnos: {
        EINVAL: 'argsz < 20 or too small for count elements, unknown or several DATA bits, index/start/count out of range',
        ENOTTY: 'unsupported index/action combination, or several ACTION bits',
      },
      check: (c) => {
        const f = c.in.flags ?? 0;
        const d = f & VFIO_IRQ_SET_DATA_TYPE_MASK;
        const a = f & VFIO_IRQ_SET_ACTION_TYPE_MASK;
        if (d !== VFIO_IRQ_SET_DATA_NONE && d !== VFIO_IRQ_SET_DATA_BOOL && d !== VFIO_IRQ_SET_DATA_EVENTFD) c.add('set-irqs-data-flags', 'error', 'flags need exactly one VFIO_IRQ_SET_DATA_* bit (the kernel answers EINVAL)', 'flags');
        if (a !== VFIO_IRQ_SET_ACTION_MASK && a !== VFIO_IRQ_SET_ACTION_UNMASK && a !== VFIO_IRQ_SET_ACTION_TRIGGER) c.add('set-irqs-action-flags', 'error', 'flags need exactly one VFIO_IRQ_SET_ACTION_* bit (the kernel answers ENOTTY)', 'flags');
        const es = irqElementSize(f);
        const count = c.in.count ?? 0;
        if (es > 0 && c.argsz >= 20 && count * es > c.argsz - 20) {
          c.add('set-irqs-payload-short', 'error', `count ${count} × ${es} bytes needs argsz ≥ ${20 + count * es}, got ${c.argsz} (the kernel answers EINVAL)`, 'count');
        }
      },
    }),
  ]),
});
