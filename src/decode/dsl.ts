// The description language for uapi structs and ioctls. A description says
// what the header says (C types, field names, directions) plus how to show a
// value; offsets and sizes are computed here from C alignment rules, never
// written by hand.
//
// Layout model: LP64 (x86_64, aarch64, ppc64, ppc64le, riscv64 all agree for
// these headers). i386 is NOT supported: there a plain __u64 inside a struct is
// only 4-byte aligned and pointers are 4 bytes, so e.g. vfio_bitmap and
// vfio_iommu_type1_dma_map would lay out differently.

import type { Direction, FdKind } from './types.js';

export type ScalarName = '__u8' | '__u16' | '__u32' | '__u64' | '__s8' | '__s16' | '__s32' | '__s64';

/** How a scalar is shown. Flags and enums carry the kernel's names verbatim. */
export type Display =
  | { kind: 'hex' }
  | { kind: 'dec' }
  | { kind: 'flags'; bits: readonly (readonly [string, number])[]; known: number }
  | { kind: 'enum'; names: ReadonlyMap<number, string> }
  | { kind: 'fd' }
  | { kind: 'errno' }
  | { kind: 'ptr' }
  | { kind: 'custom'; format: (v: bigint, vals: Readonly<Vals>) => string };

export interface ScalarType {
  kind: 'scalar';
  /** C spelling as in the header ("__u32", "__aligned_u64", "__u64 *"). */
  ctype: string;
  base: ScalarName;
  size: number;
  align: number;
  signed: boolean;
}

/** Values of the scalar fields decoded so far in the enclosing struct, by field name. */
export type Vals = Record<string, number>;

/** What a `when`/resolver sees: the side being decoded and the call outcome. */
export interface SideCtx {
  side: 'in' | 'out';
  /** Kernel return value (entry side: the call's eventual return, or 0 if unknown). */
  ret: number;
  /** Caller's argsz/size (first u32 at entry), or the capture length when there is none. */
  argsz: number;
  /** Top-level values of the payload decoded so far (nested structs see their parent's fields). */
  root: Vals;
}

export interface Field<N extends string = string> {
  name: N;
  type: Type;
  dir: Direction;
  display: Display;
  /** Must be zero (a `reserved`/`__reserved`/`pad` the kernel checks or may give meaning later). */
  reserved?: boolean;
  /** Decode only when this holds (e.g. the EEH err union only for INJECT_ERR). */
  when?: (v: Vals, c: SideCtx) => boolean;
}

export interface StructType<N extends string = string> {
  kind: 'struct' | 'union';
  /** Type-level only: the field names, so decoded values can be typed from the description. */
  readonly __names?: N;
  /** C tag without "struct " ("vfio_eeh_pe_op"); '' for an anonymous union/struct. */
  name: string;
  fields: Field[];
  offsets: number[];
  size: number;
  align: number;
}

export interface ArrayType {
  kind: 'array';
  elem: Type;
  count: number;
  size: number;
  align: number;
}

/** What a flexible array or payload turns out to hold for this call. */
export interface FlexShape {
  type: Type;
  /** Number of elements; `null` = as many as fit up to argsz. */
  count: number | null;
  /** ctype shown for the whole payload ("__s32[]", "struct vfio_device_feature_mig_state"). */
  ctype?: string;
  /** One struct (a payload), not an array of them. */
  single?: boolean;
}

/** A trailing flexible array member (size 0 in sizeof). */
export interface FlexType {
  kind: 'flex';
  /** Declared element type in the header (for the layout check and the default shape). */
  elem: Type;
  /** Element count from a preceding field; 'argsz' = fill to argsz. Ignored when `resolve` is set. */
  count: string | 'argsz';
  /** Per-call shape (e.g. SET_IRQS data by DATA_* flag, DEVICE_FEATURE payload by feature index). */
  resolve?: (v: Vals, c: SideCtx) => FlexShape | null;
  size: 0;
  align: number;
}

/** A C string (a whole argument, e.g. GROUP_GET_DEVICE_FD). */
export interface CStringType {
  kind: 'cstring';
  size: 0;
  align: 1;
}

/** 16 raw bytes shown as a UUID (declared as __u8[16] in the header). */
export interface UuidType {
  kind: 'uuid';
  size: 16;
  align: 1;
}

/** One capability the chain may hold: its struct (which starts with vfio_info_cap_header). */
export interface CapDesc {
  name: string;
  type: StructType;
}

/**
 * A capability chain: not part of sizeof; the kernel places it after the
 * struct and links it via `next` (byte offsets from the buffer start).
 */
export interface CapsType {
  kind: 'caps';
  /** Field holding the first cap's offset ("cap_offset"). */
  offsetField: string;
  /** Field and bit that say caps are present ("flags", VFIO_*_CAPS). */
  flagField: string;
  flagBit: number;
  /** The common header every capability starts with (id, version, next). */
  header: StructType;
  caps: ReadonlyMap<number, CapDesc>;
  size: 0;
  align: 1;
}

