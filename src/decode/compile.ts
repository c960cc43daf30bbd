// Struct descriptions compiled for the walk (walk.ts): each struct once into a
// flat list of precomputed field plans — offsets, sizes, readers and
// formatters — so a walk over an event's bytes is a loop of DataView reads.

import type { Direction, Finding } from './types.js';
import { ctypeOf, type Field, type SideCtx, type StructType, type Type, type Vals } from './dsl.js';
import { makeFormatter, type Formatter } from './format.js';
import { R, readerOf } from './scalars.js';

/** Per-side decoding state (one per event side). */
export interface Env {
  /**
   * Reads this side's bytes: byte k of the side is at `base + k` (a record's
   * view of its whole chunk, no view per call). The view goes on past the
   * side's bytes, so a read must check `len` itself (scalarState does).
   */
  dv: DataView;
  base: number;
  bytes: Uint8Array;
  le: boolean;
  /** Bytes captured on this side. */
  len: number;
  /** Entry bytes, when decoding the exit side: marks `changed`. */
  cmp: Uint8Array | null;
  ctx: SideCtx;
  /** Where decode-time findings go (reserved, unknown flags, cap chains); null = don't report. */
  findings: Finding[] | null;
  /** Every fixed field regardless of side and `when` (layout/value checks); no flex or caps. */
  all?: boolean;
}


export interface Plan {
  f: Field;
  name: string;
  /** The field's `when` and `reserved`, copied here so the walk's loop reads one object shape (Fields come in several). */
  when: NonNullable<Field['when']> | null;
  reserved: boolean;
  ctype: string;
  off: number;
  size: number;
  dir: Direction;
  read: R | -1;
  fmt: Formatter | null;
  /** Flags display: bits the header names (others are reported). */
  known: number;
  /** Enum display: the values the header names (others are reported). */
  names: ReadonlyMap<number, string> | null;
  /** A description's own formatter: run even without a tree, so one that throws fails the decode as before. */
  custom: boolean;
  sub: CompiledStruct | null;
  /** One-entry memo of prefix + name: most structs are decoded under the same prefix every time. */
  memoPrefix: string;
  memoPath: string;
  memoDot: string;
  /** "name.k" keys under which a nested struct's values are seen, built once. */
  subKeys: Map<string, string> | null;
  // The labels the one-line text puts before a value, first and later in
  // its struct: built once, not concatenated again for every field.
  label: string;
  nextLabel: string;
  /** The JSON key, `"name":`. */
  jsonKey: string;
}

/** The key a nested value is seen under by checks: "err.type", "data.device_state". */
export function subKey(p: Plan, k: string): string {
  let m = p.subKeys;
  if (m === null) m = p.subKeys = new Map();
  let key = m.get(k);
  if (key === undefined) {
    key = p.name + '.' + k;
    if (m.size < 256) m.set(k, key);
  }
  return key;
}

export function pathOf(p: Plan, prefix: string): string {
  if (prefix === p.memoPrefix) return p.memoPath;
  const path = prefix + p.name;
  p.memoPrefix = prefix;
  p.memoPath = path;
  p.memoDot = path + '.';
  return path;
}

export interface CompiledStruct {
  t: StructType;
  ctype: string;
  plans: Plan[];
  /** A fresh values object for a walk of this struct (newVals). */
  makeVals: (() => Vals) | null;
}

/** The keys a walk of `cs` may set: its scalars, an anonymous part's members, a named part's as "name.k". */
function valKeys(cs: CompiledStruct, out: Set<string>, prefix: string): Set<string> {
  for (const p of cs.plans) {
    const ft = p.f.type;
    if (p.read !== -1) out.add(prefix + p.name);
    else if (p.sub !== null && (ft.kind === 'struct' || ft.kind === 'union')) valKeys(p.sub, out, ft.name === '' ? prefix : prefix + p.name + '.');
  }
  return out;
}

// Past this many keys a preset object gains nothing over an empty one.
const MAX_PRESET_KEYS = 64;

const emptyVals = (): Vals => ({});

/**
 * A maker of objects holding `keys` in-object, in one order: a constructor
 * is the cheapest way V8 offers (a copied template costs as much as `{}`).
 * Null where code generation from strings is disallowed
 * (--disallow-code-generation-from-strings): values then start from `{}`.
 */
function presetConstructor(keys: readonly string[]): (() => Vals) | null {
  try {
    const Ctor = new Function(keys.map((k) => `this[${JSON.stringify(k)}] = undefined;`).join('\n')) as unknown as new () => Vals;
    return () => new Ctor();
  } catch {
    return null;
  }
}

/**
 * A fresh values object for walking `cs`, with every key the walk may set
 * already there (undefined): the walk's stores then change no object shape,
 * which is most of what filling a plain `{}` costs. Reads see undefined for
 * a field not walked, as with `{}`.
 */
export function newVals(cs: CompiledStruct): Vals {
  let make = cs.makeVals;
  if (make === null) {
    const keys = [...valKeys(cs, new Set(), '')];
    make = keys.length > MAX_PRESET_KEYS ? emptyVals : (presetConstructor(keys) ?? emptyVals);
    cs.makeVals = make;
  }
  return make();
}

const compiled = new WeakMap<Type, CompiledStruct>();


export function compileStruct(t: StructType): CompiledStruct {
  const hit = compiled.get(t);
  if (hit) return hit;
  const plans: Plan[] = t.fields.map((f, k) => {
    const ft = f.type;
    const sub =
      ft.kind === 'struct' || ft.kind === 'union'
        ? compileStruct(ft)
        : ft.kind === 'array' && (ft.elem.kind === 'struct' || ft.elem.kind === 'union')
          ? compileStruct(ft.elem)
          : null;
    return {
      f,
      name: f.name,
      when: f.when ?? null,
      reserved: f.reserved === true,
      ctype: ctypeOf(ft),
      off: t.offsets[k] ?? 0,
      size: ft.size,
      dir: f.dir,
      read: readerOf(ft),
      fmt: ft.kind === 'scalar' ? makeFormatter(f.display, ft.signed) : null,
      known: f.display.kind === 'flags' ? f.display.known : -1,
      names: f.display.kind === 'enum' ? f.display.names : null,
      custom: f.display.kind === 'custom',
      sub,
      memoPrefix: '',
      memoPath: f.name,
      memoDot: f.name + '.',
      subKeys: null,
      label: f.name + '=',
      nextLabel: ', ' + f.name + '=',
      jsonKey: JSON.stringify(f.name) + ':',
    };
  });
  const c: CompiledStruct = { t, ctype: ctypeOf(t), plans, makeVals: null };
  compiled.set(t, c);
  return c;
}

/** Whether a field belongs on this side: entry shows what the caller wrote, exit what the kernel wrote. */
export function onSide(dir: Direction, side: 'in' | 'out'): boolean {
  return dir === 'inout' || dir === side;
}

// Element displays are plain (hex for bytes, decimal otherwise); arrays that
// need names get a struct element type instead.
const elemFormatters = new WeakMap<Type, Formatter>();
export function elementFormatter(t: Type & { kind: 'scalar' }): Formatter {
  let f = elemFormatters.get(t);
  if (!f) {
    f = makeFormatter(t.size === 1 ? { kind: 'hex' } : { kind: 'dec' }, t.signed);
    elemFormatters.set(t, f);
  }
  return f;
}
