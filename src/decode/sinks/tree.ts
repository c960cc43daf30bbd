// The FieldNode tree of a payload side, as the walk (walk.ts) finds it: what
// the detail pane, JSON and anything that reads fields by path are given.

import type { Direction, FieldNode } from '../types.js';
import type { Vals } from '../dsl.js';
import type { CompiledStruct, Env, Plan } from '../compile.js';
import { walkFields, type ElemInfo, type FieldSink } from '../walk.js';
import { big, readNum, readScalar } from '../scalars.js';
import type { Formatter } from '../format.js';

class TreeSink implements FieldSink {
  /** The node list being filled: the caller's at the bottom, one per open aggregate above. */
  private readonly stack: FieldNode[][];

  constructor(out: FieldNode[]) {
    this.stack = [out];
  }

  private get top(): FieldNode[] {
    return this.stack[this.stack.length - 1] as FieldNode[];
  }

  member(p: Plan, path: string, at: number, num: number, changed: boolean, env: Env, vals: Vals): void {
    const v = p.size === 8 ? readScalar(env.dv, p.read as Exclude<Plan['read'], -1>, env.base + at, env.le) : big(num);
    const node: FieldNode = { name: p.name, path, ctype: p.ctype, offset: at, size: p.size, dir: p.dir, value: v, display: (p.fmt as Formatter)(v, num, vals) };
    if (changed) node.changed = true;
    this.top.push(node);
  }

  element(e: ElemInfo, name: string, path: string, at: number, dir: Direction, changed: boolean, env: Env): void {
    const n = e.size === 8 ? 0 : readNum(env.dv, e.read, env.base + at, env.le);
    const v = e.size === 8 ? readScalar(env.dv, e.read, env.base + at, env.le) : big(n);
    const node: FieldNode = { name, path, ctype: e.ctype, offset: at, size: e.size, dir, value: v, display: e.fmt(v, e.size === 8 ? Number(v) : n) };
    if (changed) node.changed = true;
    this.top.push(node);
  }

  blank(name: string, path: string, ctype: string, at: number, size: number, dir: Direction): void {
    this.top.push({ name, path, ctype, offset: at, size, dir, display: '?', unreadable: true });
  }

  text(name: string, path: string, ctype: string, at: number, size: number, dir: Direction, text: string, display: string, changed: boolean): void {
    const node: FieldNode = { name, path, ctype, offset: at, size, dir, text, display };
    if (changed) node.changed = true;
    this.top.push(node);
  }

  open(): void {
    this.stack.push([]);
  }

  close(name: string, path: string, ctype: string, at: number, size: number, dir: Direction, keepEmpty: boolean, display: string | null): void {
    const children = this.stack.pop() as FieldNode[];
    if (children.length === 0 && !keepEmpty) return;
    const node: FieldNode = { name, path, ctype, offset: at, size, dir, display: display ?? '{…}', children };
    for (const c of children) {
      if (c.changed) {
        node.changed = true;
        break;
      }
    }
    this.top.push(node);
  }
}

/** The walk with a tree: nodes pushed onto `out` (null: values and findings only). */
export function decodeFields(cs: CompiledStruct, env: Env, base: number, limit: number, prefix: string, out: FieldNode[] | null, vals: Vals): Vals {
  return walkFields(cs, env, base, limit, prefix, out === null ? null : new TreeSink(out), vals);
}
