// The interpreter: turns bytes into FieldNode trees by walking a struct
// description. Each struct is compiled once (per byte order) into a flat list
// of precomputed field plans — offsets, sizes, readers and memoising
// formatters — so decoding an event is a loop of DataView reads.

import type { Direction, FieldNode, Finding } from './types.js';
import { ctypeOf, type CapsType, type Field, type FlexShape, type SideCtx, type StructType, type Type, type Vals } from './dsl.js';
import { escapeBytes, makeFormatter, rawText, uuidText, type Formatter } from './format.js';
import { big, bytesDiffer, R, readerOf, readNum, readScalar } from './scalars.js';

/** Per-side decoding state (one per event side). */
export interface Env {
  dv: DataView;
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
    };
  });
  const c: CompiledStruct = { t, ctype: ctypeOf(t), plans };
  compiled.set(t, c);
  return c;
}

/** Whether a field belongs on this side: entry shows what the caller wrote, exit what the kernel wrote. */
export function onSide(dir: Direction, side: 'in' | 'out'): boolean {
  return dir === 'inout' || dir === side;
}

function unreadable(name: string, path: string, ctype: string, off: number, size: number, dir: Direction): FieldNode {
  return { name, path, ctype, offset: off, size, dir, display: '?', unreadable: true };
}

function aggregate(name: string, path: string, ctype: string, off: number, size: number, dir: Direction, children: FieldNode[]): FieldNode {
  const n: FieldNode = { name, path, ctype, offset: off, size, dir, display: '{…}', children };
  for (const c of children) {
    if (c.changed) {
      n.changed = true;
      break;
    }
  }
  return n;
}

/**
 * Decodes the fields of `cs` at `base` into `out`; returns the scalar values
 * seen (by field name) for `when`, counts and checks. `limit` is the end of
 * the bytes the caller declared (argsz): fields past it are not shown.
 * With `out` null no node is built: only values and findings (the tree is
 * built later, on demand, by a second walk with findings off).
 */
