// The one walk over a struct payload's bytes. It decides which fields are
// there on a side (past argsz, not captured, which direction, `when`, a
// flexible part's shape, a capability chain), reads each once, keeps the
// values checks and `when` rules read, and reports the caller's mistakes.
// What is made of the fields is a sink's business: a FieldNode tree
// (sinks/tree.ts), the one-line text (render/payloadText.ts), JSON
// (render/payloadJson.ts), a TUI row's short argument text
// (tui/state/rowArgs.ts) — or nothing (sink null: values and findings
// only). Nothing else walks payload bytes.

import type { Direction, Finding } from './types.js';
import { ctypeOf, type CapsType, type FlexShape, type Type, type Vals } from './dsl.js';
import { escapeBytes, rawText, uuidText, type Formatter } from './format.js';
import { big, bytesDiffer, readerOf, readNum, readScalar, type R } from './scalars.js';
import { compileStruct, elementFormatter, newVals, onSide, pathOf, subKey, type CompiledStruct, type Env, type Plan } from './compile.js';

/** A scalar array element: how to read and show it. */
export interface ElemInfo {
  read: R;
  fmt: Formatter;
  ctype: string;
  size: number;
}

/** What is made of the fields a walk finds, in walk order; aggregates bracket their members with open/close. */
export interface FieldSink {
  /** A readable scalar struct member on this side (`changed`: its bytes differ from the entry's). */
  member(p: Plan, path: string, at: number, num: number, changed: boolean, env: Env, vals: Vals): void;
  /** A readable scalar array element. */
  element(e: ElemInfo, name: string, path: string, at: number, dir: Direction, changed: boolean, env: Env): void;
  /** A field whose bytes were not captured. */
  blank(name: string, path: string, ctype: string, at: number, size: number, dir: Direction): void;
  /** A field shown as text (a UUID, a string): `text` the raw value, `display` as printed. */
  text(name: string, path: string, ctype: string, at: number, size: number, dir: Direction, text: string, display: string, changed: boolean): void;
  /** The members (or elements: `isArray`) of an aggregate follow, up to its close(). */
  open(isArray: boolean): void;
  /**
   * Ends an aggregate. It holds something when a member was reported; an
   * empty one is dropped unless `keepEmpty` (a capability whose body is not
   * described). `display` names a capability.
   */
  close(name: string, path: string, ctype: string, at: number, size: number, dir: Direction, keepEmpty: boolean, display: string | null): void;
}

/** A caller's value the header does not name: flag bits it lacks, an enum value (of an input field) it lacks. */
function valueFinding(p: Plan, num: number, path: string, findings: Finding[]): void {
  if (p.known !== -1 && (num & ~p.known) !== 0) {
    findings.push({ rule: 'unknown-flags', severity: 'warning', message: `${path} has bits the kernel does not define: 0x${((num & ~p.known) >>> 0).toString(16)}`, field: path });
  } else if (p.names !== null && p.dir === 'in' && !p.names.has(num)) {
    // Only a plain input: an in/out field's entry value may be one the kernel never reads.
    findings.push({ rule: 'unknown-enum', severity: 'warning', message: `${path} is ${num}, a value the kernel does not define`, field: path });
  }
}

/** What a walk makes of a scalar member (scalarState). */
export const SCALAR_ABSENT = 0; // past the bytes the caller declared: not there at all
export const SCALAR_BLANK = 1; // declared but not captured: shown without a value
export const SCALAR_HIDDEN = 2; // read (its value kept) but not shown: the other side's field
export const SCALAR_SHOWN = 3;

/**
 * The walk's rules for a scalar member at `at` of a side with `len` bytes
 * captured, `limit` declared. Anything that reads a member without walking
 * (the session model) asks this too, so it sees what the walk shows.
 */
export function scalarState(p: Plan, at: number, len: number, limit: number, side: 'in' | 'out', all: boolean): number {
  if (at + p.size > limit) return SCALAR_ABSENT;
  if (at + p.size > len) return SCALAR_BLANK;
  return all || onSide(p.dir, side) ? SCALAR_SHOWN : SCALAR_HIDDEN;
}

