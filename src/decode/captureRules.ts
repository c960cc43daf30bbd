// Capture rules for the tracer, derived from the descriptions. Numbers that
// several ioctls share (one per fd kind or backend) get one rule that serves
// every candidate: the richest kind wins (struct > fixed > string > integer >
// none), with the largest minsz and cap.

import { RuleKind } from '../trace/events.js';
import type { CaptureRule } from '../trace/captureRule.js';
import type { IoctlDesc } from './ioctlDesc.js';
import { encodeIo } from './encoding.js';
import type { Registry } from './registry.js';

const RANK: Record<RuleKind, number> = {
  [RuleKind.None]: 0,
  [RuleKind.Integer]: 1,
  [RuleKind.CString]: 2,
  [RuleKind.Fixed]: 3,
  [RuleKind.Sized]: 4,
};

function ruleOf(d: IoctlDesc): { kind: RuleKind; size: number; minsz: number; cap: number } {
  switch (d.arg.kind) {
    case 'none':
      return { kind: RuleKind.None, size: 0, minsz: 0, cap: 0 };
    case 'int':
      return { kind: RuleKind.Integer, size: 0, minsz: 0, cap: 0 };
    case 'fdptr':
    case 'u32ptr':
      return { kind: RuleKind.Fixed, size: 4, minsz: 4, cap: 4 };
    case 'cstring':
      return { kind: RuleKind.CString, size: 0, minsz: 0, cap: d.cap };
    case 'struct':
      return { kind: RuleKind.Sized, size: 0, minsz: d.minsz, cap: Math.max(d.cap, d.minsz) };
  }
}

export function captureRules(arch: string, reg: Registry): CaptureRule[] {
  const out: CaptureRule[] = [];
  const nrs = [...reg.byNr.keys()].sort((a, b) => a - b);
  for (const nr of nrs) {
    let best: { kind: RuleKind; size: number; minsz: number; cap: number } | null = null;
    for (const d of reg.byNr.get(nr) ?? []) {
      const r = ruleOf(d);
      if (best === null) best = r;
      else {
        const kind: RuleKind = RANK[r.kind] > RANK[best.kind] ? r.kind : best.kind;
        best = { kind, size: Math.max(best.size, r.size), minsz: Math.max(best.minsz, r.minsz), cap: Math.max(best.cap, r.cap) };
      }
    }
    if (best === null) continue;
    // A sized rule must read at least what a fixed-size candidate needs.
    if (best.kind === RuleKind.Sized) best.size = 0;
    out.push({ request: encodeIo(arch, nr), kind: best.kind, size: best.size, minsz: best.minsz, cap: best.cap });
  }
  return out;
}
