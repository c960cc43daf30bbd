// One-line text straight from the bytes: walks the same compiled plans as
// decodeFields (compile.ts) but appends `name=display` to a string instead
// of building FieldNodes, in the three shapes the text renderer prints
// (src/render/payload.ts): every node (arrays), the caller's view (entry)
// and what the kernel wrote (exit). The walk must mirror decodeFields field
// for field — which nodes a tree would hold decides what is printed — and
// test/render/direct.test.ts checks it against the tree path.

import { compileStruct, elementFormatter, onSide, subKey, type CompiledStruct, type Env, type Plan } from './compile.js';
import { big, bytesDiffer, readerOf, readNum, readScalar } from './scalars.js';
import type { CapsType, FlexShape, Type, Vals } from './dsl.js';
import type { StructPayload } from './payload.js';
import { memoPayload, payloadMemo } from './memo.js';
import { escapeBytes, uuidText, type Formatter } from './format.js';
import type { Direction } from './types.js';

const enum M {
  /** renderNode: everything a tree would hold. */
  All,
  /** renderEntry: what the caller provides (out-only aggregates left out). */
  Entry,
  /** renderExit: what the kernel wrote or changed. */
  Exit,
}

// Results passed up without allocating: set by each walker just before it
// returns, read by its caller straight after the call.
/** Entries written to the returned text. */
let gN = 0;
/** Nodes a tree would have held at this level (presence decides whether a parent exists). */
let gPresent = 0;
/** Exit probe of an array: some element qualifies. */
let gQual = false;
/** The call succeeded (exit mode shows out fields only then). */
let succeeded = false;

function leafShown(mode: M, dir: Direction, changed: boolean): boolean {
  if (mode === M.All) return true;
  if (mode === M.Entry) return dir !== 'out';
  return changed || (succeeded && dir === 'out');
}

function changedAt(env: Env, at: number, size: number): boolean {
  return env.cmp !== null && bytesDiffer(env.cmp, env.bytes, at, size);
}

// Built-in displays read the bigint only for numbers that are negative or not
// exact (see makeFormatter); custom ones always get the real value.
const UNUSED = 0n;

/** The bigint to hand a field's formatter. */
function bigFor(p: Plan, env: Env, at: number, num: number): bigint {
  if (!p.custom && num >= 0 && Number.isSafeInteger(num)) return UNUSED;
  return p.size === 8 ? readScalar(env.dv, p.read as Exclude<Plan['read'], -1>, at, env.le) : big(num);
}

function fields(cs: CompiledStruct, env: Env, base: number, limit: number, vals: Vals, mode: M): string {
  const side = env.ctx.side;
  let s = '';
  let n = 0;
  let present = 0;
  const plans = cs.plans;
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i] as Plan;
    const at = base + p.off;
    const f = p.f;
    if (f.when && !f.when(vals, env.ctx)) continue;
    const ft = f.type;
    if (p.read !== -1) {
      if (at + p.size > limit) continue;
      if (at + p.size > env.len) {
        if (onSide(p.dir, side)) {
          present++;
          if (leafShown(mode, p.dir, false)) s += (n++ > 0 ? p.nextLabel : p.label) + '?';
        }
        continue;
      }
      const num = readNum(env.dv, p.read, at, env.le);
      vals[p.name] = num;
      if (!onSide(p.dir, side)) continue;
      present++;
      if (leafShown(mode, p.dir, changedAt(env, at, p.size))) s += (n++ > 0 ? p.nextLabel : p.label) + (p.fmt as Formatter)(bigFor(p, env, at, num), num, vals);
      continue;
    }
    switch (ft.kind) {
      case 'struct':
      case 'union': {
        if (at + p.size > limit) continue;
        const sub = p.sub as CompiledStruct;
        if (ft.name === '') {
          const t = fields(sub, env, at, limit, vals, mode);
          if (gN > 0) {
            s += (n > 0 ? ', ' : '') + t;
            n += gN;
          }
          present += gPresent;
          continue;
        }
        const sv: Vals = {};
        const t = fields(sub, env, at, limit, sv, mode);
        const cn = gN;
        const cp = gPresent;
        for (const k in sv) vals[subKey(p, k)] = sv[k] as number;
        if (cp === 0) continue;
        present++;
        if (mode === M.All || (mode === M.Entry ? p.dir !== 'out' : cn > 0)) s += (n++ > 0 ? p.nextLabel : p.label) + '{' + t + '}';
        continue;
      }
      case 'array': {
        if (at + p.size > limit) continue;
        const t = elems(ft.elem, p.sub, ft.count, env, at, limit, p.dir, mode);
        if (gPresent === 0) continue;
        present++;
        if (t !== null) s += (n++ > 0 ? p.nextLabel : p.label) + t;
        continue;
      }
      case 'uuid': {
        if (at + 16 > limit || !onSide(p.dir, side)) continue;
        present++;
        if (at + 16 > env.len) {
          if (leafShown(mode, p.dir, false)) s += (n++ > 0 ? p.nextLabel : p.label) + '?';
        } else if (leafShown(mode, p.dir, changedAt(env, at, 16))) s += (n++ > 0 ? p.nextLabel : p.label) + uuidText(env.bytes, at);
        continue;
      }
      case 'flex': {
        let shape: FlexShape | null;
        if (ft.resolve) shape = ft.resolve(vals, env.ctx);
        else shape = { type: ft.elem, count: ft.count === 'argsz' ? null : (vals[ft.count] ?? 0) };
        if (shape === null) continue;
        const t = flex(p, shape, env, at, limit, vals, mode);
        if (gPresent === 0) continue;
        present++;
        if (t !== null) s += (n++ > 0 ? p.nextLabel : p.label) + t;
        continue;
      }
      case 'caps': {
        if (side !== 'out') continue;
        const t = caps(ft, env, vals, limit, mode);
        if (gPresent === 0) continue;
        present++;
        if (t !== null) s += (n++ > 0 ? ', ' : '') + 'caps=' + t;
        continue;
      }
      case 'cstring':
      case 'scalar':
        continue;
    }
  }
  gN = n;
  gPresent = present;
  return s;
}

