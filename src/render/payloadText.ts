// The one-line text of a payload side, made as the walk (walk.ts) finds the
// fields, in the shapes the text renderer prints (payload.ts says the same
// over a tree): the caller's view at entry (what it provides), what
// the kernel wrote at exit (its out fields when the call succeeded, and any
// field whose bytes changed). An array is shown whole or not at all, so its
// elements are also kept in full (`all`) while the walk is inside one.

import type { Direction } from '../decode/types.js';
import type { Vals } from '../decode/dsl.js';
import type { Env, Plan } from '../decode/compile.js';
import { newVals } from '../decode/compile.js';
import { walkFields, scalarBig, type ElemInfo, type FieldSink } from '../decode/walk.js';
import { readNum, readScalar } from '../decode/scalars.js';
import { escapeControls } from './escape.js';
import type { StructPayload } from '../decode/payload.js';
import { memoPayload, payloadMemo } from '../decode/memo.js';
import type { Formatter } from '../decode/format.js';

/** One aggregate being written (frames are reused by depth). */
interface Frame {
  isArray: boolean;
  /** Inside an array: the full text is what will be printed. */
  needAll: boolean;
  /** Members a tree would hold (an aggregate with none is not there). */
  present: number;
  /** The view's text and member count (entry: provided fields; exit: what the kernel wrote). */
  view: string;
  viewN: number;
  /** Every member's text and count, while needAll. */
  all: string;
  allN: number;
  /** Some member would show in the exit view (an array then shows whole). */
  qual: boolean;
}

const newFrame = (): Frame => ({ isArray: false, needAll: false, present: 0, view: '', viewN: 0, all: '', allN: 0, qual: false });

// Built-in displays read the bigint only for numbers that are negative or not
// exact (see makeFormatter); custom ones always get the real value.
const UNUSED = 0n;

class TextSink implements FieldSink {
  exit = false;
  /** The call succeeded (the exit view shows out fields only then). */
  ok = false;
  private readonly frames: Frame[] = [newFrame()];
  private depth = 0;

  /** Starts a side: the root frame, emptied. */
  begin(exit: boolean, ok: boolean): Frame {
    this.exit = exit;
    this.ok = ok;
    this.depth = 0;
    return this.reset(this.frames[0] as Frame, false, false);
  }

  private reset(f: Frame, isArray: boolean, needAll: boolean): Frame {
    f.isArray = isArray;
    f.needAll = needAll;
    f.present = 0;
    f.view = '';
    f.viewN = 0;
    f.all = '';
    f.allN = 0;
    f.qual = false;
    return f;
  }

  /** Whether a leaf shows in the view. */
  private shows(dir: Direction, changed: boolean): boolean {
    return this.exit ? changed || (this.ok && dir === 'out') : dir !== 'out';
  }

  /** A leaf's text into the current frame; `label`/`nextLabel` for struct members, not used in arrays. */
  private leaf(label: string, nextLabel: string, shown: boolean, text: string): void {
    const f = this.frames[this.depth] as Frame;
    f.present++;
    if (f.isArray) {
      if (shown) f.qual = true;
      f.all += (f.allN++ > 0 ? ', ' : '') + text;
      return;
    }
    if (f.needAll) f.all += (f.allN++ > 0 ? nextLabel : label) + text;
    if (shown) {
      f.qual = true;
      f.view += (f.viewN++ > 0 ? nextLabel : label) + text;
    }
  }

  member(p: Plan, _path: string, at: number, num: number, changed: boolean, env: Env, vals: Vals): void {
    const shown = this.shows(p.dir, changed);
    const f = this.frames[this.depth] as Frame;
    if (!shown && !f.needAll) {
      f.present++;
      return;
    }
    const v = !p.custom && num >= 0 && Number.isSafeInteger(num) ? UNUSED : scalarBig(p, env, at, num);
    this.leaf(p.label, p.nextLabel, shown, (p.fmt as Formatter)(v, num, vals));
  }

