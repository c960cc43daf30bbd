// VFIO_EEH_PE_OP: EEH error recovery on POWER, issued on a container fd with
// the sPAPR TCE backend. The kernel reads 12 bytes (40 for INJECT_ERR),
// writes nothing back, and GET_STATE answers with the state as the return value.

import { enumOf, hex, i, struct, u32, u64, union } from '../src/decode/dsl.js';
import { ioctl, vfio, family, type Backend } from '../src/decode/ioctlDesc.js';
import { argszIn, named } from './common.js';

export const VFIO_EEH_PE_DISABLE = 0;
export const VFIO_EEH_PE_ENABLE = 1;
export const VFIO_EEH_PE_UNFREEZE_IO = 2;
export const VFIO_EEH_PE_UNFREEZE_DMA = 3;
export const VFIO_EEH_PE_GET_STATE = 4;
export const VFIO_EEH_PE_RESET_DEACTIVATE = 5;
export const VFIO_EEH_PE_RESET_HOT = 6;
export const VFIO_EEH_PE_RESET_FUNDAMENTAL = 7;
export const VFIO_EEH_PE_CONFIGURE = 8;
export const VFIO_EEH_PE_INJECT_ERR = 9;

/** The ops in value order (0–9, so a value indexes it). */
export const EEH_OPS = named({
  VFIO_EEH_PE_DISABLE, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_UNFREEZE_IO, VFIO_EEH_PE_UNFREEZE_DMA, VFIO_EEH_PE_GET_STATE,
  VFIO_EEH_PE_RESET_DEACTIVATE, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_RESET_FUNDAMENTAL, VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_INJECT_ERR,
});

// GET_STATE answers: a separate namespace from the ops (5 is both RESET_DEACTIVATE and UNAVAIL).
export const VFIO_EEH_PE_STATE_NORMAL = 0;
export const VFIO_EEH_PE_STATE_RESET = 1;
export const VFIO_EEH_PE_STATE_STOPPED = 2;
export const VFIO_EEH_PE_STATE_STOPPED_DMA = 4;
export const VFIO_EEH_PE_STATE_UNAVAIL = 5;

export const EEH_STATES = named({
  VFIO_EEH_PE_STATE_NORMAL, VFIO_EEH_PE_STATE_RESET, VFIO_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_STOPPED_DMA, VFIO_EEH_PE_STATE_UNAVAIL,
});

// Error types and functions are the platform's (asm/eeh.h on powerpc).
export const EEH_ERR_TYPES = [
  ['EEH_ERR_TYPE_32', 0],
  ['EEH_ERR_TYPE_64', 1],
] as const;

export const EEH_ERR_FUNCS = [
  'LD_MEM_ADDR', 'LD_MEM_DATA', 'LD_IO_ADDR', 'LD_IO_DATA', 'LD_CFG_ADDR', 'LD_CFG_DATA',
  'ST_MEM_ADDR', 'ST_MEM_DATA', 'ST_IO_ADDR', 'ST_IO_DATA', 'ST_CFG_ADDR', 'ST_CFG_DATA',
  'DMA_RD_ADDR', 'DMA_RD_DATA', 'DMA_RD_MASTER', 'DMA_RD_TARGET',
  'DMA_WR_ADDR', 'DMA_WR_DATA', 'DMA_WR_MASTER', 'DMA_WR_TARGET',
].map((n, k) => [`EEH_ERR_FUNC_${n}`, k] as const);


export const vfio_eeh_pe_err = struct('vfio_eeh_pe_err', [
  i('type', u32, enumOf(EEH_ERR_TYPES)),
  i('func', u32, enumOf(EEH_ERR_FUNCS)),
  i('addr', u64, hex),
  i('mask', u64, hex),
]);

export const vfio_eeh_pe_op = struct('vfio_eeh_pe_op', [
  argszIn,
  // Must be 0; shown in hex and checked by eeh-flags-nonzero.
  i('flags', u32, hex),
  i('op', u32, enumOf(EEH_OPS)),
  i('', union('', [i('err', vfio_eeh_pe_err, { when: (v) => v.op === VFIO_EEH_PE_INJECT_ERR })])),
]);

/**
 * What the kernel's EEH core does per op, hence why it fails (the op-independent
 * reasons, ENODEV, EPERM, EINVAL for argsz/flags, are in `errnos`). DISABLE and
 * CONFIGURE only fail for those; GET_STATE returns the state or ENOENT.
 */