export type Type = ScalarType | StructType | ArrayType | FlexType | CStringType | UuidType | CapsType;

// ---------------------------------------------------------------- scalars

function scalar(ctype: string, base: ScalarName, size: number, signed: boolean): ScalarType {
  return { kind: 'scalar', ctype, base, size, align: size, signed };
}

export const u8 = scalar('__u8', '__u8', 1, false);
export const u16 = scalar('__u16', '__u16', 2, false);
export const u32 = scalar('__u32', '__u32', 4, false);
export const u64 = scalar('__u64', '__u64', 8, false);
export const s8 = scalar('__s8', '__s8', 1, true);
export const s16 = scalar('__s16', '__s16', 2, true);
export const s32 = scalar('__s32', '__s32', 4, true);
export const s64 = scalar('__s64', '__s64', 8, true);
/** __aligned_u64: 8-byte aligned even on i386; identical to __u64 on LP64. */
export const au64 = scalar('__aligned_u64', '__u64', 8, false);
/** A user pointer held in a struct (LP64: 8 bytes). */
export const ptr = (ctype: string): ScalarType => scalar(ctype, '__u64', 8, false);

export const uuid: UuidType = { kind: 'uuid', size: 16, align: 1 };
export const cstring: CStringType = { kind: 'cstring', size: 0, align: 1 };

// ---------------------------------------------------------------- displays

export const hex: Display = { kind: 'hex' };
export const dec: Display = { kind: 'dec' };
export const fdDisplay: Display = { kind: 'fd' };
export const ptrDisplay: Display = { kind: 'ptr' };
export const errnoDisplay: Display = { kind: 'errno' };

/** Bit flags: [kernel name, bit value] pairs. Unknown bits are shown in hex and reported. */
export function flags(bits: readonly (readonly [string, number])[], extraKnown = 0): Display {
  let known = extraKnown;
  for (const [, b] of bits) known |= b;
  return { kind: 'flags', bits, known: known >>> 0 };
}

/** Enumerated values: [kernel name, value] pairs. */
export function enumOf(pairs: readonly (readonly [string, number])[]): Display {
  return { kind: 'enum', names: new Map(pairs.map(([n, v]) => [v, n])) };
}

/** A display computed by a function; `vals` holds the struct's earlier fields (e.g. a subtype named by its type). */
export function custom(format: (v: bigint, vals: Readonly<Vals>) => string): Display {
  return { kind: 'custom', format };
}

// ---------------------------------------------------------------- fields

interface FieldOpts {
  display?: Display;
  reserved?: boolean;
  when?: (v: Vals, c: SideCtx) => boolean;
}

function defaultDisplay(t: Type): Display {
  if (t.kind === 'scalar') return t.ctype.includes('*') ? ptrDisplay : dec;
  return hex;
}

function mk<N extends string>(dir: Direction, name: N, type: Type, o?: Display | FieldOpts): Field<N> {
  const opts: FieldOpts = o === undefined ? {} : 'kind' in o ? { display: o } : o;
  const f: Field<N> = { name, type, dir, display: opts.display ?? defaultDisplay(type) };
  if (opts.reserved) f.reserved = true;
  if (opts.when) f.when = opts.when;
  return f;
}

/** Caller-written field the kernel only reads. */
export const i = <N extends string>(name: N, type: Type, o?: Display | FieldOpts): Field<N> => mk('in', name, type, o);
/** Kernel-written field. */
export const o = <N extends string>(name: N, type: Type, o2?: Display | FieldOpts): Field<N> => mk('out', name, type, o2);
/** Read and written back. */
export const io = <N extends string>(name: N, type: Type, o2?: Display | FieldOpts): Field<N> => mk('inout', name, type, o2);
/** A must-be-zero field (padding the header names). */
export const rsv = <N extends string>(name: N, type: Type, dir: Direction = 'in'): Field<N> =>
  mk(dir, name, type, { display: hex, reserved: true });

// ---------------------------------------------------------------- aggregates

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

function layout(kind: 'struct' | 'union', name: string, fields: Field[]): StructType {
  let off = 0;
  let align = 1;
  let size = 0;
  const offsets: number[] = [];
  for (const f of fields) {
    const a = f.type.align;
    align = Math.max(align, a);
    if (kind === 'union') {
      offsets.push(0);
      size = Math.max(size, f.type.size);
    } else {
      off = alignUp(off, a);
      offsets.push(off);
      off += f.type.size;
      size = off;
    }
  }
  return { kind, name, fields, offsets, size: alignUp(size, align), align };
}

/** Field names of a described struct, inferred from its description. */
export type FieldNames<S> = S extends StructType<infer N> ? N : never;

