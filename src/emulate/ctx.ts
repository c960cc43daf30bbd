// Per-call helpers shared by the container, group and device handlers: the
// argument as a struct, the kernel's copy_from_user/argsz prologue, and the
// reply that copies bytes back into the caller's buffer.

import type { StructType } from '../decode/dsl.js';
import type { IoctlDesc } from '../decode/ioctlDesc.js';
import { fail } from './errno.js';
import { StructBuf, encodeStruct } from './encode.js';
import { ret, type EmuCall, type Verdict } from './types.js';

export class CallCtx {
  constructor(
    readonly call: EmuCall,
    readonly desc: IoctlDesc,
    readonly le: boolean,
  ) {}

  get name(): string {
    return this.desc.name;
  }

  structType(): StructType {
    if (this.desc.arg.kind !== 'struct') throw new Error(`${this.desc.name} takes no struct`);
    return this.desc.arg.type;
  }

  /** Bytes the caller made readable at entry (a fault cuts them short). */
  readable(): number {
    return this.call.inFault ?? this.call.entry.length;
  }

  /**
   * The kernel's prologue for a VFIO struct argument: copy `minsz` bytes in
   * (EFAULT if unreadable), then require argsz ≥ minsz (EINVAL).
   * Returns the struct (a private copy of the entry bytes), or the verdict to give.
   */
  args(minsz = this.desc.minsz): StructBuf | Verdict {
    if (this.readable() < minsz) return ret(fail('EFAULT'));
    const buf = new StructBuf(this.structType(), this.call.entry.slice(), this.le);
    if (buf.num('argsz') < minsz) return ret(fail('EINVAL'));
    return buf;
  }

  /** Success (or `value`) and copy `buf.bytes[0, len)` back to the argument. */
  reply(value: number, buf: StructBuf | Uint8Array, len?: number): Verdict {
    const bytes = buf instanceof StructBuf ? buf.bytes : buf;
    const n = Math.min(len ?? bytes.length, bytes.length);
    return ret(value, n > 0 ? [{ addr: this.call.arg, bytes: bytes.slice(0, n) }] : []);
  }

  /** Builds a capability struct of the chain `capsField` of this ioctl's struct. */
  cap(id: number, values: Readonly<Record<string, bigint | number>>, size?: number): { type: StructType; bytes: Uint8Array } {
    const t = this.capType(id);
    const h = capHeaderPrefix(t);
    return { type: t, bytes: encodeStruct(t, { [`${h}id`]: id, [`${h}version`]: 1, ...values }, this.le, size ?? t.size) };
  }

  capType(id: number): StructType {
    for (const f of this.structType().fields) {
      if (f.type.kind === 'caps') {
        const c = f.type.caps.get(id);
        if (c) return c.type;
      }
    }
    throw new Error(`${this.desc.name}: no capability ${id} in the description`);
  }
}

/** A cap struct embeds vfio_info_cap_header as `header`, or is the bare header itself. */
function capHeaderPrefix(t: StructType): string {
  return t.fields.some((f) => f.name === 'header') ? 'header.' : '';
}

export function isVerdict(v: StructBuf | Verdict): v is Verdict {
  return !(v instanceof StructBuf);
}

/**
 * The kernel's capability-chain reply (DEVICE_GET_INFO, GET_REGION_INFO,
 * type1 GET_INFO): the *_CAPS flag is always set; if argsz cannot hold the
 * struct plus every cap, argsz becomes the size needed, cap_offset 0 and no
 * cap is copied (the call still succeeds); else the caps follow the struct,
 * linked by `next` (offsets from the buffer start). Each cap is packed
 * (6.1) or padded to 8 bytes (`align8`: 6.7 and later align every cap).
 * Returns the bytes to copy back: `headLen` bytes of the struct, then the caps.
 */
export function capsReply(
  info: StructBuf,
  capsIn: { type: StructType; bytes: Uint8Array }[],
  capsFlag: number,
  headLen: number,
  align8 = false,
): Uint8Array {
  if (capsIn.length === 0) return info.bytes.slice(0, headLen);
  const caps = align8 ? capsIn.map((c) => (c.bytes.length % 8 ? { type: c.type, bytes: padTo8(c.bytes) } : c)) : capsIn;
  info.set('flags', info.num('flags') | capsFlag);
  const base = info.type.size;
  const needed = base + caps.reduce((n, c) => n + c.bytes.length, 0);
  const argsz = info.num('argsz');
  if (argsz < needed) {
    info.set('argsz', needed).set('cap_offset', 0);
    return info.bytes.slice(0, headLen);
  }
  info.set('cap_offset', base);
  const out = new Uint8Array(needed);
  out.set(info.bytes.subarray(0, Math.min(info.bytes.length, base)));
  let at = base;
  caps.forEach((c, k) => {
    const next = k + 1 < caps.length ? at + c.bytes.length : 0;
    const sb = new StructBuf(c.type, c.bytes.slice(), info.le).set(`${capHeaderPrefix(c.type)}next`, next);
    out.set(sb.bytes, at);
    at += c.bytes.length;
  });
  // Bytes between headLen and the struct's end are the caller's own (padding): keep them.
  return out;
}

function padTo8(b: Uint8Array): Uint8Array {
  const out = new Uint8Array((b.length + 7) & ~7);
  out.set(b);
  return out;
}