  element(e: ElemInfo, _name: string, _path: string, at: number, dir: Direction, changed: boolean, env: Env): void {
    const n = e.size === 8 ? 0 : readNum(env.dv, e.read, env.base + at, env.le);
    const v = e.size === 8 ? readScalar(env.dv, e.read, env.base + at, env.le) : BigInt(n);
    this.leaf('', '', this.shows(dir, changed), e.fmt(v, e.size === 8 ? Number(v) : n));
  }

  blank(name: string, _path: string, _ctype: string, _at: number, _size: number, dir: Direction): void {
    this.leaf(name + '=', ', ' + name + '=', this.shows(dir, false), '?');
  }

  text(name: string, _path: string, _ctype: string, _at: number, _size: number, dir: Direction, _text: string, display: string, changed: boolean): void {
    // Only strings carry the tracee's bytes: escaped as the tree renderer does.
    this.leaf(name + '=', ', ' + name + '=', this.shows(dir, changed), escapeControls(display));
  }

  open(isArray: boolean): void {
    const parent = this.frames[this.depth] as Frame;
    if (++this.depth === this.frames.length) this.frames.push(newFrame());
    this.reset(this.frames[this.depth] as Frame, isArray, parent.needAll || parent.isArray);
  }

  close(name: string, _path: string, _ctype: string, _at: number, _size: number, dir: Direction, keepEmpty: boolean): void {
    const c = this.frames[this.depth--] as Frame;
    if (c.present === 0 && !keepEmpty) return;
    const p = this.frames[this.depth] as Frame;
    // The whole aggregate: what an array shows, and what a struct inside one shows (its frame kept it: needAll).
    const full = c.isArray ? '[' + c.all + ']' : c.needAll ? '{' + c.all + '}' : '';
    let view: string | null;
    if (!this.exit) view = dir === 'out' ? null : c.isArray ? full : '{' + c.view + '}';
    else view = c.isArray ? (c.qual ? full : null) : c.viewN > 0 ? '{' + c.view + '}' : null;
    p.present++;
    if (p.isArray) {
      if (view !== null) p.qual = true;
      p.all += (p.allN++ > 0 ? ', ' : '') + full;
      return;
    }
    if (p.needAll) p.all += (p.allN++ > 0 ? ', ' : '') + name + '=' + full;
    if (view !== null) {
      p.qual = true;
      p.view += (p.viewN++ > 0 ? ', ' : '') + name + '=' + view;
    }
  }
}

const sink = new TextSink();
const EMPTY = new Uint8Array(0);
const newEnv = (side: 'in' | 'out'): Env => ({ dv: new DataView(EMPTY.buffer), base: 0, bytes: EMPTY, le: true, len: 0, cmp: null, ctx: { side, ret: 0, argsz: 0, root: {} }, findings: null });
// Formatting is synchronous and not re-entrant: one environment per side, reused.
const envIn = newEnv('in');
const envOut = newEnv('out');

function prepare(env: Env, pl: StructPayload, b: Uint8Array, vals: Vals): Env {
  env.dv = env === envOut ? (pl.dvExit as DataView) : pl.dv;
  env.base = env === envOut ? pl.baseExit : pl.base;
  env.bytes = b;
  env.le = pl.le;
  env.len = b.length;
  env.cmp = env === envOut ? pl.entry : null;
  env.ctx.ret = pl.ret;
  env.ctx.argsz = pl.argsz;
  env.ctx.root = vals;
  return env;
}

/** The caller's view of a struct payload, `{a=1, b=2}`; null when nothing was captured. */
export function entryText(pl: StructPayload): string | null {
  if (pl.entry.length === 0) return null;
  const vals = newVals(pl.cs);
  const root = sink.begin(false, false);
  walkFields(pl.cs, prepare(envIn, pl, pl.entry, vals), 0, pl.limit, '', sink, vals);
  return '{' + root.view + '}';
}

/** What the kernel wrote back (`{flags=…}`); null when it wrote nothing worth showing. */
export function exitText(pl: StructPayload, ok: boolean): string | null {
  const ex = pl.exit;
  if (ex === null || ex.length === 0) return null;
  const vals = newVals(pl.cs);
  const root = sink.begin(true, ok);
  walkFields(pl.cs, prepare(envOut, pl, ex, vals), 0, pl.limit, '', sink, vals);
  return root.viewN === 0 ? null : '{' + root.view + '}';
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