/** A scalar member: its value kept, its findings made, handed to the sink. */
function scalarMember(p: Plan, env: Env, at: number, limit: number, prefix: string, sink: FieldSink | null, vals: Vals): void {
  const side = env.ctx.side;
  const state = scalarState(p, at, env.len, limit, side, env.all === true);
  if (state === SCALAR_ABSENT) return;
  const path = pathOf(p, prefix);
  if (state === SCALAR_BLANK) {
    if (sink !== null && onSide(p.dir, side)) sink.blank(p.name, path, p.ctype, at, p.size, p.dir);
    return;
  }
  const num = readNum(env.dv, p.read as R, env.base + at, env.le);
  vals[p.name] = num;
  if (state === SCALAR_HIDDEN) return;
  if (sink !== null) sink.member(p, path, at, num, env.cmp !== null && bytesDiffer(env.cmp, env.bytes, at, p.size), env, vals);
  const reserved = p.reserved && num !== 0;
  // A description's own formatter runs in the eager pass even though nothing is shown there, so one that throws fails the
  // call's decode (it is shown undecoded) rather than a later rendering. Struct elements of fixed arrays are walked
  // only when findings are kept, so values-only walks (values.ts) do not run formatters inside them.
  if (sink === null && p.custom) (p.fmt as Formatter)(scalarBig(p, env, at, num), num, vals);
  if (env.findings === null || side !== 'in') return;
  if (reserved) {
    env.findings.push({ rule: 'reserved-nonzero', severity: 'warning', message: `${path} must be zero but is ${(p.fmt as Formatter)(scalarBig(p, env, at, num), num, vals)}`, field: path });
  } else valueFinding(p, num, path, env.findings);
}

/** The exact value of a scalar member (8-byte fields read again as bigint). */
export function scalarBig(p: Plan, env: Env, at: number, num: number): bigint {
  return p.size === 8 ? readScalar(env.dv, p.read as R, env.base + at, env.le) : big(num);
}

/**
 * Walks the fields of `cs` at `base`; values seen go into `vals` (by field
 * name) for `when`, counts and checks. `limit` is the end of the bytes the
 * caller declared (argsz): fields past it are not there.
 */
export function walkFields(cs: CompiledStruct, env: Env, base: number, limit: number, prefix: string, sink: FieldSink | null, vals: Vals): Vals {
  const plans = cs.plans;
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i] as Plan;
    const when = p.when;
    if (when !== null && !env.all && !when(vals, env.ctx)) continue;
    const at = base + p.off;
    if (p.read !== -1) scalarMember(p, env, at, limit, prefix, sink, vals);
    else walkAggregate(p, env, at, limit, prefix, sink, vals);
  }
  return vals;
}

/** A nested part's values, visible to checks under "name.k" (those the walk set: newVals presets every key). */
function copyNested(p: Plan, sv: Vals, vals: Vals): void {
  for (const k in sv) {
    const v = sv[k];
    if (v !== undefined) vals[subKey(p, k)] = v;
  }
}

function walkAggregate(p: Plan, env: Env, at: number, limit: number, prefix: string, sink: FieldSink | null, vals: Vals): void {
  const ft = p.f.type;
  switch (ft.kind) {
    case 'struct':
    case 'union': {
      if (at + p.size > limit) return;
      const sub = p.sub as CompiledStruct;
      // Anonymous union/struct: members read as members of the parent.
      if (ft.name === '') {
        walkFields(sub, env, at, limit, prefix, sink, vals);
        return;
      }
      const sv = newVals(sub);
      const path = pathOf(p, prefix);
      sink?.open(false);
      walkFields(sub, env, at, limit, p.memoDot, sink, sv);
      sink?.close(p.name, path, p.ctype, at, p.size, p.dir, false, null);
      // Nested values are visible to checks as "err.type".
      copyNested(p, sv, vals);
      return;
    }
    case 'array': {
      if (at + p.size > limit) return;
      const path = pathOf(p, prefix);
      if (sink === null && env.findings === null) return;
      sink?.open(true);
      walkElems(ft.elem, p.sub, ft.count, env, at, limit, path, p.dir, sink);
      sink?.close(p.name, path, p.ctype, at, p.size, p.dir, false, null);
      return;
    }
    case 'uuid': {
      if (sink === null || at + 16 > limit || (!env.all && !onSide(p.dir, env.ctx.side))) return;
      const path = pathOf(p, prefix);
      if (at + 16 > env.len) sink.blank(p.name, path, p.ctype, at, 16, p.dir);
      else {
        const text = uuidText(env.bytes, at);
        sink.text(p.name, path, p.ctype, at, 16, p.dir, text, text, env.cmp !== null && bytesDiffer(env.cmp, env.bytes, at, 16));
      }
      return;
    }
    case 'flex': {
      if (env.all) return;
      const shape: FlexShape | null = ft.resolve ? ft.resolve(vals, env.ctx) : { type: ft.elem, count: ft.count === 'argsz' ? null : (vals[ft.count] ?? 0) };
      if (shape !== null) walkFlex(p, shape, env, at, limit, prefix, vals, sink);
      return;
    }
    case 'caps':
      if (env.ctx.side === 'out' && !env.all) walkCaps(ft, env, vals, limit, prefix, sink);
      return;
    case 'cstring':
    case 'scalar':
      return;
  }
}