/**
 * Elements of an array, as decodeElems would hold them. `probe`: only find
 * whether an element qualifies for the exit view (gQual), no text.
 */
function elemWalk(elem: Type, sub: CompiledStruct | null, count: number, env: Env, at: number, limit: number, dir: Direction, probe: boolean): string {
  const es = elem.size;
  let s = '';
  let present = 0;
  let qual = false;
  if (es > 0) {
    const cs = sub ?? (elem.kind === 'struct' || elem.kind === 'union' ? compileStruct(elem) : null);
    const read = readerOf(elem);
    const fmt = elem.kind === 'scalar' ? elementFormatter(elem) : null;
    const side = env.ctx.side;
    for (let k = 0; k < count; k++) {
      const eat = at + k * es;
      if (eat + es > limit) break;
      if (eat + es > env.len) {
        // One unreadable marker, whatever the side (as decodeElems).
        present++;
        if (probe) qual = qual || (succeeded && dir === 'out');
        else s += (present > 1 ? ', ' : '') + '?';
        break;
      }
      if (read !== -1) {
        if (!onSide(dir, side)) continue;
        present++;
        if (probe) {
          if (!qual) qual = changedAt(env, eat, es) || (succeeded && dir === 'out');
        } else {
          const n = es === 8 ? 0 : readNum(env.dv, read, eat, env.le);
          const v = es === 8 ? readScalar(env.dv, read, eat, env.le) : big(n);
          s += (present > 1 ? ', ' : '') + (fmt as Formatter)(v, es === 8 ? Number(v) : n);
        }
      } else if (cs !== null) {
        const t = fields(cs, env, eat, limit, {}, probe ? M.Exit : M.All);
        if (gPresent === 0) continue;
        present++;
        if (probe) qual = qual || gN > 0;
        else s += (present > 1 ? ', ' : '') + '{' + t + '}';
      }
    }
  }
  gPresent = present;
  gQual = qual;
  return s;
}

/** An array field: '[…]' when shown, null when not (gPresent says whether a tree would hold it). */
function elems(elem: Type, sub: CompiledStruct | null, count: number, env: Env, at: number, limit: number, dir: Direction, mode: M): string | null {
  if (mode === M.Exit) {
    // An array is shown whole when any element qualifies.
    elemWalk(elem, sub, count, env, at, limit, dir, true);
    if (gPresent === 0 || !gQual) return null;
  }
  const t = elemWalk(elem, sub, count, env, at, limit, dir, false);
  if (gPresent === 0 || (mode === M.Entry && dir === 'out')) return null;
  return '[' + t + ']';
}

function flex(p: Plan, shape: FlexShape, env: Env, at: number, limit: number, vals: Vals, mode: M): string | null {
  const t = shape.type;
  if (t.kind === 'cstring') {
    const end = Math.min(limit, env.len);
    let stop = at;
    while (stop < end && env.bytes[stop] !== 0) stop++;
    gPresent = 1;
    return leafShown(mode, p.dir, false) ? '"' + escapeBytes(env.bytes, at, stop) + '"' : null;
  }
  if (t.kind === 'uuid') {
    if (at + 16 > limit) {
      gPresent = 0;
      return null;
    }
    gPresent = 1;
    if (at + 16 > env.len) return leafShown(mode, p.dir, false) ? '?' : null;
    return leafShown(mode, p.dir, changedAt(env, at, 16)) ? uuidText(env.bytes, at) : null;
  }
  if (shape.single && (t.kind === 'struct' || t.kind === 'union')) {
    if (at + t.size > limit) {
      gPresent = 0;
      return null;
    }
    const sv: Vals = {};
    const s = fields(compileStruct(t), env, at, limit, sv, mode);
    const cn = gN;
    const cp = gPresent;
    for (const k in sv) vals[subKey(p, k)] = sv[k] as number;
    gPresent = cp > 0 ? 1 : 0;
    if (cp === 0) return null;
    return mode === M.All || (mode === M.Entry ? p.dir !== 'out' : cn > 0) ? '{' + s + '}' : null;
  }
  const es = t.size;
  const avail = Math.max(0, limit - at);
  const count = es === 0 ? 0 : shape.count === null ? Math.floor(avail / es) : Math.min(shape.count, Math.floor(avail / es));
  if (count <= 0) {
    gPresent = 0;
    return null;
  }
  const sub = t.kind === 'struct' || t.kind === 'union' ? compileStruct(t) : null;
  const r = elems(t, sub, count, env, at, limit, p.dir, mode);
  gPresent = gPresent > 0 ? 1 : 0;
  return r;
}

