// A struct payload side as JSON — objects keyed by C field name, arrays as
// arrays, numbers exact (else a "0x…" string), unreadable fields null — made
// as the walk (decode/walk.ts) finds the fields, without building a tree.
// json.ts says the same over a tree (nodeJson) for trees given from elsewhere.

import type { Direction } from '../decode/types.js';
import type { Vals } from '../decode/dsl.js';
import type { Env, Plan } from '../decode/compile.js';
import { newVals } from '../decode/compile.js';
import { scalarBig, walkFields, type ElemInfo, type FieldSink } from '../decode/walk.js';
import { readScalar } from '../decode/scalars.js';
import type { StructPayload } from '../decode/payload.js';
import { jsonInt, jsonKey } from './jsonText.js';

interface Frame {
  isArray: boolean;
  s: string;
  n: number;
}

class JsonSink implements FieldSink {
  private readonly frames: Frame[] = [{ isArray: false, s: '', n: 0 }];
  private depth = 0;

  begin(): Frame {
    this.depth = 0;
    const f = this.frames[0] as Frame;
    f.s = '';
    f.n = 0;
    return f;
  }

  private add(key: string, value: string): void {
    const f = this.frames[this.depth] as Frame;
    f.s += (f.n++ > 0 ? ',' : '') + (f.isArray ? value : key + value);
  }

  member(p: Plan, _path: string, at: number, num: number, _changed: boolean, env: Env): void {
    // A safe integer from readNum is the field's exact value.
    this.add(p.jsonKey, Number.isSafeInteger(num) ? String(num) : jsonInt(scalarBig(p, env, at, num)));
  }

  element(e: ElemInfo, _name: string, _path: string, at: number, _dir: Direction, _changed: boolean, env: Env): void {
    this.add('', jsonInt(readScalar(env.dv, e.read, env.base + at, env.le)));
  }

  blank(name: string): void {
    this.add(jsonKey(name), 'null');
  }

  text(name: string, _path: string, _ctype: string, _at: number, _size: number, _dir: Direction, text: string): void {
    this.add(jsonKey(name), JSON.stringify(text));
  }

  open(isArray: boolean): void {
    if (++this.depth === this.frames.length) this.frames.push({ isArray, s: '', n: 0 });
    const f = this.frames[this.depth] as Frame;
    f.isArray = isArray;
    f.s = '';
    f.n = 0;
  }

  close(name: string, _path: string, _ctype: string, _at: number, _size: number, _dir: Direction, keepEmpty: boolean): void {
    const c = this.frames[this.depth--] as Frame;
    if (c.n === 0 && !keepEmpty) return;
    this.add(jsonKey(name), c.isArray ? '[' + c.s + ']' : '{' + c.s + '}');
  }
}

const sink = new JsonSink();
const EMPTY = new Uint8Array(0);
// Synchronous and not re-entrant: one environment, reused.
const env: Env = { dv: new DataView(EMPTY.buffer), base: 0, bytes: EMPTY, le: true, len: 0, cmp: null, ctx: { side: 'in', ret: 0, argsz: 0, root: {} }, findings: null };

/** One side of a struct payload as JSON; 'null' when that side has no bytes (no `out` when nothing was written back). */
export function payloadSideJson(pl: StructPayload, side: 'in' | 'out'): string {
  const b = side === 'in' ? pl.entry : pl.exit;
  if (b === null || b.length === 0) return 'null';
  const vals = newVals(pl.cs);
  env.dv = side === 'in' ? pl.dv : (pl.dvExit as DataView);
  env.base = side === 'in' ? pl.base : pl.baseExit;
  env.bytes = b;
  env.le = pl.le;
  env.len = b.length;
  env.cmp = null; // JSON does not mark changed fields: no byte comparison
  env.ctx.side = side;
  env.ctx.ret = pl.ret;
  env.ctx.argsz = pl.argsz;
  env.ctx.root = vals;
  const root = sink.begin();
  walkFields(pl.cs, env, 0, pl.limit, '', sink, vals);
  return '{' + root.s + '}';
}
