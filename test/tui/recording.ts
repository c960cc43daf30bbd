// Builds small POWER (ppc64le) recordings of an EEH recovery session with the
// project's writer, for the TUI tests and benchmark.

import { writeFileSync } from 'node:fs';
import { EndReason, ProcessEventKind, RuleKind } from '../../src/trace/events.js';
import { encodeHeader, encodeRecord, makeHeader, type NewRecord } from '../../src/trace/writer.js';
import { targetArgv } from '../../src/commands/tui.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { emulationArgv } from '../../src/emulate/sandbox.js';

const PID = 4242;
const ppc = (n: number) => 0x20000000 | (0x3b64 + n);

function eeh(op: number, flags = 0): Uint8Array {
  const b = new Uint8Array(40);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 40, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, op, true);
  return b;
}

let clock = 1_000_000n;
function call(fd: number, path: string, n: number, ret: number, o: { arg?: bigint; kind?: RuleKind; entry?: Uint8Array } = {}): NewRecord {
  const entry = o.entry ?? new Uint8Array(0);
  clock += 5_000n;
  return {
    type: 'ioctl', flags: 0, pid: PID, tid: PID, tEntry: clock, tExit: clock + 1_200n, fd: BigInt(fd),
    request: BigInt(ppc(n)), arg: o.arg ?? 0x7fffd000n, ret: BigInt(ret), wantLen: entry.length, inFault: null, outFault: null,
    ruleKind: o.kind ?? (entry.length ? RuleKind.Sized : RuleKind.None), fdPath: path, entry, exit: entry.slice(),
  };
}

/** Writes the encoded header and records as one file; returns the byte count. */
function writeChunks(path: string, chunks: Uint8Array[]): number {
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  writeFileSync(path, out);
  return total;
}

/** The scripted session: setup, then EEH recovery with one bad call. */
export function eehSession(): NewRecord[] {
  const C = '/dev/vfio/vfio';
  const G = '/dev/vfio/42';
  const group = new Uint8Array(4);
  group[0] = 3;
  return [
    { type: 'process', kind: ProcessEventKind.Start, pid: PID, tid: PID, ts: clock, value: 0, other: 0, text: 'qemu-system-ppc64' },
    call(3, C, 0, 0),
    call(3, C, 1, 1, { arg: 5n, kind: RuleKind.Integer }),
    call(4, G, 4, 0, { entry: group, kind: RuleKind.Fixed }),
    call(3, C, 2, 0, { arg: 7n, kind: RuleKind.Integer }),
    call(3, C, 21, 0, { entry: eeh(1) }),
    call(3, C, 21, 2, { entry: eeh(4) }),
    call(3, C, 21, -22, { entry: eeh(6, 1) }),
    call(3, C, 21, 0, { entry: eeh(6) }),
    call(3, C, 21, 0, { entry: eeh(5) }),
    call(3, C, 21, 0, { entry: eeh(8) }),
    call(3, C, 21, 0, { entry: eeh(4) }),
  ];
}

/** The session followed by `filler` more GET_STATE calls, then END. Returns the byte count. */
export function writeEehRecording(path: string, filler = 0): number {
  const header = makeHeader({ arch: 'ppc64le', hostname: 'p9-test', argv: ['qemu-system-ppc64', '-M', 'pseries'] });
  const chunks: Uint8Array[] = [encodeHeader(header)];
  const recs = eehSession();
  for (const r of recs) chunks.push(encodeRecord(r, 'le'));
  if (filler > 0) {
    // One encoded record reused with fresh times: a million of them stays fast to build.
    const one = encodeRecord(call(3, '/dev/vfio/vfio', 21, 0, { entry: eeh(4) }), 'le');
    for (let k = 0; k < filler; k++) {
      const c = one.slice();
      const d = new DataView(c.buffer);
      const t = 2_000_000n + BigInt(k) * 1_000n;
      d.setBigUint64(16, t, true);
      d.setBigUint64(24, t + 800n, true);
      chunks.push(c);
    }
  }
  chunks.push(encodeRecord({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: BigInt(recs.length - 1 + filler), text: '' }, 'le'));
  return writeChunks(path, chunks);
}

/**
 * An x86 type1 session of `pairs` MAP_DMA/UNMAP_DMA pairs, each at its own
 * IOVA: every call is distinct, so nothing is a repeat the decoder or the UI
 * can reuse (the costly case for loading). Returns the byte count.
 */
