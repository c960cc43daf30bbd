// Building a struct payload's FieldNode tree on demand, from the same inputs
// the decoder's eager walk (values and findings only) used.

import type { CompiledStruct, Env } from './compile.js';
import { newVals } from './compile.js';
import { decodeFields } from './sinks/tree.js';
import type { FieldNode } from './types.js';
import type { Vals } from './dsl.js';

/** What a struct payload's tree is rebuilt from: the same inputs the eager walk had. */
export interface StructPayload {
  cs: CompiledStruct;
  entry: Uint8Array;
  /** Where the entry bytes are read: entry[k] is at dv offset base + k. */
  dv: DataView;
  base: number;
  /** Exit bytes when the kernel wrote the struct back (else null: no `out`). */
  exit: Uint8Array | null;
  dvExit: DataView | null;
  baseExit: number;
  le: boolean;
  ret: number;
  argsz: number;
  /** End of the bytes the caller declared: fields past it are not shown. */
  limit: number;
}


export function sideEnv(pl: StructPayload, side: 'in' | 'out', vals: Vals): Env {
  const b = side === 'in' ? pl.entry : (pl.exit as Uint8Array);
  return {
    dv: side === 'in' ? pl.dv : (pl.dvExit as DataView),
    base: side === 'in' ? pl.base : pl.baseExit,
    bytes: b,
    le: pl.le,
    len: b.length,
    cmp: side === 'out' ? pl.entry : null,
    ctx: { side, ret: pl.ret, argsz: pl.argsz, root: vals },
    // Findings were collected by the eager walk.
    findings: null,
  };
}

/** The root node of one side, or null when that side has no payload. */
export function buildSide(pl: StructPayload, side: 'in' | 'out'): FieldNode | null {
  const b = side === 'in' ? pl.entry : pl.exit;
  if (b === null || b.length === 0) return null;
  const vals = newVals(pl.cs);
  const kids: FieldNode[] = [];
  try {
    decodeFields(pl.cs, sideEnv(pl, side, vals), 0, pl.limit, '', kids, vals);
  } catch {
    // The eager walk ran the same code on the same bytes; this cannot happen
    // unless a description is not deterministic. Show what was built.
  }
  const root: FieldNode = { name: pl.cs.t.name, path: '', ctype: pl.cs.ctype, offset: 0, size: b.length, dir: 'inout', display: '{…}', children: kids };
  if (side === 'out') for (const c of kids) if (c.changed) root.changed = true;
  return root;
}
