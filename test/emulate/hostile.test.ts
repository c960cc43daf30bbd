// Hostile input: random requests, bytes, lengths and faults on every emulated
// fd kind never make the model throw, and a reply never writes past what the
// caller's argsz (or the kernel's minsz) covers. Also the verdict wire format
// and the PENDING tap.

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { powerEeh } from '../../src/emulate/profiles/powerEeh.js';
import { x86Pci } from '../../src/emulate/profiles/x86pci.js';
import { PendingTap } from '../../src/emulate/tap.js';
import { encodeVerdict } from '../../src/emulate/wire.js';
import { ProcessEventKind, type IoctlRecord } from '../../src/trace/events.js';
import { encodeHeader, encodeRecord, makeHeader, type NewRecord } from '../../src/trace/writer.js';
import { Harness, PID } from './harness.js';

const machines = [new Harness(structuredClone(x86Pci)), new Harness(structuredClone(powerEeh))];
afterAll(() => machines.forEach((m) => m.dispose()));

describe('hostile calls', () => {
  it('never throw and never write past max(argsz, minsz)', () => {
    for (const h of machines) {
      h.setup(h.k.profile.iommu === 'type1' ? 3 : 7);
      h.device();
      h.open(10, 'anon_inode:[eventfd]');
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.constantFrom(3, 4, 5),
        fc.integer({ min: 0x3b64, max: 0x3b94 }),
        fc.uint8Array({ maxLength: 96 }),
        fc.option(fc.nat(96)),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (m, fd, request, entry, fault, arg) => {
          const h = machines[m]!;
          const v = h.k.handle({ pid: PID, tid: PID, fd, fdPath: h.paths.get(fd)!, request, arg, entry, inFault: fault === null ? null : Math.min(fault, entry.length) });
          expect(['run', 'return', 'openat']).toContain(v.action);
          if (v.action === 'return') {
            expect(Number.isInteger(v.ret)).toBe(true);
            const argsz = entry.length >= 4 ? new DataView(entry.buffer, entry.byteOffset).getUint32(0, true) : 0;
            for (const w of v.writes) expect(w.bytes.length).toBeLessThanOrEqual(Math.max(argsz, entry.length, 48));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('verdict messages', () => {
  it('lay out header, write blocks and path as native/include/verdict.h says', () => {
    const m = encodeVerdict({ action: 'return', ret: -22, writes: [{ addr: 0x1000n, bytes: new Uint8Array([1, 2, 3]) }] });
    const dv = new DataView(m.buffer);
    expect([dv.getUint32(0, true), dv.getUint32(4, true), dv.getBigInt64(8, true), dv.getUint32(16, true), dv.getUint32(28, true)]).toEqual([0x56544656, 1, -22n, 1, 24]);
    expect([dv.getBigUint64(32, true), dv.getUint32(40, true), m[48], m[50], m.length]).toEqual([0x1000n, 3, 1, 3, 56]);
    const o = encodeVerdict({ action: 'openat', path: '/dev/shm/x', flags: 0o2000002 });
    const ov = new DataView(o.buffer);
    expect([ov.getUint32(4, true), ov.getUint32(20, true), ov.getUint32(24, true), ov.getUint32(28, true)]).toEqual([2, 10, 0o2000002, 16]);
    expect(Buffer.from(o.subarray(32, 42)).toString()).toBe('/dev/shm/x');
    expect(encodeVerdict({ action: 'run' }).length).toBe(32);
  });
});

describe('PendingTap', () => {
  it('hands over PENDING records as parsed calls and passes every byte on, whatever the chunking', async () => {
    const header = makeHeader({ arch: 'x86_64' });
    const rec: NewRecord = {
      type: 'ioctl', flags: 0, pid: 7, tid: 8, tEntry: 5n, tExit: 0n, fd: 3n, request: 0x3b79n, arg: 0x1000n, ret: 0n,
      wantLen: 12, inFault: null, outFault: null, ruleKind: 3, fdPath: '/dev/vfio/vfio', entry: new Uint8Array(12).fill(1), exit: new Uint8Array(0),
    };
    const ioctl = encodeRecord(rec, 'le');
    const pending = ioctl.slice();
    pending[0] = 4;
    const start = encodeRecord({ type: 'process', kind: ProcessEventKind.Start, pid: 9, tid: 9, ts: 1n, value: 0, other: 7, text: 'child' }, 'le');
    const bytes = Buffer.concat([encodeHeader(header), pending, start, ioctl, pending]);
    for (const step of [1, 7, 64, bytes.length]) {
      const seen: IoctlRecord[] = [];
      const starts: number[][] = [];
      const tap = new PendingTap((r) => seen.push(r), (pid, parent) => starts.push([pid, parent]));
      const out: Buffer[] = [];
      tap.on('data', (c: Buffer) => out.push(c));
      for (let i = 0; i < bytes.length; i += step) tap.write(bytes.subarray(i, i + step));
      tap.end();
      await new Promise((r) => tap.on('end', r));
      expect(Buffer.concat(out)).toEqual(bytes);
      expect(seen.map((r) => [r.pid, r.tid, r.fdPath, r.request, r.entry.length])).toEqual([
        [7, 8, '/dev/vfio/vfio', 0x3b79n, 12],
        [7, 8, '/dev/vfio/vfio', 0x3b79n, 12],
      ]);
      expect(starts).toEqual([[9, 7]]);
    }
  });

  it('for an emulated session, leaves PENDING out and renames the backing file, whatever the chunking', async () => {
    const header = makeHeader({ arch: 'x86_64' });
    const base: NewRecord = {
      type: 'ioctl', flags: 0x10, pid: 7, tid: 7, tEntry: 5n, tExit: 6n, fd: 5n, request: 0x3b6bn, arg: 0x1000n, ret: 0n,
      wantLen: 20, inFault: null, outFault: null, ruleKind: 3, fdPath: '/dev/shm/vfiotrace-emu-AbC123/vfio-device-0000:01:00.0',
      entry: new Uint8Array(20).fill(2), exit: new Uint8Array(20).fill(3),
    };
    const pending = encodeRecord({ ...base, tExit: 0n, exit: new Uint8Array(0) }, 'le');
    pending[0] = 4;
    const other: NewRecord = { ...base, fd: 3n, fdPath: '/dev/vfio/vfio' };
    const bytes = Buffer.concat([encodeHeader(header), pending, encodeRecord(base, 'le'), encodeRecord(other, 'le')]);
    const want = Buffer.concat([encodeHeader(header), encodeRecord({ ...base, fdPath: 'anon_inode:[vfio-device]' }, 'le'), encodeRecord(other, 'le')]);
    for (const step of [1, 5, 88, bytes.length]) {
      const seen: string[] = [];
      const tap = new PendingTap((r) => seen.push(r.fdPath), undefined, undefined, {
        dropPending: true,
        rename: new Map([[base.fdPath, 'anon_inode:[vfio-device]']]),
      });
      const out: Buffer[] = [];
      tap.on('data', (c: Buffer) => out.push(c));
      for (let i = 0; i < bytes.length; i += step) tap.write(bytes.subarray(i, i + step));
      tap.end();
      await new Promise((r) => tap.on('end', r));
      expect(Buffer.concat(out)).toEqual(want);
      // The emulator itself still sees the real path.
      expect(seen).toEqual([base.fdPath]);
    }
  });

  it('passes on a stream it cannot follow as it is, and a record cut short at the end', async () => {
    const header = encodeHeader(makeHeader({ arch: 'x86_64' }));
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setUint32(4, 13, true); // not a multiple of 8
    for (const tail of [bad, new Uint8Array(12).fill(1)]) {
      const bytes = Buffer.concat([header, tail]);
      const tap = new PendingTap(() => undefined, undefined, undefined, { dropPending: true });
      tap.on('tap-error', () => undefined);
      const out: Buffer[] = [];
      tap.on('data', (c: Buffer) => out.push(c));
      tap.end(bytes);
      await new Promise((r) => tap.on('end', r));
      expect(Buffer.concat(out)).toEqual(bytes);
    }
  });
});
