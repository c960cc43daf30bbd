// Reader throughput on synthetic recordings (small IOCTL records and
// PROCESS records). Run: npx tsc -p tsconfig.json && node dist/bench/reader.js
import { EndReason, ProcessEventKind, RuleKind } from '../src/trace/events.js';
import { RecordingParser } from '../src/trace/reader.js';
import { RecordingWriter, makeHeader, type NewRecord } from '../src/trace/writer.js';

function build(n: number, rec: (i: number) => NewRecord): Uint8Array {
  const w = new RecordingWriter(makeHeader());
  for (let i = 0; i < n; i++) w.write(rec(i));
  w.write({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: BigInt(n), text: '' });
  return w.toBytes();
}

function measure(name: string, bytes: Uint8Array, n: number): void {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    const p = new RecordingParser();
    let count = 0;
    for (let o = 0; o < bytes.length; o += 1 << 20) count += p.push(bytes.subarray(o, o + (1 << 20))).length;
    p.finish();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (count !== n + 1) throw new Error(`parsed ${count}, expected ${n + 1}`);
    best = Math.min(best, s);
  }
  console.log(`${name}: ${n} records, ${(bytes.length / 1e6).toFixed(1)} MB, ${Math.round(n / best)} records/s, ${(bytes.length / 1e6 / best).toFixed(0)} MB/s`);
}

const N = 1_000_000;
const entry = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0]);
measure(
  'ioctl (8-byte payload, fd path)',
  build(N, (i) => ({
    type: 'ioctl',
    flags: 0,
    pid: 100,
    tid: 100 + (i & 15),
    tEntry: BigInt(i) * 1000n,
    tExit: BigInt(i) * 1000n + 500n,
    fd: 3n,
    request: 0x3b64n,
    arg: 0n,
    ret: -25n,
    wantLen: 8,
    inFault: null,
    outFault: null,
    ruleKind: RuleKind.Fixed,
    fdPath: '/dev/vfio/vfio',
    entry,
    exit: entry,
  })),
  N,
);
measure(
  'process (no text)',
  build(N, (i) => ({ type: 'process', kind: ProcessEventKind.Signal, pid: 1, tid: 1, ts: BigInt(i), value: 10, other: 0, text: '' })),
  N,
);

/**
 * Large records fed in the pipeline's 32 KiB slices: one call with 8 MiB in
 * and 8 MiB out, and a header claiming a 256 MiB IOCTL record followed by
 * 16 MiB of zeros (corrupt: refused, the question is how soon).
 */
function bigRecords(): void {
  const FEED = 1 << 15;
  const big = new Uint8Array(8 << 20).fill(0x5a);
  const valid = new RecordingWriter(makeHeader());
  valid.write({
    type: 'ioctl', flags: 0, pid: 1, tid: 1, tEntry: 0n, tExit: 1n, fd: 3n, request: 0x3b6bn, arg: 0n, ret: 0n,
    wantLen: big.length, inFault: null, outFault: null, ruleKind: RuleKind.Sized, fdPath: '/dev/vfio/devices/vfio0', entry: big, exit: big,
  });
  const validBytes = valid.toBytes();
  const head = new RecordingWriter(makeHeader()).toBytes();
  const bogus = new Uint8Array(head.length + 8 + (16 << 20));
  bogus.set(head);
  const dv = new DataView(bogus.buffer);
  dv.setUint16(head.length, 1, true);
  dv.setUint32(head.length + 4, 256 << 20, true);
  for (const [name, bytes] of [['one 8 MiB-in/8 MiB-out call', validBytes], ['256 MiB length claim + 16 MiB of zeros, refused', bogus]] as const) {
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      const t0 = process.hrtime.bigint();
      const p = new RecordingParser();
      for (let o = 0; o < bytes.length && !p.error; o += FEED) p.push(bytes.subarray(o, o + FEED));
      try {
        p.finish();
      } catch {
        // the corrupt case: refused, as expected
      }
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(`${name}, 32 KiB feeds: ${(bytes.length / 1e6).toFixed(1)} MB in ${(best * 1000).toFixed(1)} ms`);
  }
}
bigRecords();
