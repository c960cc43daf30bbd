// Reading and writing struct fields by their C names, with offsets taken from
// the decoders/ descriptions (src/decode/dsl.ts). The emulator never types an
// offset: "iova_pgsizes", "err.type", "iova_ranges[1].end" are looked up in
// the same description the decoder uses.

import { fieldAt, type ScalarType, type StructType } from '../decode/dsl.js';

export interface Loc {
  offset: number;
  type: ScalarType;
}

/** Offset and scalar type of a dotted field path ("argsz", "err.type", "areas[2].size"): the description's own (dsl.ts fieldAt). */
export function locate(t: StructType, path: string): Loc {
  const loc = fieldAt(t, path);
  if (loc.type.kind !== 'scalar') throw new Error(`${t.name}: "${path}" is not a scalar field`);
  return loc as Loc;
}

/** Where a flexible array or cap chain member starts (its offset in the struct). */
export function offsetOfMember(t: StructType, name: string): number {
  return fieldAt(t, name).offset;
}

/** Element size of a flexible array member. */
export function flexElemSize(t: StructType, name: string): number {
  const ft = fieldAt(t, name).type;
  if (ft.kind !== 'flex' && ft.kind !== 'array') throw new Error(`struct ${t.name}: ${name} is not an array`);
  return ft.elem.size;
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
