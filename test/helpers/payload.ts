// The argument bytes a tracer would capture for one ioctl, laid out from the
// decoders/ descriptions: struct fields are set by their C path ("argsz",
// "err.type", "areas[1].size") through the emulator's StructBuf, so no offset
// is typed in a test. Shared by the synthetic recordings (test/audit,
// test/golden).

import type { IoctlDesc } from '../../src/decode/ioctlDesc.js';
import { registry } from '../../decoders/index.js';
import { StructBuf } from '../../src/emulate/encode.js';
import { RuleKind } from '../../src/trace/events.js';

export type Values = Record<string, bigint | number>;

/** The description of `name` on an fd of `fdKind` (the first one if none names that kind). */
export function describeIoctl(name: string, fdKind: string): IoctlDesc {
  const all = registry().byName.get(name) ?? [];
  const d = all.find((x) => x.fdKinds.includes(fdKind as never)) ?? all[0];
  if (!d) throw new Error(`no description for ${name}`);
  return d;
}

export interface PayloadSpec {
  /** Struct fields at entry; `argsz` (or iommufd's `size`) also sets how many bytes are captured. */
  in?: Values;
  /** Fields the kernel writes back (leave out for a failed call). */
  out?: Values;
  /** __s32 elements after the fixed struct (SET_IRQS eventfds). */
  data?: number[];
  /** The int a fd/u32 pointer argument points to. */
  fdArg?: number;
  /** A C string argument. */
  str?: string;
}

export interface Payload {
  entry: Uint8Array;
  exit: Uint8Array;
  ruleKind: RuleKind;
  /** The argument is a pointer (the caller picks an address), not an integer. */
  pointer: boolean;
}

export function payload(d: IoctlDesc, s: PayloadSpec, le: boolean): Payload {
  const a = d.arg;
  if (a.kind === 'struct') {
    const size = Math.max(Number(s.in?.argsz ?? s.in?.size ?? a.type.size), d.minsz);
    const entry = new StructBuf(a.type, size, le).setAll(s.in ?? {});
    const dv = new DataView(entry.bytes.buffer);
    s.data?.forEach((x, j) => {
      const off = a.type.size + 4 * j;
      if (off + 4 <= size) dv.setInt32(off, x, le);
    });
    const exit = new StructBuf(a.type, entry.bytes.slice(), le).setAll(s.out ?? {});
    return { entry: entry.bytes, exit: exit.bytes, ruleKind: RuleKind.Sized, pointer: true };
  }
  if (a.kind === 'fdptr' || a.kind === 'u32ptr') {
    const entry = new Uint8Array(4);
    new DataView(entry.buffer).setInt32(0, s.fdArg ?? 0, le);
    return { entry, exit: entry.slice(), ruleKind: RuleKind.Fixed, pointer: true };
  }
  if (a.kind === 'cstring') {
    const entry = new TextEncoder().encode(s.str ?? '');
    return { entry, exit: entry.slice(), ruleKind: RuleKind.CString, pointer: true };
  }
  return { entry: new Uint8Array(0), exit: new Uint8Array(0), ruleKind: a.kind === 'int' ? RuleKind.Integer : RuleKind.None, pointer: false };
}
