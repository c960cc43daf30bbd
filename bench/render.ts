// Renderer throughput: text (one-line path) and JSON lines over decoded
// events, with the output buffered as the CLI does. Run after a build:
//   node dist/bench/render.js
// Targets on a 2-core machine: text ≥ 1,000,000 events/s, JSON ≥ 200,000.

import type { DecodedIoctl, FieldNode } from '../src/decode/types.js';
import { renderJson } from '../src/render/json.js';
import { TextRenderer } from '../src/render/text.js';
import { RuleKind } from '../src/trace/events.js';

function leaf(name: string, v: number, dir: FieldNode['dir'], display = String(v)): FieldNode {
  return { name, path: name, ctype: '__u32', offset: 0, size: 4, dir, value: BigInt(v), display };
}

function event(i: number, withPayload: boolean): DecodedIoctl {
  const inNode: FieldNode | null = withPayload
    ? { name: '', path: '', ctype: 'struct vfio_eeh_pe_op', offset: 0, size: 40, dir: 'inout', display: '',
        children: [leaf('argsz', 40, 'in'), leaf('flags', 0, 'in'), leaf('op', 5, 'in', 'VFIO_EEH_PE_GET_STATE')] }
    : null;
  return {
    kind: 'ioctl', seq: i, ts: i * 1000, dur: 2500, pid: 4242, tid: 4242, fd: 9, fdPath: '/dev/vfio/vfio', fdKind: 'container',
    request: 0x3b79, ioctl: withPayload ? 'VFIO_EEH_PE_OP' : 'VFIO_CHECK_EXTENSION', family: 'eeh', candidates: [], resolution: 'unique',
    argDisplay: 'VFIO_EEH', in: inNode, out: inNode, ret: { value: withPayload ? 2 : 1, errno: null, meaning: withPayload ? 'VFIO_EEH_PE_STATE_STOPPED' : 'supported' },
    incomplete: false, truncated: false, findings: [],
    record: { type: 'ioctl', offset: 0, flags: 0, pid: 4242, tid: 4242, tEntry: 0n, tExit: 0n, fd: 9n, request: 0x3b79n, arg: 0x7ffd0000n,
      ret: 2n, wantLen: 40, inFault: null, outFault: null, ruleKind: RuleKind.Sized, fdPath: '/dev/vfio/vfio', entry: new Uint8Array(0), exit: new Uint8Array(0) },
  };
}

function measure(name: string, n: number, events: DecodedIoctl[], render: (e: DecodedIoctl) => string): void {
  let buf = '';
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    buf += render(events[i % events.length]!);
    if (buf.length >= 65536) {
      bytes += Buffer.byteLength(buf);
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${name}: ${Math.round(n / s).toLocaleString('en')} events/s (${(bytes / s / 1e6).toFixed(0)} MB/s)`);
}

const N = 2_000_000;
const ints = Array.from({ length: 1024 }, (_, i) => event(i, false));
const structs = Array.from({ length: 1024 }, (_, i) => event(i, true));
const text = new TextRenderer(null);
measure('text, integer argument', N, ints, (e) => text.render(e));
measure('text, struct argument', N, structs, (e) => text.render(e));
const timed = new TextRenderer(null, { time: 2, duration: true });
measure('text -tt -T, struct', N, structs, (e) => timed.render(e));
measure('json, integer argument', N / 4, ints, renderJson);
measure('json, struct argument', N / 4, structs, renderJson);
