// The description of one ioctl: its request, argument, directions, what its
// return value means and which errnos it documents. Struct layouts come from
// dsl.ts; decoders/ write one IoctlDesc per ioctl with `ioctl()`.

import type { FdKind } from './types.js';
import { offsetOfEnd, type Display, type StructType, type Vals } from './dsl.js';

/** IOMMU backends of a legacy container (the type passed to VFIO_SET_IOMMU). */
export type Backend = 'type1' | 'spapr-v1' | 'spapr-v2';

/** The third ioctl argument. */
export type ArgDesc =
  | { kind: 'none' }
  | { kind: 'int'; display: Display }
  | { kind: 'struct'; type: StructType }
  | { kind: 'fdptr' } // pointer to an __s32 fd
  | { kind: 'u32ptr'; name: string; display: Display } // pointer to a __u32
  | { kind: 'cstring' };

/** What a return value ≥ 0 means, and any fd it creates. */
export interface RetMeaning {
  meaning: string;
  newFd?: { fd: number; kind: FdKind };
}

/** Facts available when explaining a return value. */
export interface RetCtx {
  /** Top-level scalar values at entry (struct args) — by C field name. Read only (they may be shared). */
  in: Readonly<Vals>;
  /** Top-level scalar values at exit, when the kernel wrote the struct. */
  out: Readonly<Vals> | null;
  /** The integer argument (int args). */
  arg: number;
}

export type RetFn = (ret: number, c: RetCtx) => RetMeaning;

/** Read access to a call, for per-ioctl checks. */
export interface CheckCtx {
  readonly in: Readonly<Vals>;
  readonly out: Readonly<Vals> | null;
  readonly argsz: number;
  readonly ret: number;
  readonly errno: string | null;
  /** Bytes captured at entry. */
  readonly entry: Uint8Array;
  readonly view: DataView;
  readonly littleEndian: boolean;
  /** Whether the call completed. */
  readonly completed: boolean;
  add(rule: string, severity: 'info' | 'warning' | 'error', message: string, field?: string): void;
}

/**
 * `N` is the name as a literal type where a family file writes it, so the
 * names decoders/ describe add up to a union (decoders/index.ts `IoctlName`)
 * that code dispatching on names is checked against; elsewhere it is string.
 */
export interface IoctlDesc<N extends string = string> {
  /** Kernel name verbatim ("VFIO_EEH_PE_OP"). */
  name: N;
  /** _IOC_NR: VFIO_BASE (100) + N, or IOMMUFD_CMD_* (0x80 + k). */
  nr: number;
  family: string;
  fdKinds: readonly FdKind[];
  /** Container ioctls: the backends that implement it ('any' when not backend-specific). */
  backends: readonly Backend[] | 'any';
  arg: ArgDesc;
  /** Bytes the kernel copies in and checks argsz against. */
  minsz: number;
  /** First u32 is 'argsz' (VFIO) or 'size' (iommufd: trailing bytes must be zero). */
  sizeField: 'argsz' | 'size' | null;
  /** Bytes beyond sizeof must be zero (iommufd, BIND_IOMMUFD): else E2BIG. */
  zeroTail: boolean;
  /** When the kernel writes the struct back: never, on success, also for some errnos, or per call. */
  writes: 'never' | 'success' | { success: true; errnos: readonly string[] } | ((inVals: Readonly<Vals>, ret: number) => boolean);
  ret: RetFn;
  /** errno name → why this ioctl gives it (from the kernel's behaviour). */
  errnos: Readonly<Record<string, string>>;
  /**
   * When the reason depends on the call's input (an op field picking what
   * the kernel does): the reason for this call, or undefined to use `errnos`.
   */
  errnoWhy?: (errno: string, inVals: Readonly<Vals>) => string | undefined;
  check?: (c: CheckCtx) => void;
  /** Maximum payload worth capturing (caps chains, flexible arrays). */
  cap: number;
}