const elemInfos = new WeakMap<Type, ElemInfo>();

function elemInfo(elem: Type & { kind: 'scalar' }): ElemInfo {
  let e = elemInfos.get(elem);
  if (e === undefined) {
    e = { read: readerOf(elem) as R, fmt: elementFormatter(elem), ctype: ctypeOf(elem), size: elem.size };
    elemInfos.set(elem, e);
  }
  return e;
}

/** Elements of a fixed or flexible array; with no sink only struct elements are walked (only they can hold findings). */
function walkElems(elem: Type, sub: CompiledStruct | null, count: number, env: Env, at: number, limit: number, path: string, dir: Direction, sink: FieldSink | null): void {
  const es = elem.size;
  if (es === 0) return;
  const cs = sub ?? (elem.kind === 'struct' || elem.kind === 'union' ? compileStruct(elem) : null);
  if (sink === null && (cs === null || env.findings === null)) return;
  const scalar = elem.kind === 'scalar' ? elemInfo(elem) : null;
  const side = env.ctx.side;
  for (let k = 0; k < count; k++) {
    const eat = at + k * es;
    if (eat + es > limit) break;
    const name = `[${k}]`;
    const epath = path + name;
    if (eat + es > env.len) {
      sink?.blank(name, epath, ctypeOf(elem), eat, es, dir);
      break; // the rest is unreadable too; one marker is enough
    }
    if (scalar !== null) {
      if (sink !== null && (env.all || onSide(dir, side))) sink.element(scalar, name, epath, eat, dir, env.cmp !== null && bytesDiffer(env.cmp, env.bytes, eat, es), env);
    } else if (cs !== null) {
      sink?.open(false);
      walkFields(cs, env, eat, limit, epath + '.', sink, {});
      sink?.close(name, epath, ctypeOf(elem), eat, es, dir, false, null);
    }
  }
}

/** Flexible array member or variable payload, shaped per call. */
function walkFlex(p: Plan, shape: FlexShape, env: Env, at: number, limit: number, prefix: string, vals: Vals, sink: FieldSink | null): void {
  const path = pathOf(p, prefix);
  const t = shape.type;
  if (t.kind === 'cstring') {
    if (sink === null) return;
    const end = Math.min(limit, env.len);
    let stop = at;
    while (stop < end && env.bytes[stop] !== 0) stop++;
    sink.text(p.name, path, shape.ctype ?? 'char[]', at, stop - at, p.dir, rawText(env.bytes, at, stop), `"${escapeBytes(env.bytes, at, stop)}"`, false);
    return;
  }
  if (t.kind === 'uuid') {
    if (sink === null || at + 16 > limit) return;
    if (at + 16 > env.len) sink.blank(p.name, path, '__u8[16]', at, 16, p.dir);
    else {
      const text = uuidText(env.bytes, at);
      sink.text(p.name, path, shape.ctype ?? '__u8[16]', at, 16, p.dir, text, text, env.cmp !== null && bytesDiffer(env.cmp, env.bytes, at, 16));
    }
    return;
  }
  if (shape.single && (t.kind === 'struct' || t.kind === 'union')) {
    if (at + t.size > limit) return;
    const cs = compileStruct(t);
    const sv = newVals(cs);
    sink?.open(false);
    walkFields(cs, env, at, limit, p.memoDot, sink, sv);
    sink?.close(p.name, path, shape.ctype ?? ctypeOf(t), at, t.size, p.dir, false, null);
    // Payload values are visible to checks and return explanations as "data.<field>".
    copyNested(p, sv, vals);
    return;
  }
  const es = t.size;
  if (es === 0) return;
  const avail = Math.max(0, limit - at);
  const count = shape.count === null ? Math.floor(avail / es) : Math.min(shape.count, Math.floor(avail / es));
  if (count <= 0) return;
  const sub = t.kind === 'struct' || t.kind === 'union' ? compileStruct(t) : null;
  sink?.open(true);
  walkElems(t, sub, count, env, at, limit, path, p.dir, sink);
  sink?.close(p.name, path, shape.ctype ?? `${ctypeOf(t)}[]`, at, count * es, p.dir, false, null);
}

