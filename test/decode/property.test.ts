// Hostile input: random bytes, lengths, argsz, return values and record
// flags for every ioctl on every architecture never make the decoder throw
// or hang, and nothing from the tracee reaches the output unescaped.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { registry } from '../../decoders/index.js';
import { createDecoder } from '../../src/decode/decoder.js';
import type { FieldNode } from '../../src/decode/types.js';
import { header, record, PATH } from './helpers.js';
import { IOCTL_FLAG } from '../../src/trace/events.js';
import { ProcessEventKind } from '../../src/trace/events.js';

const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 'ppc64'] as const;
const PATHS = [PATH.container, PATH.group, PATH.device, PATH.deviceAnon, PATH.iommufd, 'anon_inode:[vfio-mig]', '/dmabuf:', '/tmp/x', ''];
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

function* texts(n: FieldNode | null): Generator<string> {
  if (!n) return;
  // `text` is the raw string (renderers escape it); `display` must be safe as is.
  yield n.display;
  for (const c of n.children ?? []) yield* texts(c);
}

const nrs = [...new Set(registry().ioctls.map((d) => d.nr)), 0x99, 0x63];

describe('random input', () => {
  it('never throws; strings are escaped', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ARCHES),
        fc.array(
          fc.record({
            nr: fc.constantFrom(...nrs),
            path: fc.constantFrom(...PATHS),
            fd: fc.integer({ min: -1, max: 6 }),
            entry: fc.uint8Array({ maxLength: 300 }),
            exit: fc.uint8Array({ maxLength: 300 }),
            argsz: fc.option(fc.oneof(fc.integer({ min: 0, max: 400 }), fc.constant(0xffffffff)), { nil: undefined }),
            ret: fc.oneof(fc.integer({ min: -140, max: 20 }), fc.constant(-512)),
            flags: fc.integer({ min: 0, max: 0x1f }),
            arg: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (arch, calls) => {
          const dec = createDecoder(header(arch), { registry: registry() });
          for (const c of calls) {
            const entry = c.entry.slice();
            if (c.argsz !== undefined && entry.length >= 4) new DataView(entry.buffer).setUint32(0, c.argsz, arch !== 'ppc64');
            const r = record(arch, { nr: c.nr, path: c.path, fd: c.fd, entry, exit: c.exit, ret: c.ret, flags: c.flags, arg: c.arg, inFault: (c.flags & IOCTL_FLAG.IN_FAULT) !== 0 ? entry.length : null });
            const ev = dec.decode(r);
            if (ev.kind !== 'ioctl') throw new Error('kind');
            for (const s of [...texts(ev.in), ...texts(ev.out), ev.argDisplay, ev.ret.meaning, ...ev.findings.map((f) => f.message)]) {
              expect(CONTROL.test(s), JSON.stringify(s)).toBe(false);
            }
          }
          dec.decode({ type: 'process', offset: 0, kind: ProcessEventKind.Exit, pid: 100, tid: 100, ts: 0n, value: 0, other: 0, text: '' });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a device name full of control characters is escaped', () => {
    const dec = createDecoder(header(), { registry: registry() });
    const name = new Uint8Array([0x30, 0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x22, 0x5c, 0xff, 0x07]);
    const ev = dec.decode(record('x86_64', { nr: 106, path: PATH.group, entry: name, ret: -19 }));
    if (ev.kind !== 'ioctl') throw new Error('kind');
    expect(ev.in?.display).toBe('"0\\x1b[2J\\n\\"\\\\\\xff\\x07"');
    // The raw string keeps the bytes (0xff is not UTF-8: U+FFFD).
    expect(ev.in?.text).toBe('0\x1b[2J\n"\\\ufffd\x07');
  });

  it('huge argsz and counts are bounded by what was captured', () => {
    const dec = createDecoder(header(), { registry: registry() });
    const e = new Uint8Array(65536).fill(0xff);
    const dv = new DataView(e.buffer);
    dv.setUint32(0, 0xffffffff, true);
    dv.setUint32(4, 4 | 0x20, true); // EVENTFD | TRIGGER, count 0xffffffff
    const ev = dec.decode(record('x86_64', { nr: 110, path: PATH.device, entry: e, flags: IOCTL_FLAG.TRUNCATED, wantLen: 0xffffffff }));
    if (ev.kind !== 'ioctl') throw new Error('kind');
    const data = ev.in?.children?.find((c) => c.name === 'data');
    expect(data?.children?.length).toBeLessThanOrEqual(65536 / 4);
    // Caps chain that points at itself forever in a 64 KiB reply.
    const info = new Uint8Array(65536);
    const iv = new DataView(info.buffer);
    iv.setUint32(0, 65536, true);
    iv.setUint32(4, 0x80, true);
    iv.setUint32(16, 24, true);
    for (let off = 24; off + 8 <= 65536; off += 8) iv.setUint32(off + 4, off + 8 < 65536 ? off + 8 : 24, true);
    const ev2 = dec.decode(record('x86_64', { nr: 107, path: PATH.device, entry: info.slice(0, 24), exit: info }));
    if (ev2.kind !== 'ioctl') throw new Error('kind');
    expect(ev2.findings.map((f) => f.rule)).toContain('cap-chain-too-long');
  });
});