/** What a family file writes; `ioctl()` fills the defaults and computes minsz. */
export interface IoctlSpec<N extends string = string> {
  name: N;
  nr: number;
  fdKinds: readonly FdKind[];
  backends?: readonly Backend[] | 'any';
  arg: ArgDesc;
  /** Field whose end is minsz (default: sizeof the struct). */
  minszEnd?: string;
  sizeField?: 'argsz' | 'size' | null;
  zeroTail?: boolean;
  writes?: IoctlDesc['writes'];
  ret?: RetFn;
  errnos?: Record<string, string>;
  errnoWhy?: IoctlDesc['errnoWhy'];
  check?: (c: CheckCtx) => void;
  cap?: number;
}

export const VFIO_BASE = 100;
/** _IOC_NR of VFIO_BASE + n. */
export const vfio = (n: number): number => VFIO_BASE + n;

/** What 0 means to most ioctls; shared, so a success costs no allocation (explain.ts knows it). */
export const RET_SUCCESS: Readonly<RetMeaning> = Object.freeze({ meaning: 'success' });
export const retZero: RetFn = (r) => (r === 0 ? RET_SUCCESS : { meaning: `unexpected positive value ${r}` });

export function retNewFd(kind: FdKind, what: string): RetFn {
  return (r) => ({ meaning: `new ${what} fd ${r}`, newFd: { fd: r, kind } });
}

function hasFlexOrCaps(t: StructType): boolean {
  return t.fields.some((f) => f.type.kind === 'flex' || f.type.kind === 'caps');
}

// `const N`: the name stays a literal even where the call's own result is
// contextually typed by an outer generic (an ioctls array inside `family()`).
export function ioctl<const N extends string>(family: string, s: IoctlSpec<N>): IoctlDesc<N> {
  let minsz = 0;
  let cap = 0;
  const a = s.arg;
  if (a.kind === 'struct') {
    minsz = s.minszEnd ? offsetOfEnd(a.type, s.minszEnd) : a.type.size;
    cap = s.cap ?? (hasFlexOrCaps(a.type) ? 65536 : 4096);
  } else if (a.kind === 'fdptr' || a.kind === 'u32ptr') {
    minsz = 4;
    cap = 4;
  } else if (a.kind === 'cstring') {
    cap = s.cap ?? 4096;
  }
  const d: IoctlDesc<N> = {
    name: s.name,
    nr: s.nr,
    family,
    fdKinds: s.fdKinds,
    backends: s.backends ?? 'any',
    arg: a,
    minsz,
    sizeField: s.sizeField !== undefined ? s.sizeField : a.kind === 'struct' ? 'argsz' : null,
    zeroTail: s.zeroTail ?? false,
    writes: s.writes ?? 'never',
    ret: s.ret ?? retZero,
    errnos: s.errnos ?? {},
    cap,
    // Always present (maybe undefined): every description has one object shape, so the decoder's reads of it stay monomorphic.
    errnoWhy: s.errnoWhy,
    check: s.check,
  };
  return d;
}

/**
 * A family's errnos for every ioctl, added to each one's own: where both
 * explain the same errno, the ioctl's reason comes first, then the family's.
 */
export function withErrnoDefaults<N extends string>(defaults: Readonly<Record<string, string>>, ioctls: readonly IoctlDesc<N>[]): IoctlDesc<N>[] {
  return ioctls.map((d) => {
    const errnos: Record<string, string> = { ...defaults };
    for (const [e, why] of Object.entries(d.errnos)) errnos[e] = defaults[e] && !why.includes(defaults[e]!) ? `${why}; or ${defaults[e]}` : why;
    return { ...d, errnos };
  });
}

/** One uapi family file's export; `N`: the names of its ioctls. */
export interface Family<N extends string = string> {
  name: string;
  ioctls: IoctlDesc<N>[];
  /** Structs described here (for layout checks), including those only reached through caps/payloads. */
  structs: StructType[];
}

/**
 * A family file's export, its ioctl names kept as literal types. Annotating
 * the constant `: Family` instead would widen them to string, and with them
 * `IoctlName`, which decoders/index.ts refuses.
 */
export function family<const N extends string>(f: Family<N>): Family<N> {
  return f;
}
