// Hand-built DecodedEvents for view-state tests (no decoder needed).
import type { DecodedEnd, DecodedIoctl, DecodedProcess, FieldNode, Finding } from '../../src/decode/types.js';
import { EndReason, ProcessEventKind, RuleKind, type IoctlRecord } from '../../src/trace/events.js';

export function eehTree(op: number, opName: string): FieldNode {
  const leaf = (name: string, offset: number, size: number, value: bigint, display: string): FieldNode => ({
    name, path: name, ctype: size === 8 ? '__u64' : '__u32', offset, size, dir: 'in', value, display,
  });
  return {
    name: 'vfio_eeh_pe_op', path: '', ctype: 'struct vfio_eeh_pe_op', offset: 0, size: 40, dir: 'in', display: '{…}',
    children: [leaf('argsz', 0, 4, 40n, '40'), leaf('flags', 4, 4, 0n, '0'), leaf('op', 8, 4, BigInt(op), opName)],
  };
}

export interface FakeOpts {
  seq: number;
  name?: string | null;
  fd?: number;
  tid?: number;
  ret?: number;
  errno?: string | null;
  findings?: Finding[];
  op?: number;
}

export function fakeIoctl(o: FakeOpts): DecodedIoctl {
  const entry = new Uint8Array(40);
  new DataView(entry.buffer).setUint32(0, 40, true);
  new DataView(entry.buffer).setUint32(8, o.op ?? 4, true);
  const record: IoctlRecord = {
    type: 'ioctl', offset: 0, flags: 0, pid: 100, tid: o.tid ?? 100, tEntry: 0n, tExit: 1000n,
    fd: BigInt(o.fd ?? 3), request: 0x3b79n, arg: 0x7ffd0000n, ret: BigInt(o.ret ?? 0), wantLen: 40,
    inFault: null, outFault: null, ruleKind: RuleKind.Sized, fdPath: '/dev/vfio/vfio', entry, exit: entry.slice(),
  };
  const name = o.name === undefined ? 'VFIO_EEH_PE_OP' : o.name;
  return {
    kind: 'ioctl', seq: o.seq, record, ts: o.seq * 1000, dur: 1000, pid: 100, tid: o.tid ?? 100, fd: o.fd ?? 3,
    fdPath: '/dev/vfio/vfio', fdKind: 'container', request: 0x3b79, ioctl: name, family: name ? 'eeh' : null,
    candidates: name ? [] : ['VFIO_EEH_PE_OP', 'VFIO_DEVICE_FEATURE'], resolution: name ? 'unique' : 'ambiguous',
    argDisplay: '0x7ffd0000', in: eehTree(o.op ?? 4, 'VFIO_EEH_PE_GET_STATE'), out: null,
    ret: { value: o.ret ?? 0, errno: o.errno ?? null, meaning: o.ret && o.ret < 0 ? 'bad' : '' },
    incomplete: false, truncated: false, findings: o.findings ?? [],
  };
}

export function fakeProcess(seq: number, kind: ProcessEventKind, value = 0, other = 0, text = '', pid = 100): DecodedProcess {
  return {
    kind: 'process', seq, ts: seq * 1000, pid, tid: pid,
    record: { type: 'process', offset: 0, kind, pid, tid: pid, ts: BigInt(seq * 1000), value, other, text },
  };
}

export function fakeEnd(seq: number, reason: EndReason, status: number): DecodedEnd {
  return { kind: 'end', seq, record: { type: 'end', offset: 0, reason, status, dropped: 0, events: 0n, text: '' } };
}