const CAP_HDR = 8;
const MAX_CAPS = 256;

/** The capability chain as walkCaps follows it (its findings were made by the eager walk). */
function capWalk(ct: CapsType, env: Env, vals: Vals, limit: number, probe: boolean): string {
  let off = vals[ct.offsetField] ?? 0;
  let s = '';
  let k = 0;
  let qual = false;
  if (((vals[ct.flagField] ?? 0) & ct.flagBit) !== 0 && off !== 0) {
    const seen = new Set<number>();
    while (off !== 0) {
      if (seen.has(off) || k >= MAX_CAPS) break;
      if (off < CAP_HDR || off + CAP_HDR > limit || off + CAP_HDR > env.len) break;
      seen.add(off);
      const id = env.dv.getUint16(off, env.le);
      const next = env.dv.getUint32(off + 4, env.le);
      const desc = ct.caps.get(id);
      const t = fields(compileStruct(desc ? desc.type : ct.header), env, off, limit, {}, probe ? M.Exit : M.All);
      if (probe) qual = qual || gN > 0;
      else s += (k > 0 ? ', ' : '') + '{' + t + '}';
      k++;
      off = next;
    }
  }
  gPresent = k > 0 ? 1 : 0;
  gQual = qual;
  return s;
}

function caps(ct: CapsType, env: Env, vals: Vals, limit: number, mode: M): string | null {
  if (mode === M.Exit) {
    capWalk(ct, env, vals, limit, true);
    if (gPresent === 0 || !gQual) return null;
  }
  const t = capWalk(ct, env, vals, limit, false);
  if (gPresent === 0) return null;
  return '[' + t + ']';
}

// Formatting is synchronous and not re-entrant: one environment per side, reused.
const EMPTY = new Uint8Array(0);
const newEnv = (side: 'in' | 'out'): Env => ({ dv: new DataView(EMPTY.buffer), bytes: EMPTY, le: true, len: 0, cmp: null, ctx: { side, ret: 0, argsz: 0, root: {} }, findings: null });
const envIn = newEnv('in');
const envOut = newEnv('out');

function prepare(env: Env, pl: StructPayload, b: Uint8Array, vals: Vals): void {
  env.dv = env === envOut ? (pl.dvExit as DataView) : pl.dv;
  env.bytes = b;
  env.le = pl.le;
  env.len = b.length;
  env.cmp = env === envOut ? pl.entry : null;
  env.ctx.ret = pl.ret;
  env.ctx.argsz = pl.argsz;
  env.ctx.root = vals;
}

/** The caller's view of a struct payload, `{a=1, b=2}`; null when nothing was captured. */
export function entryText(pl: StructPayload): string | null {
  if (pl.entry.length === 0) return null;
  const vals: Vals = {};
  prepare(envIn, pl, pl.entry, vals);
  return '{' + fields(pl.cs, envIn, 0, pl.limit, vals, M.Entry) + '}';
}

/** What the kernel wrote back (`{flags=…}`); null when it wrote nothing worth showing. */
export function exitText(pl: StructPayload, ok: boolean): string | null {
  const ex = pl.exit;
  if (ex === null || ex.length === 0) return null;
  const vals: Vals = {};
  prepare(envOut, pl, ex, vals);
  succeeded = ok;
  const s = fields(pl.cs, envOut, 0, pl.limit, vals, M.Exit);
  return gN === 0 ? null : '{' + s + '}';
}

/** Both sides' text of one call. */
export interface PayloadText {
  entry: string | null;
  exit: string | null;
}

const memos = payloadMemo<PayloadText>();

/** entryText and exitText together, remembered for payloads seen before. */
export function payloadText(pl: StructPayload, ok: boolean): PayloadText {
  return memoPayload(memos, pl, ok, makePayloadText);
}

function makePayloadText(pl: StructPayload, ok: boolean): PayloadText {
  return { entry: entryText(pl), exit: exitText(pl, ok) };
}
