// Decoder throughput alone: raw records → DecodedEvents for typical VFIO
// calls (payload trees left unbuilt, then read), then decode + one-line text
// (formatted from the bytes) and decode + JSON. Run after a build:
//   node dist/bench/decoder.js

import { createDecoder } from '../src/decode/decoder.js';
import { RuleKind, type IoctlRecord } from '../src/trace/events.js';
import { makeHeader } from '../src/trace/writer.js';
import { TextRenderer } from '../src/render/text.js';
import { renderJson } from '../src/render/json.js';
import type { DecodedEvent } from '../src/decode/types.js';
import { registry } from '../decoders/index.js';

function u32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, k) => dv.setUint32(k * 4, x >>> 0, true));
  return b;
}

function rec(req: number, path: string, entry: Uint8Array, exit: Uint8Array, ret: number, arg = 0x7ffd0000n): IoctlRecord {
  return {
    type: 'ioctl', offset: 0, flags: 0, pid: 42, tid: 42, tEntry: 1000n, tExit: 3000n, fd: 9n, request: BigInt(req), arg, ret: BigInt(ret),
    wantLen: entry.length, inFault: null, outFault: null, ruleKind: entry.length ? RuleKind.Sized : RuleKind.Integer, fdPath: path, entry, exit,
  };
}

const mix: { name: string; r: IoctlRecord }[] = [
  { name: 'EEH GET_STATE (12-byte struct)', r: rec(0x3b79, '/dev/vfio/vfio', u32s(12, 0, 4), u32s(12, 0, 4), 2) },
  { name: 'CHECK_EXTENSION (integer)', r: rec(0x3b65, '/dev/vfio/vfio', new Uint8Array(0), new Uint8Array(0), 1, 5n) },
  { name: 'MAP_DMA (32-byte struct)', r: rec(0x3b71, '/dev/vfio/vfio', u32s(32, 3, 0x1000, 0x7f00, 0, 0x100000, 0x1000, 0), u32s(32, 3, 0x1000, 0x7f00, 0, 0x100000, 0x1000, 0), 0) },
  { name: 'GET_REGION_INFO (in + out)', r: rec(0x3b6c, '/dev/vfio/devices/vfio0', u32s(32, 0, 2, 0, 0, 0, 0, 0), u32s(32, 7, 2, 0, 0x4000, 0, 0, 0x200), 0) },
  { name: 'SET_IRQS (4 eventfds)', r: rec(0x3b6e, '/dev/vfio/devices/vfio0', u32s(36, 0x24, 2, 0, 4, 10, 11, 12, 13), u32s(36, 0x24, 2, 0, 4, 10, 11, 12, 13), 0) },
];

function run(name: string, n: number, recs: IoctlRecord[], sink: (ev: DecodedEvent) => void): void {
  const dec = createDecoder(makeHeader({ arch: 'x86_64' }), { registry: registry() });
  for (let i = 0; i < 20000; i++) sink(dec.decode(recs[i % recs.length]!)); // warm up
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) sink(dec.decode(recs[i % recs.length]!));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  // CPU time is less skewed than wall time when other work shares the machine.
  console.log(`${name}: ${Math.round(n / s).toLocaleString('en')} events/s wall, ${Math.round(n / cpu).toLocaleString('en')} per CPU-second`);
}

const N = Number(process.argv[2] ?? 1_000_000);
const load = (await import('node:os')).loadavg()[0] ?? 0;
console.log(`load average ${load.toFixed(2)} on ${(await import('node:os')).cpus().length} cores${load > 1.5 ? ' (busy machine: figures are low)' : ''}`);
let keep = 0;
for (const m of mix) run(`decode ${m.name}`, N / 2, [m.r], (ev) => (keep += ev.seq & 1));
run('decode, mix of the above', N, mix.map((m) => m.r), (ev) => (keep += ev.seq & 1));
// Payload trees are built on first access: this is what a consumer that reads them pays.
run('decode + read the in/out trees, mix', N, mix.map((m) => m.r), (ev) => (keep += ev.kind === 'ioctl' ? (ev.in?.children?.length ?? 0) + (ev.out?.children?.length ?? 0) : 0));
const text = new TextRenderer(null);
run('decode + text line, mix', N, mix.map((m) => m.r), (ev) => (keep += text.render(ev).length));
run('decode + JSON line, mix', N / 2, mix.map((m) => m.r), (ev) => (keep += renderJson(ev as never).length));
if (keep < 0) console.log(keep);
