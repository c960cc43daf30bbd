// Hostile raw records (any VFIO/iommufd number on any fd kind, random payload
// bytes and lengths, any return value) through the real decoder into the
// auditor: nothing throws, the snapshot stays JSON.

import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import { createDecoder } from '../../src/decode/decoder.js';
import { ProcessEventKind, RuleKind, type TraceRecord } from '../../src/trace/events.js';
import { makeHeader } from '../../src/trace/writer.js';
import { registry } from '../../decoders/index.js';

const PATHS = ['/dev/vfio/vfio', '/dev/vfio/42', '/dev/vfio/devices/vfio0', '/dev/iommu', 'anon_inode:[vfio-device]', '/dev/null'];

const ioctlRec = fc.record({
  fd: fc.integer({ min: 0, max: 5 }),
  path: fc.constantFrom(...PATHS),
  nr: fc.oneof(fc.integer({ min: 0x64, max: 0x79 }), fc.integer({ min: 0x80, max: 0x94 })),
  arg: fc.bigInt({ min: 0n, max: 12n }),
  ret: fc.oneof(fc.constant(0), fc.integer({ min: -40, max: 6 })),
  entry: fc.uint8Array({ maxLength: 96 }),
  exit: fc.uint8Array({ maxLength: 96 }),
});

it('random raw records never make decoder + model + audit throw', () => {
  const header = makeHeader({ arch: 'x86_64' });
  fc.assert(
    fc.property(fc.array(fc.oneof({ weight: 9, arbitrary: ioctlRec }, { weight: 1, arbitrary: fc.constant(null) }), { maxLength: 80 }), (steps) => {
      const dec = createDecoder(header, { registry: registry() });
      const a = new Auditor();
      let offset = 0;
      for (const st of steps) {
        offset += 8;
        let r: TraceRecord;
        if (st === null) r = { type: 'process', offset, kind: ProcessEventKind.Exit, pid: 7, tid: 7, ts: 0n, value: 0, other: 0, text: '' };
        else {
          const exit = st.exit.length >= st.entry.length ? st.exit.subarray(0, st.entry.length) : new Uint8Array(st.entry.length);
          r = {
            type: 'ioctl', offset, flags: 0, pid: 7, tid: 7, tEntry: 0n, tExit: 1n, fd: BigInt(st.fd), request: BigInt(0x3b00 | st.nr),
            arg: st.arg, ret: BigInt(st.ret), wantLen: st.entry.length, inFault: null, outFault: null,
            ruleKind: st.entry.length ? RuleKind.Sized : RuleKind.Integer, fdPath: st.path, entry: st.entry, exit,
          };
        }
        a.feed(dec.decode(r));
      }
      a.finish();
      const snap = a.snapshot();
      expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    }),
    { numRuns: 200 },
  );
});
