// Synthetic recordings for the `show` tests, built with the project's writer:
// an x86_64 VFIO session as the native tracer would record it on a machine
// without VFIO hardware (every call ENOTTY), plus one ppc64 (big-endian) one.

import { EndReason, ProcessEventKind, RuleKind } from '../../src/trace/events.js';
import { RecordingWriter, makeHeader, type NewRecord } from '../../src/trace/writer.js';

const ENOTTY = -25n;

function le32(...words: number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return b;
}

function call(seq: number, fd: number, path: string, request: number, arg: bigint, ret: bigint, rule: RuleKind, entry: Uint8Array = new Uint8Array(0), pid = 4242): NewRecord {
  return {
    type: 'ioctl', flags: 0, pid, tid: pid, tEntry: BigInt(seq) * 1_000_000n, tExit: BigInt(seq) * 1_000_000n + 2_500n,
    fd: BigInt(fd), request: BigInt(request), arg, ret, wantLen: entry.length, inFault: null, outFault: null,
    ruleKind: rule, fdPath: path, entry, exit: entry,
  };
}

/** Returns the bytes and the stream offset of each record (for truncation tests). */
export function x86Session(): { bytes: Uint8Array; offsets: number[] } {
  const w = new RecordingWriter(makeHeader({ arch: 'x86_64', startRealtimeNs: 1_767_323_045_500_000_000n, argv: ['./client'] }));
  const offsets: number[] = [];
  const add = (r: NewRecord): void => void offsets.push(w.write(r));
  add({ type: 'process', kind: ProcessEventKind.Start, pid: 4242, tid: 4242, ts: 0n, value: 0, other: 1, text: 'client' });
  add(call(1, 3, '/dev/vfio/vfio', 0x3b64, 0n, ENOTTY, RuleKind.None));
  add(call(2, 3, '/dev/vfio/vfio', 0x3b65, 5n, ENOTTY, RuleKind.Integer));
  add(call(3, 4, '/dev/vfio/42', 0x3b67, 0x7ffd0000n, ENOTTY, RuleKind.Sized, le32(8, 0)));
  add(call(4, 3, '/dev/vfio/vfio', 0x3b79, 0x7ffd0100n, ENOTTY, RuleKind.Sized, le32(16, 0, 4, 0)));
  add(call(5, 3, '/dev/vfio/vfio', 0x3ba0, 0n, ENOTTY, RuleKind.None));
  add({ type: 'process', kind: ProcessEventKind.Exit, pid: 4242, tid: 4242, ts: 9_000_000n, value: 0, other: 0, text: '' });
  add({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: 5n, text: '' });
  return { bytes: w.toBytes(), offsets };
}
