// Builds raw IoctlRecords as the tracer would capture them, with payload
// bytes laid out from the decoders/ descriptions (field offsets looked up by
// C name, never typed here), so tests run the real decoder on the success
// path that this machine's kernel cannot produce.

import type { IoctlDesc, StructType } from '../../src/decode/dsl.js';
import { encodeIo } from '../../src/decode/encoding.js';
import { registry } from '../../src/decode/registry.js';
import { ProcessEventKind, RuleKind, type RecordingHeader, type TraceRecord } from '../../src/trace/events.js';
import { makeHeader, type NewRecord } from '../../src/trace/writer.js';

type Values = Record<string, bigint | number>;

function desc(name: string, fdKind: string): IoctlDesc {
  const all = registry().byName.get(name);
  const d = all?.find((x) => x.fdKinds.includes(fdKind as never)) ?? all?.[0];
  if (!d) throw new Error(`no description for ${name}`);
  return d;
}

function put(dv: DataView, off: number, size: number, v: bigint | number, le: boolean): void {
  const b = BigInt.asUintN(size * 8, BigInt(v));
  if (size === 1) dv.setUint8(off, Number(b));
  else if (size === 2) dv.setUint16(off, Number(b), le);
  else if (size === 4) dv.setUint32(off, Number(b), le);
  else dv.setBigUint64(off, b, le);
}

/** Top-level scalar fields by name; `data` (s32 elements) goes after sizeof. */
function fill(bytes: Uint8Array, t: StructType, v: Values, le: boolean, data?: number[]): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const [k, val] of Object.entries(v)) {
    const i = t.fields.findIndex((f) => f.name === k);
    if (i < 0) throw new Error(`struct ${t.name} has no field ${k}`);
    const f = t.fields[i]!;
    if (f.type.kind !== 'scalar') throw new Error(`${t.name}.${k} is not a scalar`);
    const off = t.offsets[i]!;
    if (off + f.type.size <= bytes.length) put(dv, off, f.type.size, val, le);
  }
  data?.forEach((x, j) => {
    const off = t.size + 4 * j;
    if (off + 4 <= bytes.length) put(dv, off, 4, x, le);
  });
}

export interface Call {
  in?: Values;
  out?: Values;
  /** SET_IRQS data[] entries (s32). */
  data?: number[];
  /** Integer argument, pointed-to fd, or C string. */
  arg?: number;
  fdArg?: number;
  str?: string;
  ret?: number;
}

export class RecordBuilder {
  readonly header: RecordingHeader;
  readonly records: NewRecord[] = [];
  private t = 1000n;
  private readonly le: boolean;

  constructor(
    arch = 'x86_64',
    readonly pid = 4242,
  ) {
    this.header = makeHeader({ arch });
    this.le = this.header.byteOrder === 'le';
  }

  call(fd: number, path: string, fdKind: string, name: string, c: Call = {}): this {
    const d = desc(name, fdKind);
    const ret = c.ret ?? 0;
    let entry = new Uint8Array(0);
    let exit = new Uint8Array(0);
    let ruleKind = RuleKind.None;
    let arg = BigInt(c.arg ?? 0);
    const a = d.arg;
    if (a.kind === 'struct') {
      ruleKind = RuleKind.Sized;
      const size = Number(c.in?.argsz ?? c.in?.size ?? a.type.size);
      entry = new Uint8Array(Math.max(size, d.minsz));
      fill(entry, a.type, c.in ?? {}, this.le, c.data);
      exit = entry.slice();
      if (c.out) fill(exit, a.type, c.out, this.le);
      arg = 0x7ffc0000n;
    } else if (a.kind === 'fdptr' || a.kind === 'u32ptr') {
      ruleKind = RuleKind.Fixed;
      entry = new Uint8Array(4);
      new DataView(entry.buffer).setInt32(0, c.fdArg ?? 0, this.le);
      exit = entry.slice();
      arg = 0x7ffc0000n;
    } else if (a.kind === 'cstring') {
      ruleKind = RuleKind.CString;
      entry = new TextEncoder().encode(c.str ?? '');
      exit = entry.slice();
      arg = 0x7ffc0000n;
    } else if (a.kind === 'int') ruleKind = RuleKind.Integer;
    this.t += 1000n;
    this.records.push({
      type: 'ioctl', flags: 0, pid: this.pid, tid: this.pid, tEntry: this.t, tExit: this.t + 500n,
      fd: BigInt(fd), request: BigInt(encodeIo(this.header.arch, d.nr)), arg, ret: BigInt(ret),
      wantLen: entry.length, inFault: null, outFault: null, ruleKind, fdPath: path, entry, exit,
    });
    return this;
  }

  exit(code = 0): this {
    this.records.push({ type: 'process', kind: ProcessEventKind.Exit, pid: this.pid, tid: this.pid, ts: this.t + 1000n, value: code, other: 0, text: '' });
    this.records.push({ type: 'end', reason: 1, status: code, dropped: 0, events: BigInt(this.records.filter((r) => r.type === 'ioctl').length), text: '' });
    return this;
  }

  /** The records with offsets, for feeding a decoder directly. */
  traceRecords(): TraceRecord[] {
    return this.records.map((r, i) => ({ ...r, offset: i * 8 }) as TraceRecord);
  }
}
