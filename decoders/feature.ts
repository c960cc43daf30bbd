// VFIO_DEVICE_FEATURE: an 8-byte header whose flags carry the feature index
// (low 16 bits) and GET/SET/PROBE, followed by the feature's payload.

import { au64, custom, enumOf, flags, flex, hex, i, io, rsv, s32, struct, u32, u8, uuid, dec, fdDisplay, ptrDisplay, type FlexShape, type StructType, type Type } from '../src/decode/dsl.js';
import { ioctl, vfio, withErrnoDefaults, family } from '../src/decode/ioctlDesc.js';
import { argszIn, named, DEVICE_FD_ERRNOS } from './common.js';
import { flagsText } from '../src/decode/format.js';

export const VFIO_DEVICE_FEATURE_MASK = 0xffff;
export const VFIO_DEVICE_FEATURE_GET = 1 << 16;
export const VFIO_DEVICE_FEATURE_SET = 1 << 17;
export const VFIO_DEVICE_FEATURE_PROBE = 1 << 18;

// Feature indexes (the low 16 bits of flags).
export const VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0;
export const VFIO_DEVICE_FEATURE_MIGRATION = 1;
export const VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4;
export const VFIO_DEVICE_FEATURE_LOW_POWER_EXIT = 5;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8;
export const VFIO_DEVICE_FEATURE_MIG_DATA_SIZE = 9;
export const VFIO_DEVICE_FEATURE_BUS_MASTER = 10;
export const VFIO_DEVICE_FEATURE_DMA_BUF = 11;

/** Feature names in index order (0–11, so an index picks its name). */
export const FEATURES: readonly string[] = named({
  VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, VFIO_DEVICE_FEATURE_MIGRATION, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_START, VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, VFIO_DEVICE_FEATURE_BUS_MASTER, VFIO_DEVICE_FEATURE_DMA_BUF,
}).map(([n]) => n);

const OP_BITS = named({ VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_SET, VFIO_DEVICE_FEATURE_PROBE });

/** "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE|VFIO_DEVICE_FEATURE_SET" */
const featureFlags = custom((v) => {
  const n = Number(v);
  const idx = n & VFIO_DEVICE_FEATURE_MASK;
  const ops = flagsText(OP_BITS, n & ~VFIO_DEVICE_FEATURE_MASK);
  return `${FEATURES[idx] ?? String(idx)}${ops === '0' ? '' : `|${ops}`}`;
});

export const MIG_STATES = [
  ['VFIO_DEVICE_STATE_ERROR', 0],
  ['VFIO_DEVICE_STATE_STOP', 1],
  ['VFIO_DEVICE_STATE_RUNNING', 2],
  ['VFIO_DEVICE_STATE_STOP_COPY', 3],
  ['VFIO_DEVICE_STATE_RESUMING', 4],
  ['VFIO_DEVICE_STATE_RUNNING_P2P', 5],
  ['VFIO_DEVICE_STATE_PRE_COPY', 6],
  ['VFIO_DEVICE_STATE_PRE_COPY_P2P', 7],
] as const;

// Payload fields are inout: SET reads them, GET writes them; `changed` tells which.
export const vfio_device_feature_migration = struct('vfio_device_feature_migration', [
  io('flags', au64, flags([
    ['VFIO_MIGRATION_STOP_COPY', 1 << 0],
    ['VFIO_MIGRATION_P2P', 1 << 1],
    ['VFIO_MIGRATION_PRE_COPY', 1 << 2],
  ])),
]);

export const vfio_device_feature_mig_state = struct('vfio_device_feature_mig_state', [
  io('device_state', u32, enumOf(MIG_STATES)),
  // The kernel hands a new migration data fd back here (or -1).
  io('data_fd', s32, fdDisplay),
]);

export const vfio_device_low_power_entry_with_wakeup = struct('vfio_device_low_power_entry_with_wakeup', [
  io('wakeup_eventfd', s32, fdDisplay),
  rsv('reserved', u32),
]);

export const vfio_device_feature_dma_logging_control = struct('vfio_device_feature_dma_logging_control', [
  io('page_size', au64, hex),
  io('num_ranges', u32),
  rsv('__reserved', u32),
  io('ranges', au64, ptrDisplay),
]);

export const vfio_device_feature_dma_logging_range = struct('vfio_device_feature_dma_logging_range', [
  i('iova', au64, hex),
  i('length', au64, hex),
]);

export const vfio_device_feature_dma_logging_report = struct('vfio_device_feature_dma_logging_report', [
  io('iova', au64, hex),
  io('length', au64, hex),
  io('page_size', au64, hex),
  io('bitmap', au64, ptrDisplay),
]);

export const vfio_device_feature_mig_data_size = struct('vfio_device_feature_mig_data_size', [io('stop_copy_length', au64, dec)]);

export const vfio_device_feature_bus_master = struct('vfio_device_feature_bus_master', [
  io('op', u32, enumOf([
    ['VFIO_DEVICE_FEATURE_CLEAR_MASTER', 0],
    ['VFIO_DEVICE_FEATURE_SET_MASTER', 1],
  ])),
]);

export const vfio_region_dma_range = struct('vfio_region_dma_range', [io('offset', au64, hex), io('length', au64, hex)]);

