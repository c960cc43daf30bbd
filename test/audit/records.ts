// Builds raw IoctlRecords as the tracer would capture them, with payload
// bytes laid out from the decoders/ descriptions (field offsets looked up by
// C name, never typed here), so tests run the real decoder on the success
// path that this machine's kernel cannot produce.

import { encodeIo } from '../../src/decode/encoding.js';
import { ProcessEventKind, type RecordingHeader, type TraceRecord } from '../../src/trace/events.js';
import { makeHeader, type NewRecord } from '../../src/trace/writer.js';
import { describeIoctl, payload, type Values } from '../helpers/payload.js';

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
    const d = describeIoctl(name, fdKind);
    const ret = c.ret ?? 0;
    const { entry, exit, ruleKind, pointer } = payload(d, c, this.le);
    const arg = pointer ? 0x7ffc0000n : BigInt(c.arg ?? 0);
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
