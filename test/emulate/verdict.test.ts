// The engine's side of emulation, driven with hand-made verdicts: skip with
// a return value, a write the tracee cannot take (EFAULT), and a malformed
// verdict (emulation switches off, calls run, the tracee is never stuck).

import { closeSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DecodedIoctl } from '../../src/decode/types.js';
import { PendingTap } from '../../src/emulate/tap.js';
import { encodeVerdict, verdictPipe } from '../../src/emulate/wire.js';
import type { Verdict } from '../../src/emulate/types.js';
import { IOCTL_FLAG, type IoctlRecord } from '../../src/trace/events.js';
import { startTrace, type TraceSession } from '../../src/trace/native.js';
import { liveCaptureRules, openPipeline } from '../../src/session/pipeline.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { fixture, sandboxUnavailable, tracerUnavailable } from '../helpers/trace.js';

const skip = tracerUnavailable() ?? sandboxUnavailable();
if (skip) console.warn(`skipping verdict tests: ${skip}`);

/** Runs demo_client type1 in the plain sandbox, answering the n-th PENDING with answer(n, record). */
async function run(answer: (n: number, r: IoctlRecord) => Uint8Array, command = [fixture('demo_client'), 'type1'], payloadCap?: number): Promise<DecodedIoctl[]> {
  const [rfd, wfd] = verdictPipe();
  const s = startTrace({ command: sandboxArgv(command), rules: liveCaptureRules(), verdictFd: rfd, ...(payloadCap !== undefined ? { payloadCap } : {}) });
  let n = 0;
  let open = true;
  const tap = new PendingTap((r) => {
    const msg = answer(n++, r);
    if (!open) return;
    try {
      writeSync(wfd, msg);
    } catch {
      open = false;
    }
  });
  s.stream.pipe(tap);
  const p = await openPipeline(tap, {});
  const out: DecodedIoctl[] = [];
  for await (const e of p.events()) if (e.kind === 'ioctl') out.push(e);
  await s.done;
  open = false;
  closeSync(wfd);
  closeSync(rfd);
  return out;
}

async function collectIoctls(s: TraceSession): Promise<IoctlRecord[]> {
  const p = await openPipeline(s.stream, {});
  const out: IoctlRecord[] = [];
  for await (const e of p.events()) if (e.kind === 'ioctl') out.push(e.record);
  await s.done;
  return out;
}

describe.skipIf(skip !== null)('verdicts applied by the engine', () => {
  it('PENDING records are the entry half of each call: no exit time, no return value, no exit bytes', async () => {
    const pending: IoctlRecord[] = [];
    await run((_n, r) => {
      pending.push(r);
      return encodeVerdict({ action: 'run' });
    });
    expect(pending.length).toBeGreaterThan(15);
    for (const r of pending) expect({ tExit: r.tExit, ret: r.ret, exit: r.exit.length }).toEqual({ tExit: 0n, ret: 0n, exit: 0 });
  });

  it('-s bounds the IOCTL records only: PENDING has each payload whole, the record is what a capped capture takes', async () => {
    // Without address randomization both runs pass the same pointers.
    const cmd = ['setarch', process.arch === 'x64' ? 'x86_64' : 'ppc64le', '-R', fixture('demo_client'), 'type1'];
    for (const cap of [0, 3, 8, 16]) {
      const pending: IoctlRecord[] = [];
      const emulated = await run((_n, r) => {
        pending.push(r);
        return encodeVerdict({ action: 'run' });
      }, cmd, cap);
      expect(pending.some((r) => r.entry.length > Math.max(cap, 16)), 'some PENDING payload is longer than -s').toBe(true);
      const plain = await collectIoctls(startTrace({ command: sandboxArgv(cmd), rules: liveCaptureRules(), payloadCap: cap }));
      const shape = (r: IoctlRecord) => ({ request: r.request, flags: r.flags & ~IOCTL_FLAG.EMULATED, want: r.wantLen, inFault: r.inFault, outFault: r.outFault, entry: [...r.entry], exit: [...r.exit] });
      expect(emulated.map((e) => shape(e.record)), `-s ${cap}`).toEqual(plain.map(shape));
    }
  }, 60_000);

  it('RETURN skips the call: the value and the bytes reach the tracee, the record says EMULATED', async () => {
    const calls = await run((n, r) => {
      let v: Verdict = { action: 'run' };
      if (n === 0) v = { action: 'return', ret: 0, writes: [] }; // GET_API_VERSION
      if (n === 1) v = { action: 'return', ret: 1, writes: [] }; // CHECK_EXTENSION
      if (n === 2) v = { action: 'return', ret: 0, writes: [{ addr: r.arg + 4n, bytes: new Uint8Array([3, 0, 0, 0]) }] }; // GROUP_GET_STATUS
      if (n === 3) v = { action: 'return', ret: 0, writes: [{ addr: 1n, bytes: new Uint8Array([1]) }] }; // unwritable
      return encodeVerdict(v);
    });
    expect(calls.slice(0, 4).map((c) => [c.ioctl, c.ret.value, (c.record.flags & IOCTL_FLAG.EMULATED) !== 0])).toEqual([
      ['VFIO_GET_API_VERSION', 0, true],
      ['VFIO_CHECK_EXTENSION', 1, true],
      ['VFIO_GROUP_GET_STATUS', 0, true],
      ['VFIO_GROUP_SET_CONTAINER', -14, true],
    ]);
    // The exit capture re-reads what was written.
    expect(Array.from(calls[2]!.record.exit)).toEqual([8, 0, 0, 0, 3, 0, 0, 0]);
    // RUN: the real kernel answers (ENOTTY on the sandbox's plain files).
    expect(calls[4]!.ret.errno).toBe('ENOTTY');
    expect(calls[4]!.record.flags & IOCTL_FLAG.EMULATED).toBe(0);
  });

  it('a reply into read-only memory fails with EFAULT, as copy_to_user would', async () => {
    // GET_DEVICE_FD's argument is a string literal: read-only data in the client.
    const calls = await run((_n, r) =>
      encodeVerdict((r.request & 0xffn) === 0x6an ? { action: 'return', ret: 5, writes: [{ addr: r.arg, bytes: new Uint8Array([0x41]) }] } : { action: 'run' }),
    );
    const get = calls.find((c) => c.ioctl === 'VFIO_GROUP_GET_DEVICE_FD')!;
    expect([get.ret.value, (get.record.flags & IOCTL_FLAG.EMULATED) !== 0]).toEqual([-14, true]);
  });

  it('a malformed verdict switches emulation off; every later call runs and the client finishes', async () => {
    const calls = await run((n) => (n === 1 ? new Uint8Array(32).fill(0xee) : encodeVerdict({ action: 'return', ret: 0, writes: [] })));
    expect(calls.length).toBeGreaterThan(10);
    expect(calls[0]!.ret.value).toBe(0);
    for (const c of calls.slice(1)) {
      expect(c.record.flags & IOCTL_FLAG.EMULATED).toBe(0);
      expect(c.ret.errno).toBe('ENOTTY');
    }
  });
});