export const vfio_device_feature_dma_buf = struct('vfio_device_feature_dma_buf', [
  io('region_index', u32),
  io('open_flags', u32, hex),
  io('flags', u32, flags([])),
  io('nr_ranges', u32),
  io('dma_ranges', flex(vfio_region_dma_range, 'nr_ranges')),
]);

/** Payload type per feature index; null = no payload. */
const PAYLOADS: readonly (Type | null)[] = [
  uuid,
  vfio_device_feature_migration,
  vfio_device_feature_mig_state,
  null,
  vfio_device_low_power_entry_with_wakeup,
  null,
  vfio_device_feature_dma_logging_control,
  null,
  vfio_device_feature_dma_logging_report,
  vfio_device_feature_mig_data_size,
  vfio_device_feature_bus_master,
  vfio_device_feature_dma_buf,
];

function payload(v: Record<string, number>): FlexShape | null {
  const f = v.flags ?? 0;
  if ((f & VFIO_DEVICE_FEATURE_PROBE) !== 0) return null; // PROBE never touches the data
  const idx = f & VFIO_DEVICE_FEATURE_MASK;
  // A feature this decoder does not know: its payload as raw bytes.
  if (idx >= PAYLOADS.length) return { type: u8, count: null, ctype: '__u8[]' };
  const t = PAYLOADS[idx];
  if (!t) return null;
  const ctype = t.kind === 'uuid' ? '__u8[16]' : `struct ${(t as StructType).name}`;
  return { type: t, count: 1, single: true, ctype };
}

export const vfio_device_feature = struct('vfio_device_feature', [
  argszIn,
  i('flags', u32, featureFlags),
  io('data', flex(u8, 'argsz', payload)),
]);

const F = 'feature';

export const feature = family({
  name: F,
  structs: [vfio_device_feature_dma_logging_range, ...PAYLOADS.filter((t): t is StructType => t !== null && t.kind === 'struct')],
  ioctls: withErrnoDefaults(DEVICE_FD_ERRNOS, [
    ioctl(F, {
      name: 'VFIO_DEVICE_FEATURE',
      nr: vfio(17),
      fdKinds: ['device'],
      arg: { kind: 'struct', type: vfio_device_feature },
      // GET fills the payload; a SET writes back only MIG_DEVICE_STATE (data_fd,
      // even when it fails) and DMA_LOGGING_START (the chosen page_size).
      writes: (v, r) => {
        const f = v.flags ?? 0;
        const idx = f & VFIO_DEVICE_FEATURE_MASK;
        if ((f & VFIO_DEVICE_FEATURE_PROBE) !== 0) return false;
        if (idx === VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE) return true;
        if (r < 0) return false;
        return (f & VFIO_DEVICE_FEATURE_GET) !== 0 || idx === VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
      },
      ret: (r, c) => {
        const f = c.in.flags ?? 0;
        const idx = f & VFIO_DEVICE_FEATURE_MASK;
        const name = FEATURES[idx] ?? `feature ${idx}`;
        if ((f & VFIO_DEVICE_FEATURE_PROBE) !== 0) return { meaning: `${name} supported` };
        if (idx === VFIO_DEVICE_FEATURE_DMA_BUF && r > 0) return { meaning: `new dma-buf fd ${r}`, newFd: { fd: r, kind: 'dmabuf' } };
        const dfd = c.out?.['data.data_fd'];
        if (idx === VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE && dfd !== undefined && dfd >= 0) {
          return { meaning: `success; migration data fd ${dfd}`, newFd: { fd: dfd, kind: 'migration' } };
        }
        return { meaning: r === 0 ? 'success' : `returned ${r}` };
      },
      errnos: {
        EINVAL: 'unknown flag bits, GET and SET without PROBE, an op the feature lacks, or a payload smaller than the feature needs',
        ENOTTY: 'the device does not have this feature',
        EOPNOTSUPP: 'DMA_BUF not supported by this device',
        ENODEV: 'DMA_BUF asked for a region that is not a BAR',
        E2BIG: 'DMA_LOGGING_START with too many ranges',
      },
      check: (c) => {
        const f = c.in.flags ?? 0;
        const known = VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PROBE;
        if ((f & ~known) !== 0) c.add('unknown-flags', 'warning', `flags has bits the kernel does not define: 0x${((f & ~known) >>> 0).toString(16)}`, 'flags');
        if ((f & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) === (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET) && (f & VFIO_DEVICE_FEATURE_PROBE) === 0) {
          c.add('feature-get-and-set', 'error', 'GET and SET together need PROBE (the kernel answers EINVAL)', 'flags');
        }
        if ((f & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) === 0) c.add('feature-no-op', 'error', 'neither GET nor SET is set (the kernel answers EINVAL)', 'flags');
        const t = PAYLOADS[f & VFIO_DEVICE_FEATURE_MASK];
        if ((f & VFIO_DEVICE_FEATURE_PROBE) === 0 && t && c.argsz >= 8 && c.argsz - 8 < t.size) {
          c.add('feature-payload-short', 'error', `${FEATURES[f & VFIO_DEVICE_FEATURE_MASK]} needs ${t.size} payload bytes, argsz leaves ${c.argsz - 8}`, 'argsz');
        }
      },
    }),
  ]),
});
