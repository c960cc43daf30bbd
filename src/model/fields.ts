// Reading decoded payloads by path. Rules and the session model name fields
// by their kernel C names ("argsz", "err.type", "data[2]"), so a grep for a
// header field finds its use here too.

import type { CompiledStruct, Plan } from '../decode/compile.js';
import { SCALAR_SHOWN, scalarState } from '../decode/walk.js';
import { big, readNum, readScalar } from '../decode/scalars.js';
import { IoctlEvent, type StructPayload } from '../decode/event.js';
import type { DecodedIoctl, FieldNode } from '../decode/types.js';

const pathCache = new Map<string, string[]>();

/** "caps[0].iova_ranges[1].start" → ["caps", "[0]", "iova_ranges", "[1]", "start"]. */
function splitPath(path: string): string[] {
  let parts = pathCache.get(path);
  if (parts) return parts;
  parts = [];
  for (const dotted of path.split('.')) {
    if (dotted === '') continue;
    const bracket = dotted.indexOf('[');
    if (bracket < 0) {
      parts.push(dotted);
      continue;
    }
    if (bracket > 0) parts.push(dotted.slice(0, bracket));
    const re = /\[(\d+)\]/g;
    for (let m = re.exec(dotted); m; m = re.exec(dotted)) parts.push(`[${m[1]}]`);
  }
  if (pathCache.size < 4096) pathCache.set(path, parts);
  return parts;
}

function child(node: FieldNode, name: string): FieldNode | undefined {
  const kids = node.children;
  if (!kids) return undefined;
  for (const k of kids) if (k.name === name) return k;
  // Array elements may be named "[i]" or only be positional.
  if (name.startsWith('[')) {
    const i = Number(name.slice(1, -1));
    const k = kids[i];
    if (k && (k.name === name || !k.name.startsWith('['))) return k;
  }
  return undefined;
}

/** The node at `path` below `root` (the empty path is the root itself). */
export function getField(root: FieldNode | null | undefined, path: string): FieldNode | undefined {
  if (!root) return undefined;
  let node: FieldNode | undefined = root;
  for (const part of splitPath(path)) {
    node = child(node, part);
    if (!node) return undefined;
  }
  return node;
}

/** Scalar value at `path`, or undefined when absent or unreadable. */
export function fieldValue(root: FieldNode | null | undefined, path: string): bigint | undefined {
  const node = getField(root, path);
  if (!node || node.unreadable) return undefined;
  return node.value;
}

/** Like fieldValue, as a JS number (exact for the u32/s32 fields it is used on). */
export function fieldNumber(root: FieldNode | null | undefined, path: string): number | undefined {
  const v = fieldValue(root, path);
  return v === undefined ? undefined : Number(v);
}

/**
 * The value of a payload that is a single scalar (pointer to s32 fd, pointer
 * to u32): either the root itself or its only scalar child.
 */
export function scalarPayload(root: FieldNode | null | undefined): bigint | undefined {
  if (!root || root.unreadable) return undefined;
  if (root.value !== undefined) return root.value;
  const kids = root.children;
  if (kids && kids.length === 1 && kids[0] && !kids[0].unreadable) return kids[0].value;
  return undefined;
}

/** Scalar values of the elements of an array node (unreadable elements skipped). */
export function arrayValues(root: FieldNode | null | undefined, path: string): bigint[] {
  const node = getField(root, path);
  const out: bigint[] = [];
  if (!node?.children) return out;
  for (const k of node.children) if (k.value !== undefined && !k.unreadable) out.push(k.value);
  return out;
}

// ---- values straight from the bytes ----------------------------------------
// The model and the audit read a few top-level scalars of most calls ("op",
// "flags", "index"). Building the payload tree for that was most of their
// per-event cost; the decoder keeps what the tree is built from (the compiled
// struct and the bytes), so a plain top-level scalar is read from there with
// the tree's own rules. Anything else (nested paths, conditional fields,
// names an anonymous union could shadow, events whose trees were replaced)
// goes through the tree.

const directPlans = new WeakMap<CompiledStruct, Map<string, Plan>>();

function namesOf(cs: CompiledStruct, count: Map<string, number>): void {
  for (const p of cs.plans) {
    const t = p.f.type;
    if ((t.kind === 'struct' || t.kind === 'union') && t.name === '' && p.sub) namesOf(p.sub, count);
    else count.set(p.name, (count.get(p.name) ?? 0) + 1);
  }
}

/** Top-level scalar fields that appear in the tree exactly where and when their plan says. */
function plansOf(cs: CompiledStruct): Map<string, Plan> {
  let m = directPlans.get(cs);
  if (m) return m;
  const count = new Map<string, number>();
  namesOf(cs, count);
  m = new Map();
  for (const p of cs.plans) if (p.read !== -1 && p.when === null && count.get(p.name) === 1) m.set(p.name, p);
  directPlans.set(cs, m);
  return m;
}

function payloadOf(ev: DecodedIoctl): StructPayload | null {
  return ev instanceof IoctlEvent ? ev.structPayload : null;
}

/** Whether the tree of `side` holds a readable node for plan `p`: the walk's own rules (scalarState). */
function present(pl: StructPayload, p: Plan, side: 'in' | 'out'): boolean {
  const b = side === 'in' ? pl.entry : pl.exit;
  if (b === null || b.length === 0 || (side === 'out' && pl.dvExit === null)) return false;
  return scalarState(p, p.off, b.length, pl.limit, side, false) === SCALAR_SHOWN;
}

type Reader = Exclude<Plan['read'], -1>;

/** Like fieldValue(ev.in / ev.out, path), without building the tree when it can be avoided. */
export function sideValue(ev: DecodedIoctl, side: 'in' | 'out', path: string): bigint | undefined {
  const pl = payloadOf(ev);
  const p = pl !== null ? plansOf(pl.cs).get(path) : undefined;
  if (pl === null || p === undefined) return fieldValue(side === 'in' ? ev.in : ev.out, path);
  if (!present(pl, p, side)) return undefined;
  const dv = (side === 'in' ? pl.dv : pl.dvExit) as DataView;
  const at = (side === 'in' ? pl.base : pl.baseExit) + p.off;
  return p.size === 8 ? readScalar(dv, p.read as Reader, at, pl.le) : big(readNum(dv, p.read as Reader, at, pl.le));
}

/** sideValue as a JS number (exact for the u32/s32 fields it is used on), without a bigint on the way. */
export function sideNumber(ev: DecodedIoctl, side: 'in' | 'out', path: string): number | undefined {
  const pl = payloadOf(ev);
  const p = pl !== null ? plansOf(pl.cs).get(path) : undefined;
  if (pl === null || p === undefined) return fieldNumber(side === 'in' ? ev.in : ev.out, path);
  if (!present(pl, p, side)) return undefined;
  const dv = (side === 'in' ? pl.dv : pl.dvExit) as DataView;
  const at = (side === 'in' ? pl.base : pl.baseExit) + p.off;
  return p.size === 8 ? Number(readScalar(dv, p.read as Reader, at, pl.le)) : readNum(dv, p.read as Reader, at, pl.le);
}

export function inValue(ev: DecodedIoctl, path: string): bigint | undefined {
  return sideValue(ev, 'in', path);
}
export function outValue(ev: DecodedIoctl, path: string): bigint | undefined {
  return sideValue(ev, 'out', path);
}
export function inNumber(ev: DecodedIoctl, path: string): number | undefined {
  return sideNumber(ev, 'in', path);
}
export function outNumber(ev: DecodedIoctl, path: string): number | undefined {
  return sideNumber(ev, 'out', path);
}