export function decodeFields(
  cs: CompiledStruct,
  env: Env,
  base: number,
  limit: number,
  prefix: string,
  out: FieldNode[] | null,
  vals: Vals,
): Vals {
  const side = env.ctx.side;
  for (const p of cs.plans) {
    const at = base + p.off;
    const f = p.f;
    if (f.when && !env.all && !f.when(vals, env.ctx)) continue;
    const ft = f.type;
    if (p.read !== -1) {
      if (at + p.size > limit) continue;
      const path = pathOf(p, prefix);
      if (at + p.size > env.len) {
        if (out !== null && onSide(p.dir, side)) out.push(unreadable(p.name, path, p.ctype, at, p.size, p.dir));
        continue;
      }
      // One number per field; the bigint only when a node, a custom display
      // or a finding needs it (num is 0 exactly when the value is).
      const num = readNum(env.dv, p.read, at, env.le);
      vals[p.name] = num;
      if (!env.all && !onSide(p.dir, side)) continue;
      if (out === null && !p.custom && !(f.reserved && num !== 0)) {
        if (env.findings !== null && side === 'in') valueFinding(p, num, path, env.findings);
        continue;
      }
      const v = p.size === 8 ? readScalar(env.dv, p.read, at, env.le) : big(num);
      if (out !== null) {
        const node: FieldNode = { name: p.name, path, ctype: p.ctype, offset: at, size: p.size, dir: p.dir, value: v, display: (p.fmt as Formatter)(v, num, vals) };
        if (env.cmp !== null && bytesDiffer(env.cmp, env.bytes, at, p.size)) node.changed = true;
        out.push(node);
      } else if (p.custom) (p.fmt as Formatter)(v, num, vals);
      if (env.findings !== null && side === 'in') {
        if (f.reserved && v !== 0n) {
          env.findings.push({ rule: 'reserved-nonzero', severity: 'warning', message: `${path} must be zero but is ${(p.fmt as Formatter)(v, num, vals)}`, field: path });
        } else valueFinding(p, num, path, env.findings);
      }
      continue;
    }
    switch (ft.kind) {
      case 'struct':
      case 'union': {
        if (at + p.size > limit) continue;
        const sub = p.sub as CompiledStruct;
        if (ft.name === '') {
          // Anonymous union/struct: members read as members of the parent.
          decodeFields(sub, env, at, limit, prefix, out, vals);
          continue;
        }
        const kids: FieldNode[] | null = out !== null ? [] : null;
        const sv: Vals = {};
        const path = pathOf(p, prefix);
        decodeFields(sub, env, at, limit, p.memoDot, kids, sv);
        // Nested values are visible to checks as "err.type".
        for (const k in sv) vals[subKey(p, k)] = sv[k] as number;
        if (out !== null && kids !== null && kids.length > 0) out.push(aggregate(p.name, path, p.ctype, at, p.size, p.dir, kids));
        continue;
      }
      case 'array': {
        if (at + p.size > limit) continue;
        const path = pathOf(p, prefix);
        if (out === null) {
          elemFindings(ft.elem, p.sub, ft.count, env, at, limit, path);
          continue;
        }
        const kids = decodeElems(ft.elem, p.sub, ft.count, env, at, limit, path, p.dir);
        if (kids.length > 0) out.push(aggregate(p.name, path, p.ctype, at, p.size, p.dir, kids));
        continue;
      }
      case 'uuid': {
        if (out === null || at + 16 > limit || (!env.all && !onSide(p.dir, side))) continue;
        const path = pathOf(p, prefix);
        if (at + 16 > env.len) {
          out.push(unreadable(p.name, path, p.ctype, at, 16, p.dir));
          continue;
        }
        const text = uuidText(env.bytes, at);
        const node: FieldNode = { name: p.name, path, ctype: p.ctype, offset: at, size: 16, dir: p.dir, text, display: text };
        if (env.cmp !== null && bytesDiffer(env.cmp, env.bytes, at, 16)) node.changed = true;
        out.push(node);
        continue;
      }
      case 'flex': {
        if (env.all) continue;
        let shape: FlexShape | null;
        if (ft.resolve) shape = ft.resolve(vals, env.ctx);
        else shape = { type: ft.elem, count: ft.count === 'argsz' ? null : (vals[ft.count] ?? 0) };
        if (shape === null) continue;
        const node = decodeFlex(p, shape, env, at, limit, prefix, vals, out !== null);
        if (node !== null && out !== null) out.push(node);
        continue;
      }
      case 'caps': {
        if (side !== 'out' || env.all) continue;
        const node = walkCaps(ft, env, vals, limit, prefix, out !== null);
        if (node !== null && out !== null) out.push(node);
        continue;
      }
      case 'cstring':
      case 'scalar':
        continue;
    }
  }
  return vals;
}

/** Elements of a fixed or flexible array. */
function decodeElems(elem: Type, sub: CompiledStruct | null, count: number, env: Env, at: number, limit: number, path: string, dir: Direction): FieldNode[] {
  const kids: FieldNode[] = [];
  const es = elem.size;
  if (es === 0) return kids;
  const cs = sub ?? (elem.kind === 'struct' || elem.kind === 'union' ? compileStruct(elem) : null);
  const side = env.ctx.side;
  const read = readerOf(elem);
  const fmt = elem.kind === 'scalar' ? elementFormatter(elem) : null;
  const ctype = ctypeOf(elem);
  for (let k = 0; k < count; k++) {
    const eat = at + k * es;
    if (eat + es > limit) break;
    const name = `[${k}]`;
    const epath = path + name;
    if (eat + es > env.len) {
      kids.push(unreadable(name, epath, ctype, eat, es, dir));
      break; // the rest is unreadable too; one marker is enough
    }
    if (read !== -1) {
      if (!env.all && !onSide(dir, side)) continue;
      const n = es === 8 ? 0 : readNum(env.dv, read, eat, env.le);
      const v = es === 8 ? readScalar(env.dv, read, eat, env.le) : big(n);
      const node: FieldNode = { name, path: epath, ctype, offset: eat, size: es, dir, value: v, display: (fmt as Formatter)(v, es === 8 ? Number(v) : n) };
      if (env.cmp !== null && bytesDiffer(env.cmp, env.bytes, eat, es)) node.changed = true;
      kids.push(node);
    } else if (cs !== null) {
      const ek: FieldNode[] = [];
      decodeFields(cs, env, eat, limit, epath + '.', ek, {});
      if (ek.length > 0) kids.push(aggregate(name, epath, ctype, eat, es, dir, ek));
    }
  }
  return kids;
}