/** Scalar values of a decoded struct by field name (see decodeValues). */
export type ValuesOf<S> = { [K in FieldNames<S>]?: number };

export function struct<const F extends readonly Field[]>(name: string, fields: F): StructType<F[number]['name']> {
  return structOf(name, [...fields]);
}

function structOf(name: string, fields: Field[]): StructType {
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw new Error(`struct ${name}: duplicate field ${f.name}`);
    seen.add(f.name);
  }
  const flexAt = fields.findIndex((f) => f.type.kind === 'flex');
  if (flexAt >= 0 && fields.slice(flexAt + 1).some((f) => f.type.kind !== 'caps')) {
    throw new Error(`struct ${name}: flexible array must be last`);
  }
  return layout('struct', name, fields);
}

/** A union; name '' for an anonymous one (its members then read as members of the parent). */
export function union<const F extends readonly Field[]>(name: string, fields: F): StructType<F[number]['name']> {
  return layout('union', name, [...fields]);
}

export function array(elem: Type, count: number): ArrayType {
  return { kind: 'array', elem, count, size: elem.size * count, align: elem.align };
}

export function flex(elem: Type, count: string | 'argsz', resolve?: FlexType['resolve']): FlexType {
  const t: FlexType = { kind: 'flex', elem, count, size: 0, align: elem.align };
  if (resolve) t.resolve = resolve;
  return t;
}

export function caps(
  offsetField: string,
  flagField: string,
  flagBit: number,
  header: StructType,
  list: readonly (readonly [number, string, StructType])[],
): CapsType {
  return {
    kind: 'caps',
    offsetField,
    flagField,
    flagBit,
    header,
    caps: new Map(list.map(([id, name, type]) => [id, { name, type }])),
    size: 0,
    align: 1,
  };
}

/** A member `name` of `t` at `base`: members of anonymous unions/structs count as `t`'s own, as in C. */
function memberOf(t: StructType, name: string, base: number): { offset: number; type: Type } | null {
  for (let k = 0; k < t.fields.length; k++) {
    const f = t.fields[k] as Field;
    if (f.name === name) return { offset: base + (t.offsets[k] as number), type: f.type };
  }
  for (let k = 0; k < t.fields.length; k++) {
    const ft = (t.fields[k] as Field).type;
    if ((ft.kind === 'struct' || ft.kind === 'union') && ft.name === '') {
      const hit = memberOf(ft, name, base + (t.offsets[k] as number));
      if (hit) return hit;
    }
  }
  return null;
}

/** Where a field is. */
export interface FieldLoc {
  offset: number;
  type: Type;
}

const fieldLocs = new WeakMap<StructType, Map<string, FieldLoc>>();

/**
 * Offset and type of a field by its C path ("argsz", "err.type",
 * "iova_ranges[1].end"), as offsetof() would give it. Throws for a path the
 * struct does not have.
 */
export function fieldAt(t: StructType, path: string): FieldLoc {
  let cache = fieldLocs.get(t);
  if (!cache) fieldLocs.set(t, (cache = new Map()));
  const hit = cache.get(path);
  if (hit) return hit;
  let cur: Type = t;
  let offset = 0;
  for (const part of path.split('.')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(part);
    if (!m || (cur.kind !== 'struct' && cur.kind !== 'union')) throw new Error(`${t.name}: bad field path "${path}"`);
    const mem = memberOf(cur, m[1] as string, offset);
    if (!mem) throw new Error(`struct ${t.name}: no field ${path}`);
    offset = mem.offset;
    cur = mem.type;
    if (m[2] !== undefined) {
      if (cur.kind !== 'array' && cur.kind !== 'flex') throw new Error(`${t.name}: "${part}" is not an array`);
      offset += Number(m[2]) * cur.elem.size;
      cur = cur.elem;
    }
  }
  const loc = { offset, type: cur };
  cache.set(path, loc);
  return loc;
}

/** offsetof(): where a field starts. */
export function offsetOf(t: StructType, path: string): number {
  return fieldAt(t, path).offset;
}

/** offsetofend(): where a field ends. The kernel's minsz is usually this. */
export function offsetOfEnd(t: StructType, path: string): number {
  const loc = fieldAt(t, path);
  return loc.offset + loc.type.size;
}

/** C spelling of a type, for FieldNode.ctype and generated C. */
export function ctypeOf(t: Type): string {
  switch (t.kind) {
    case 'scalar':
      return t.ctype;
    case 'struct':
    case 'union':
      return t.name ? `${t.kind} ${t.name}` : t.kind;
    case 'array':
      return `${ctypeOf(t.elem)}[${t.count}]`;
    case 'flex':
      return `${ctypeOf(t.elem)}[]`;
    case 'cstring':
      return 'char[]';
    case 'uuid':
      return '__u8[16]';
    case 'caps':
      return `${ctypeOf(t.header)}[]`;
  }
}
