// Reading and writing struct fields by their C names, with offsets taken from
// the decoders/ descriptions (src/decode/dsl.ts). The emulator never types an
// offset: "iova_pgsizes", "err.type", "iova_ranges[1].end" are looked up in
// the same description the decoder uses.

import type { ScalarType, StructType, Type } from '../decode/dsl.js';

export interface Loc {
  offset: number;
  type: ScalarType;
}

function memberOf(t: StructType, name: string, base: number): { offset: number; type: Type } | null {
  for (let k = 0; k < t.fields.length; k++) {
    const f = t.fields[k]!;
    if (f.name === name) return { offset: base + t.offsets[k]!, type: f.type };
  }
  // Anonymous unions/structs (type name ''): their members read as members of the parent.
  for (let k = 0; k < t.fields.length; k++) {
    const f = t.fields[k]!;
    if ((f.type.kind === 'struct' || f.type.kind === 'union') && f.type.name === '') {
      const hit = memberOf(f.type, name, base + t.offsets[k]!);
      if (hit) return hit;
    }
  }
  return null;
}

const locCache = new WeakMap<StructType, Map<string, Loc>>();

/** Offset and scalar type of a dotted field path ("argsz", "err.type", "areas[2].size"). */
export function locate(t: StructType, path: string): Loc {
  let cache = locCache.get(t);
  if (!cache) locCache.set(t, (cache = new Map()));
  const hit = cache.get(path);
  if (hit) return hit;
  let cur: Type = t;
  let offset = 0;
  for (const part of path.split('.')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(part);
    if (!m || (cur.kind !== 'struct' && cur.kind !== 'union')) throw new Error(`${t.name}: bad field path "${path}"`);
    const mem = memberOf(cur, m[1]!, offset);
    if (!mem) throw new Error(`struct ${t.name}: no field "${path}"`);
    offset = mem.offset;
    cur = mem.type;
    if (m[2] !== undefined) {
      const idx = Number(m[2]);
      if (cur.kind === 'array' || cur.kind === 'flex') {
        offset += idx * cur.elem.size;
        cur = cur.elem;
      } else throw new Error(`${t.name}: "${part}" is not an array`);
    }
  }
  if (cur.kind !== 'scalar') throw new Error(`${t.name}: "${path}" is not a scalar field`);
  const loc = { offset, type: cur };
  cache.set(path, loc);
  return loc;
}

/** Where a flexible array or cap chain member starts (its offset in the struct). */
export function offsetOfMember(t: StructType, name: string): number {
  const k = t.fields.findIndex((f) => f.name === name);
  if (k < 0) throw new Error(`struct ${t.name}: no field ${name}`);
  return t.offsets[k]!;
}

/** Element size of a flexible array member. */
export function flexElemSize(t: StructType, name: string): number {
  const f = t.fields.find((x) => x.name === name);
  if (!f || (f.type.kind !== 'flex' && f.type.kind !== 'array')) throw new Error(`struct ${t.name}: ${name} is not an array`);
  return f.type.elem.size;
}

/** A byte buffer viewed as one struct, in the tracee's byte order. */
export class StructBuf {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;

  constructor(
    readonly type: StructType,
    bytes: Uint8Array | number,
    readonly le: boolean,
  ) {
    this.bytes = typeof bytes === 'number' ? new Uint8Array(bytes) : bytes;
    this.dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Whether the field lies wholly inside the buffer (the caller's argsz may stop short). */
  has(path: string): boolean {
    const l = locate(this.type, path);
    return l.offset + l.type.size <= this.bytes.length;
  }

  /** Field value; 0n when the buffer stops before it (the kernel would read zeros it never copied). */
  get(path: string): bigint {
    const { offset, type } = locate(this.type, path);
    if (offset + type.size > this.bytes.length) return 0n;
    const dv = this.dv;
    const le = this.le;
    switch (type.size) {
      case 1:
        return BigInt(type.signed ? dv.getInt8(offset) : dv.getUint8(offset));
      case 2:
        return BigInt(type.signed ? dv.getInt16(offset, le) : dv.getUint16(offset, le));
      case 4:
        return BigInt(type.signed ? dv.getInt32(offset, le) : dv.getUint32(offset, le));
      default:
        return type.signed ? dv.getBigInt64(offset, le) : dv.getBigUint64(offset, le);
    }
  }

  num(path: string): number {
    return Number(this.get(path));
  }

  /** Sets a field (truncated to its width); silently skipped past the end of the buffer. */
  set(path: string, value: bigint | number): this {
    const { offset, type } = locate(this.type, path);
    if (offset + type.size > this.bytes.length) return this;
    const bits = BigInt(type.size * 8);
    const v = BigInt.asUintN(Number(bits), BigInt(value));
    const dv = this.dv;
    switch (type.size) {
      case 1:
        dv.setUint8(offset, Number(v));
        break;
      case 2:
        dv.setUint16(offset, Number(v), this.le);
        break;
      case 4:
        dv.setUint32(offset, Number(v), this.le);
        break;
      default:
        dv.setBigUint64(offset, v, this.le);
    }
    return this;
  }

  setAll(values: Readonly<Record<string, bigint | number>>): this {
    for (const [k, v] of Object.entries(values)) this.set(k, v);
    return this;
  }
}

/** A fresh struct of `size` bytes (default sizeof) with the given fields. */
export function encodeStruct(t: StructType, values: Readonly<Record<string, bigint | number>>, le: boolean, size = t.size): Uint8Array {
  return new StructBuf(t, size, le).setAll(values).bytes;
}
