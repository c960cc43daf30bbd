// A short argument text for list rows: the entry side's top-level fields as
// `{argsz=40, flags=0, op=VFIO_EEH_PE_GET_STATE}`, nested aggregates as
// `{...}`, cut with `...` at a length. The same fields a tree's top level
// holds (the walk, decode/walk.ts, finds them); no tree is built.

import type { Direction } from '../../decode/types.js';
import type { Vals } from '../../decode/dsl.js';
import type { Env, Plan } from '../../decode/compile.js';
import { newVals } from '../../decode/compile.js';
import { scalarBig, walkFields, type ElemInfo, type FieldSink } from '../../decode/walk.js';
import type { StructPayload } from '../../decode/payload.js';
import type { Formatter } from '../../decode/format.js';

class ShortSink implements FieldSink {
  out = '{';
  parts = 0;
  cut = false;
  private depth = 0;
  /** Members reported inside the open top-level aggregate (an empty one is not there). */
  private inner = 0;

  constructor(private readonly max: number) {}

  private add(part: string): void {
    if (this.cut) return;
    if (this.out.length + part.length > this.max) {
      this.out += '...';
      this.cut = true;
      return;
    }
    this.out += (this.parts++ > 0 ? ', ' : '') + part;
  }

  member(p: Plan, _path: string, at: number, num: number, _changed: boolean, env: Env, vals: Vals): void {
    if (this.depth > 0) this.inner++;
    else if (!this.cut) this.add(p.label + (p.fmt as Formatter)(scalarBig(p, env, at, num), num, vals));
  }

  element(_e: ElemInfo): void {
    this.inner++;
  }

  blank(name: string): void {
    if (this.depth > 0) this.inner++;
    else this.add(name + '=?');
  }

  text(name: string, _path: string, _ctype: string, _at: number, _size: number, _dir: Direction, _text: string, display: string): void {
    if (this.depth > 0) this.inner++;
    else this.add(name + '=' + display);
  }

  open(): void {
    if (this.depth++ === 0) this.inner = 0;
  }

  close(name: string, _path: string, _ctype: string, _at: number, _size: number, _dir: Direction, keepEmpty: boolean): void {
    if (--this.depth > 0) {
      // A nested aggregate counts for its parent when it is there.
      return;
    }
    if (this.inner > 0 || keepEmpty) this.add(name + '={...}');
  }
}

const EMPTY = new Uint8Array(0);
const env: Env = { dv: new DataView(EMPTY.buffer), base: 0, bytes: EMPTY, le: true, len: 0, cmp: null, ctx: { side: 'in', ret: 0, argsz: 0, root: {} }, findings: null };

/**
 * The entry side's short text (`{…}` when it has no field). A description's
 * formatter that throws ends the text where it got to (the decoder's eager
 * pass runs the same formatters first, so a payload it kept does not throw).
 */
export function shortEntryText(pl: StructPayload, max: number): string {
  const vals = newVals(pl.cs);
  env.dv = pl.dv;
  env.base = pl.base;
  env.bytes = pl.entry;
  env.le = pl.le;
  env.len = pl.entry.length;
  env.ctx.ret = pl.ret;
  env.ctx.argsz = pl.argsz;
  env.ctx.root = vals;
  const sink = new ShortSink(max);
  try {
    walkFields(pl.cs, env, 0, pl.limit, '', sink, vals);
  } catch {
    // Shown as far as it got.
  }
  return sink.parts === 0 && !sink.cut ? '{…}' : sink.out + '}';
}
