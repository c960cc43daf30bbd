// Hand-built decoded events for renderer tests that must not depend on a
// particular decoder's wording.

import type { DecodedIoctl, DecodedProcess, FieldNode } from '../../src/decode/types.js';
import type { IoctlRecord } from '../../src/trace/events.js';
import { ProcessEventKind, RuleKind } from '../../src/trace/events.js';

export function record(over: Partial<IoctlRecord> = {}): IoctlRecord {
  return {
    type: 'ioctl', offset: 0, flags: 0, pid: 100, tid: 100, tEntry: 0n, tExit: 0n,
    fd: 3n, request: 0x3b65n, arg: 5n, ret: 1n, wantLen: 0, inFault: null, outFault: null,
    ruleKind: RuleKind.Integer, fdPath: '/dev/vfio/vfio', entry: new Uint8Array(0), exit: new Uint8Array(0),
    ...over,
  };
}

export function ioctl(over: Partial<DecodedIoctl> = {}): DecodedIoctl {
  return {
    kind: 'ioctl', seq: 1, record: record(), ts: 1000, dur: 12000, pid: 100, tid: 100, fd: 3,
    fdPath: '/dev/vfio/vfio', fdKind: 'container', request: 0x3b65, ioctl: 'VFIO_CHECK_EXTENSION',
    family: 'container', candidates: [], resolution: 'unique', argDisplay: 'VFIO_EEH',
    in: null, out: null, ret: { value: 1, errno: null, meaning: 'supported' },
    incomplete: false, truncated: false, findings: [],
    ...over,
  };
}

export function leaf(name: string, value: number, dir: FieldNode['dir'], display = String(value), extra: Partial<FieldNode> = {}): FieldNode {
  return { name, path: name, ctype: '__u32', offset: 0, size: 4, dir, value: BigInt(value), display, ...extra };
}

export function struct(name: string, children: FieldNode[], dir: FieldNode['dir'] = 'inout'): FieldNode {
  return { name, path: name, ctype: `struct ${name}`, offset: 0, size: 0, dir, display: '', children };
}

export function proc(kind: ProcessEventKind, tid: number, value = 0, other = 0, seq = 1): DecodedProcess {
  return {
    kind: 'process', seq, ts: 2000, pid: tid, tid,
    record: { type: 'process', offset: 0, kind, pid: tid, tid, ts: 2000n, value, other, text: '' },
  };
}