const CAP_HDR = 8;
const MAX_CAPS = 256;

function capFinding(env: Env, rule: string, message: string, field: string): void {
  env.findings?.push({ rule, severity: 'warning', message, field });
}

/** Whether the chain can go on at `off`; if not, the finding that says why. */
function capReadable(env: Env, vals: Vals, limit: number, off: number, where: string, seen: Set<number>, k: number): boolean {
  if (seen.has(off)) {
    capFinding(env, 'cap-chain-loop', `capability chain loops back to offset ${off}`, where);
    return false;
  }
  if (k >= MAX_CAPS) {
    capFinding(env, 'cap-chain-too-long', `capability chain longer than ${MAX_CAPS} entries`, where);
    return false;
  }
  if (off >= CAP_HDR && off + CAP_HDR > limit && off + CAP_HDR <= (vals.argsz ?? 0)) {
    // iommufd's VFIO compat layer links caps that did not fit and raises
    // argsz: the chain is fine, the caller's buffer was short.
    env.findings?.push({ rule: 'cap-beyond-buffer', severity: 'info', message: `capability at offset ${off} did not fit in the ${limit}-byte buffer (the kernel reports argsz ${vals.argsz})`, field: where });
    return false;
  }
  if (off < CAP_HDR || off + CAP_HDR > limit) {
    capFinding(env, 'cap-chain-out-of-bounds', `capability at offset ${off} lies outside the ${limit}-byte buffer`, where);
    return false;
  }
  if (off + CAP_HDR > env.len) {
    capFinding(env, 'cap-chain-truncated', `capability at offset ${off} was not captured (${env.len} bytes captured)`, where);
    return false;
  }
  return true;
}

/**
 * Follows a capability chain written by the kernel: `next` and the first
 * offset are byte offsets from the start of the buffer. Loops, offsets past
 * argsz and chains cut by the capture end the walk with a finding.
 */
function walkCaps(ct: CapsType, env: Env, vals: Vals, limit: number, prefix: string, sink: FieldSink | null): void {
  let off = vals[ct.offsetField] ?? 0;
  if (((vals[ct.flagField] ?? 0) & ct.flagBit) === 0 || off === 0) return;
  const path = prefix + 'caps';
  const seen = new Set<number>();
  const first = off;
  let end = 0;
  let k = 0;
  let unknownSeen = false;
  sink?.open(true);
  while (off !== 0) {
    const where = `${path}[${k}]`;
    if (!capReadable(env, vals, limit, off, where, seen, k)) break;
    seen.add(off);
    const id = env.dv.getUint16(env.base + off, env.le);
    const next = env.dv.getUint32(env.base + off + 4, env.le);
    const desc = ct.caps.get(id);
    const t = desc ? desc.type : ct.header;
    if (desc && off + desc.type.size > limit) {
      capFinding(env, 'cap-chain-out-of-bounds', `capability ${desc.name} at offset ${off} runs past the ${limit}-byte buffer`, where);
    }
    sink?.open(false);
    walkFields(compileStruct(t), env, off, limit, where + '.', sink, {});
    sink?.close(`[${k}]`, where, ctypeOf(t), off, desc ? t.size : CAP_HDR, 'out', true, desc ? desc.name : `unknown capability id ${id}`);
    if (desc) end = Math.max(end, off + t.size);
    else {
      if (!unknownSeen) env.findings?.push({ rule: 'cap-unknown-id', severity: 'info', message: `capability id ${id} at offset ${off} is not known to this decoder`, field: where });
      unknownSeen = true;
    }
    k++;
    off = next;
  }
  sink?.close('caps', path, `${ctypeOf(ct.header)}[]`, first, Math.max(0, end - first), 'out', false, null);
}