const EEH_OP_ERRNOS: Readonly<Record<number, Readonly<Record<string, string>>>> = {
  [VFIO_EEH_PE_ENABLE]: {
    EIO: 'ENABLE while EEH is globally disabled',
  },
  [VFIO_EEH_PE_UNFREEZE_IO]: {
    ENOENT: 'the platform has no operation to thaw a PE',
    EIO: 'the platform (firmware) failed to thaw MMIO for the PE; it stays frozen',
  },
  [VFIO_EEH_PE_UNFREEZE_DMA]: {
    ENOENT: 'the platform has no operation to thaw a PE',
    EIO: 'the platform (firmware) failed to thaw DMA for the PE; it stays frozen',
  },
  [VFIO_EEH_PE_GET_STATE]: {
    ENOENT: 'the platform has no PE state operation',
  },
  [VFIO_EEH_PE_RESET_DEACTIVATE]: {
    ENOENT: 'the platform has no PE reset operation',
    EIO: 'the platform (firmware) failed to release the reset, or the devices could not be re-enabled or thawed after it',
  },
  [VFIO_EEH_PE_RESET_HOT]: {
    ENOENT: 'the platform has no PE reset operation',
    EIO: 'the platform (firmware) failed the hot reset; the PE is left frozen',
  },
  [VFIO_EEH_PE_RESET_FUNDAMENTAL]: {
    ENOENT: 'the platform has no PE reset operation',
    EIO: 'the platform (firmware) failed the fundamental reset; the PE is left frozen',
  },
  [VFIO_EEH_PE_INJECT_ERR]: {
    ENOENT: 'the platform has no error injection',
    EINVAL: 'argsz < 40, err.func outside 0–19, or an err.type the platform refuses',
    EFAULT: 'the err union (argsz ≥ 40) could not be read',
    EIO: 'the platform (firmware) refused the error injection',
  },
};

function eehErrnoWhy(errno: string, op: number | undefined): string | undefined {
  if (op === undefined) return undefined;
  if (errno === 'EINVAL' && op > VFIO_EEH_PE_INJECT_ERR) return `op ${op} is not a VFIO_EEH_PE_* op`;
  return EEH_OP_ERRNOS[op]?.[errno];
}

const SPAPR: readonly Backend[] = ['spapr-v1', 'spapr-v2'];
const stateName = (r: number): string => EEH_STATES.find(([, v]) => v === r)?.[0] ?? `unknown state ${r}`;
const F = 'eeh';

export const eeh = family({
  name: F,
  structs: [vfio_eeh_pe_op, vfio_eeh_pe_err],
  ioctls: [
    ioctl(F, {
      name: 'VFIO_EEH_PE_OP',
      nr: vfio(21),
      fdKinds: ['container'],
      backends: SPAPR,
      arg: { kind: 'struct', type: vfio_eeh_pe_op },
      minszEnd: 'op',
      ret: (r, c) => {
        if (c.in.op === VFIO_EEH_PE_GET_STATE) return { meaning: `PE state ${stateName(r)}` };
        return { meaning: r === 0 ? 'success' : `returned ${r}` };
      },
      errnos: {
        EINVAL: 'argsz < 12 or flags != 0, unknown op, INJECT_ERR with argsz < 40 or a bad type/func',
        EPERM: "the caller's mm is not the container's",
        ENODEV: 'no EEH PE for a group in the container',
        EIO: 'the platform failed the operation',
        ENOENT: 'the platform lacks this operation',
        ENOTTY: 'the container has no sPAPR TCE backend',
      },
      errnoWhy: (errno, v) => eehErrnoWhy(errno, v.op),
      check: (c) => {
        const f = c.in.flags;
        if (f !== undefined && f !== 0) c.add('eeh-flags-nonzero', 'error', `flags must be 0 but is 0x${(f >>> 0).toString(16)} (the kernel answers EINVAL)`, 'flags');
        const op = c.in.op;
        if (op !== undefined && op > VFIO_EEH_PE_INJECT_ERR) c.add('eeh-op-unknown', 'error', `op ${op} is not a VFIO_EEH_PE_* op (the kernel answers EINVAL)`, 'op');
        if (op === VFIO_EEH_PE_INJECT_ERR) {
          if (c.argsz < 40) c.add('eeh-inject-argsz', 'error', `INJECT_ERR needs argsz ≥ 40 for the err union, got ${c.argsz}`, 'argsz');
          const fn = c.in['err.func'];
          if (fn !== undefined && fn >= EEH_ERR_FUNCS.length) c.add('eeh-inject-func', 'error', `err.func ${fn} is outside 0–19`, 'err.func');
          const ty = c.in['err.type'];
          if (ty !== undefined && ty >= EEH_ERR_TYPES.length) c.add('eeh-inject-type', 'error', `err.type ${ty} is neither 32-bit (0) nor 64-bit (1)`, 'err.type');
        }
      },
    }),
  ],
});