/** The no-tree walk of an array: only struct elements can hold findings. */
function elemFindings(elem: Type, sub: CompiledStruct | null, count: number, env: Env, at: number, limit: number, path: string): void {
  const es = elem.size;
  const cs = sub ?? (elem.kind === 'struct' || elem.kind === 'union' ? compileStruct(elem) : null);
  if (es === 0 || cs === null || env.findings === null) return;
  for (let k = 0; k < count; k++) {
    const eat = at + k * es;
    if (eat + es > limit || eat + es > env.len) break;
    decodeFields(cs, env, eat, limit, path + '[' + k + '].', null, {});
  }
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

/** Flexible array member or variable payload, shaped per call. */
function decodeFlex(p: Plan, shape: FlexShape, env: Env, at: number, limit: number, prefix: string, vals: Vals, build: boolean): FieldNode | null {
  const path = pathOf(p, prefix);
  const t = shape.type;
  const avail = Math.max(0, limit - at);
  if (!build && (t.kind === 'cstring' || t.kind === 'uuid')) return null;
  if (t.kind === 'cstring') {
    const end = Math.min(limit, env.len);
    let stop = at;
    while (stop < end && env.bytes[stop] !== 0) stop++;
    const text = rawText(env.bytes, at, stop);
    return { name: p.name, path, ctype: shape.ctype ?? 'char[]', offset: at, size: stop - at, dir: p.dir, text, display: `"${escapeBytes(env.bytes, at, stop)}"` };
  }
  if (t.kind === 'uuid') {
    if (at + 16 > limit) return null;
    if (at + 16 > env.len) return unreadable(p.name, path, '__u8[16]', at, 16, p.dir);
    const text = uuidText(env.bytes, at);
    const node: FieldNode = { name: p.name, path, ctype: shape.ctype ?? '__u8[16]', offset: at, size: 16, dir: p.dir, text, display: text };
    if (env.cmp !== null && bytesDiffer(env.cmp, env.bytes, at, 16)) node.changed = true;
    return node;
  }
  if (shape.single && (t.kind === 'struct' || t.kind === 'union')) {
    if (at + t.size > limit) return null;
    const kids: FieldNode[] | null = build ? [] : null;
    const sv: Vals = {};
    decodeFields(compileStruct(t), env, at, limit, p.memoDot, kids, sv);
    // Payload values are visible to checks and return explanations as "data.<field>".
    for (const k in sv) vals[subKey(p, k)] = sv[k] as number;
    if (kids === null || kids.length === 0) return null;
    return aggregate(p.name, path, shape.ctype ?? ctypeOf(t), at, t.size, p.dir, kids);
  }
  const es = t.size;
  if (es === 0) return null;
  const count = shape.count === null ? Math.floor(avail / es) : Math.min(shape.count, Math.floor(avail / es));
  if (count <= 0) return null;
  const sub = t.kind === 'struct' || t.kind === 'union' ? compileStruct(t) : null;
  if (!build) {
    elemFindings(t, sub, count, env, at, limit, path);
    return null;
  }
  const kids = decodeElems(t, sub, count, env, at, limit, path, p.dir);
  if (kids.length === 0) return null;
  return aggregate(p.name, path, shape.ctype ?? `${ctypeOf(t)}[]`, at, count * es, p.dir, kids);
}

const CAP_HDR = 8;
const MAX_CAPS = 256;

function capFinding(env: Env, rule: string, message: string, field: string): void {
  env.findings?.push({ rule, severity: 'warning', message, field });
}

/**
 * Follows a capability chain written by the kernel: `next` and the first
 * offset are byte offsets from the start of the buffer. Loops, offsets past
 * argsz and chains cut by the capture end the walk with a finding.
 */
function walkCaps(ct: CapsType, env: Env, vals: Vals, limit: number, prefix: string, build: boolean): FieldNode | null {
  const flagsV = vals[ct.flagField] ?? 0;
  let off = vals[ct.offsetField] ?? 0;
  if ((flagsV & ct.flagBit) === 0 || off === 0) return null;
  const path = prefix + 'caps';
  const kids: FieldNode[] = [];
  const seen = new Set<number>();
  let end = 0;
  let unknownSeen = false;
  const first = off;
  while (off !== 0) {
    const where = `${path}[${kids.length}]`;
    if (seen.has(off)) {
      capFinding(env, 'cap-chain-loop', `capability chain loops back to offset ${off}`, where);
      break;
    }
    if (kids.length >= MAX_CAPS) {
      capFinding(env, 'cap-chain-too-long', `capability chain longer than ${MAX_CAPS} entries`, where);
      break;
    }
    if (off >= CAP_HDR && off + CAP_HDR > limit && off + CAP_HDR <= (vals.argsz ?? 0)) {
      // iommufd's VFIO compat layer links caps that did not fit and raises
      // argsz: the chain is fine, the caller's buffer was short.
      env.findings?.push({ rule: 'cap-beyond-buffer', severity: 'info', message: `capability at offset ${off} did not fit in the ${limit}-byte buffer (the kernel reports argsz ${vals.argsz})`, field: where });
      break;
    }
    if (off < CAP_HDR || off + CAP_HDR > limit) {
      capFinding(env, 'cap-chain-out-of-bounds', `capability at offset ${off} lies outside the ${limit}-byte buffer`, where);
      break;
    }
    if (off + CAP_HDR > env.len) {
      capFinding(env, 'cap-chain-truncated', `capability at offset ${off} was not captured (${env.len} bytes captured)`, where);
      break;
    }
    seen.add(off);
    const id = env.dv.getUint16(off, env.le);
    const next = env.dv.getUint32(off + 4, env.le);
    const desc = ct.caps.get(id);
    const name = `[${kids.length}]`;
    const ek: FieldNode[] = [];
    if (desc) {
      if (off + desc.type.size > limit) {
        capFinding(env, 'cap-chain-out-of-bounds', `capability ${desc.name} at offset ${off} runs past the ${limit}-byte buffer`, where);
      }
      decodeFields(compileStruct(desc.type), env, off, limit, where + '.', build ? ek : null, {});
      const node = aggregate(name, where, ctypeOf(desc.type), off, desc.type.size, 'out', ek);
      node.display = desc.name;
      kids.push(node);
      end = Math.max(end, off + desc.type.size);
    } else {
      decodeFields(compileStruct(ct.header), env, off, limit, where + '.', build ? ek : null, {});
      const node = aggregate(name, where, ctypeOf(ct.header), off, CAP_HDR, 'out', ek);
      node.display = `unknown capability id ${id}`;
      kids.push(node);
      if (!unknownSeen) env.findings?.push({ rule: 'cap-unknown-id', severity: 'info', message: `capability id ${id} at offset ${off} is not known to this decoder`, field: where });
      unknownSeen = true;
    }
    off = next;
  }
  if (kids.length === 0) return null;
  return aggregate('caps', path, `${ctypeOf(ct.header)}[]`, first, Math.max(0, end - first), 'out', kids);
}
