// Builds DecodedIoctl events by hand (shape as src/decode produces them), so
// the model and the audit can be tested on the success path without a kernel.

import type { DecodedEvent, DecodedIoctl, FdKind, FieldNode, Finding } from '../../src/decode/types.js';
import { ProcessEventKind, RuleKind, type IoctlRecord } from '../../src/trace/events.js';

export type Payload = { [k: string]: bigint | number | string | Payload | Array<bigint | number> };

export function node(name: string, path: string, v: Payload | bigint | number | string | Array<bigint | number>): FieldNode {
  if (typeof v === 'bigint' || typeof v === 'number') {
    const value = BigInt(v);
    return { name, path, ctype: '__u64', offset: 0, size: 8, dir: 'in', value, display: String(value) };
  }
  if (typeof v === 'string') return { name, path, ctype: 'char[]', offset: 0, size: v.length, dir: 'in', text: v, display: JSON.stringify(v) };
  if (Array.isArray(v)) {
    return {
      name, path, ctype: '__s32[]', offset: 0, size: 0, dir: 'in', display: '[…]',
      children: v.map((x, i) => node(`[${i}]`, `${path}[${i}]`, x)),
    };
  }
  return {
    name, path, ctype: 'struct', offset: 0, size: 0, dir: 'in', display: '{…}',
    children: Object.entries(v).map(([k, x]) => node(k, path ? `${path}.${k}` : k, x)),
  };
}

const ERRNO: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 17: 'EEXIST', 22: 'EINVAL', 25: 'ENOTTY', 61: 'ENODATA' };

export interface CallOpts {
  in?: Payload | bigint | number | string;
  out?: Payload;
  arg?: bigint | number;
  ret?: number;
  newFd?: { fd: number; kind: FdKind };
  findings?: Finding[];
  candidates?: string[];
}

export class Sim {
  seq = 0;
  readonly events: DecodedEvent[] = [];
  private readonly paths = new Map<number, { path: string; kind: FdKind }>();
  constructor(readonly pid = 100) {}

  fd(fd: number, path: string, kind: FdKind): this {
    this.paths.set(fd, { path, kind });
    return this;
  }

  call(fd: number, ioctl: string | null, o: CallOpts = {}): DecodedIoctl {
    const p = this.paths.get(fd) ?? { path: 'anon_inode:[vfio-device]', kind: 'device' as FdKind };
    const ret = o.ret ?? 0;
    const record: IoctlRecord = {
      type: 'ioctl', offset: 0, flags: 0, pid: this.pid, tid: this.pid, tEntry: 0n, tExit: 0n,
      fd: BigInt(fd), request: 0x3b64n, arg: BigInt(o.arg ?? 0), ret: BigInt(ret), wantLen: 0,
      inFault: null, outFault: null, ruleKind: RuleKind.None, fdPath: p.path, entry: new Uint8Array(), exit: new Uint8Array(),
    };
    const ev: DecodedIoctl = {
      kind: 'ioctl', seq: this.seq++, record, ts: 0, dur: 0, pid: this.pid, tid: this.pid, fd, fdPath: p.path, fdKind: p.kind,
      request: 0x3b64, ioctl, family: null, candidates: o.candidates ?? [], resolution: ioctl ? 'unique' : 'ambiguous',
      argDisplay: '', in: o.in === undefined ? null : node('', '', o.in), out: o.out === undefined ? null : node('', '', o.out),
      ret: {
        value: ret, errno: ret < 0 ? (ERRNO[-ret] ?? `E${-ret}`) : null, meaning: '',
        ...(o.newFd ? { newFd: o.newFd } : {}),
      },
      incomplete: false, truncated: false, findings: o.findings ?? [],
    };
    this.events.push(ev);
    return ev;
  }

  /** A START event for this pid, forked from `parent`. */
  startFrom(parent: number): void {
    this.events.push({
      kind: 'process', seq: this.seq++, ts: 0, pid: this.pid, tid: this.pid,
      record: { type: 'process', offset: 0, kind: ProcessEventKind.Start, pid: this.pid, tid: this.pid, ts: 0n, value: 0, other: parent, text: '' },
    });
  }

  exit(): void {
    this.events.push({
      kind: 'process', seq: this.seq++, ts: 0, pid: this.pid, tid: this.pid,
      record: { type: 'process', offset: 0, kind: ProcessEventKind.Exit, pid: this.pid, tid: this.pid, ts: 0n, value: 0, other: 0, text: '' },
    });
  }
}

export const ENOTTY = -25;