export function writeDmaRecording(path: string, pairs: number): number {
  const header = makeHeader({ arch: 'x86_64', hostname: 'x86-test', argv: ['qemu-system-x86_64'] });
  const C = '/dev/vfio/vfio';
  const x86 = (n: number) => 0x3b64 + n;
  const at = (r: NewRecord, n: number): NewRecord => (r.type === 'ioctl' ? { ...r, request: BigInt(x86(n)) } : r);
  const group = new Uint8Array(4);
  group[0] = 3;
  const chunks: Uint8Array[] = [encodeHeader(header)];
  const setup: NewRecord[] = [
    at(call(3, C, 0, 0), 0),
    at(call(3, C, 1, 1, { arg: 3n, kind: RuleKind.Integer }), 1),
    at(call(4, '/dev/vfio/42', 4, 0, { entry: group, kind: RuleKind.Fixed }), 4),
    at(call(3, C, 2, 0, { arg: 3n, kind: RuleKind.Integer }), 2),
  ];
  for (const r of setup) chunks.push(encodeRecord(r, 'le'));
  for (let k = 0; k < pairs; k++) {
    const iova = 0x100000n + BigInt(k) * 4096n;
    const map = new Uint8Array(32);
    const dm = new DataView(map.buffer);
    dm.setUint32(0, 32, true);
    dm.setUint32(4, 3, true);
    dm.setBigUint64(8, 0x7f0000000000n + BigInt(k) * 4096n, true);
    dm.setBigUint64(16, iova, true);
    dm.setBigUint64(24, 4096n, true);
    chunks.push(encodeRecord(at(call(3, C, 13, 0, { entry: map }), 13), 'le'));
    const unmap = new Uint8Array(24);
    const du = new DataView(unmap.buffer);
    du.setUint32(0, 24, true);
    du.setBigUint64(8, iova, true);
    du.setBigUint64(16, 4096n, true);
    chunks.push(encodeRecord(at(call(3, C, 14, 0, { entry: unmap }), 14), 'le'));
  }
  chunks.push(encodeRecord({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: BigInt(setup.length + 2 * pairs), text: '' }, 'le'));
  return writeChunks(path, chunks);
}

/**
 * The EEH session as `vfiotrace tui --emulate` records it: the traced pid
 * starts as vfiotrace's wrapper (unshare, the sandbox's and the sysfs
 * shells, the redirecting shell), whose helpers (mount, mkdir, …) come and
 * go, then execs the user's command. Returns how many events are the
 * wrapper's.
 */
export function writeWrappedRecording(path: string, helpers = 12): { own: number } {
  const user = ['qemu-system-ppc64', '-M', 'pseries'];
  const argv = emulationArgv(targetArgv(user, '/tmp/vfiotrace-tui.out'), resolveProfile('power-eeh'), '/dev/shm/vfiotrace-emu-x/sys');
  const header = makeHeader({ arch: 'ppc64le', hostname: 'p9-test', argv });
  const recs: NewRecord[] = [];
  const proc = (kind: ProcessEventKind, pid: number, o: { other?: number; value?: number; text?: string } = {}) => {
    clock += 1_000n;
    recs.push({ type: 'process', kind, pid, tid: pid, ts: clock, value: o.value ?? 0, other: o.other ?? 0, text: o.text ?? '' });
  };
  const helper = (k: number) => {
    const pid = 5000 + k;
    proc(ProcessEventKind.Start, pid, { other: PID, text: 'sh' });
    proc(ProcessEventKind.Exec, pid, { text: k % 2 ? '/usr/bin/mkdir' : '/usr/bin/mount' });
    proc(ProcessEventKind.Exit, pid);
    proc(ProcessEventKind.Signal, PID, { value: 17 });
  };
  proc(ProcessEventKind.Start, PID, { other: 1, text: 'unshare' });
  proc(ProcessEventKind.Exec, PID, { text: '/usr/bin/unshare' });
  proc(ProcessEventKind.Exec, PID, { text: '/usr/bin/dash' });
  for (let k = 0; k < helpers - 2; k++) helper(k);
  proc(ProcessEventKind.Exec, PID, { text: '/usr/bin/dash' });
  for (let k = helpers - 2; k < helpers; k++) helper(k);
  proc(ProcessEventKind.Exec, PID, { text: '/usr/bin/dash' });
  const own = recs.length;
  proc(ProcessEventKind.Exec, PID, { text: '/usr/bin/qemu-system-ppc64' });
  // The session's own START is the wrapper's here: the command arrives by exec.
  recs.push(...eehSession().filter((r) => r.type !== 'process'));
  proc(ProcessEventKind.Exit, PID);
  recs.push({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: BigInt(recs.length), text: '' });
  writeChunks(path, [encodeHeader(header), ...recs.map((r) => encodeRecord(r, 'le'))]);
  return { own };
}
