// IOCTL records as views over the stream's bytes (src/trace/recordView.ts):
// every field reads as the plain parser's record does, the number helpers
// equal the bigint arithmetic they replace (for any 64-bit value, both byte
// orders), assigning a field wins over the bytes, and decoding a recording
// through views prints exactly what plain records print.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { renderJson } from '../../src/render/json.js';
import { TextRenderer } from '../../src/render/text.js';
import type { IoctlRecord } from '../../src/trace/events.js';
import { RecordingParser } from '../../src/trace/reader.js';
import { argHighOf, argLowOf, argOf, exitLengthOf, fdOf, IoctlRecordView, requestOf, retOf, tEntryOf, tExitOf } from '../../src/trace/recordView.js';
import { encodeHeader, encodeRecord, makeHeader } from '../../src/trace/writer.js';
import { encodeIo } from '../../src/decode/encoding.js';
import { registry } from '../../decoders/index.js';
import { argHex, argPointer, regHex } from '../../src/decode/argText.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }), fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x1fffffffffffffn, 0x20000000000000n, 0xffffffffffffffffn));

/** What the helpers must equal: the bigint expressions the decoder used. */
function expected(r: IoctlRecord) {
  return {
    fd: Number(BigInt.asIntN(32, r.fd)),
    request: Number(BigInt.asUintN(32, r.request)),
    ret: Number(r.ret),
    tEntry: Number(r.tEntry),
    tExit: Number(r.tExit),
    arg: r.arg <= 0x7fffffffn ? Number(r.arg) : Number(BigInt.asIntN(64, r.arg)),
    argLow: Number(BigInt.asUintN(32, r.arg)),
    argHigh: Number(BigInt.asIntN(32, r.arg >> 32n)),
  };
}
function helpers(r: IoctlRecord) {
  return { fd: fdOf(r), request: requestOf(r), ret: retOf(r), tEntry: tEntryOf(r), tExit: tExitOf(r), arg: argOf(r), argLow: argLowOf(r), argHigh: argHighOf(r) };
}

function parse(bytes: Uint8Array, views: boolean): IoctlRecord {
  const p = new RecordingParser({ views });
  const recs = p.push(bytes);
  p.finish();
  const r = recs[0];
  if (r?.type !== 'ioctl') throw new Error('no ioctl record');
  return r;
}

describe('IOCTL record views', () => {
  it('read every field as the plain parser does; the helpers equal the bigint arithmetic', () => {
    fc.assert(
      fc.property(fc.constantFrom('le', 'be'), u64, u64, u64, u64, u64, u64, (order, tEntry, tExit, fd, request, arg, retU) => {
        const arch = order === 'le' ? 'x86_64' : 'ppc64';
        const h = makeHeader({ arch });
        const ret = BigInt.asIntN(64, retU);
        const rec = encodeRecord({ type: 'ioctl', flags: 0, pid: 9, tid: 10, tEntry, tExit, fd, request, arg, ret, wantLen: 3, inFault: 5, outFault: null, ruleKind: 3, fdPath: '/dev/vfio/vfio', entry: new Uint8Array([1, 2, 3]), exit: new Uint8Array([4]) }, h.byteOrder);
        const bytes = new Uint8Array([...encodeHeader(h), ...rec]);
        const v = parse(bytes, true);
        const plain = parse(bytes, false);
        expect(v).toBeInstanceOf(IoctlRecordView);
        for (const k of ['type', 'offset', 'flags', 'pid', 'tid', 'tEntry', 'tExit', 'fd', 'request', 'arg', 'ret', 'wantLen', 'inFault', 'outFault', 'ruleKind', 'fdPath', 'entry', 'exit'] as const) {
          expect(v[k]).toEqual(plain[k]);
        }
        expect((v as IoctlRecordView).toJSON()).toEqual(plain);
        expect(helpers(v)).toEqual(expected(plain));
        expect(helpers(plain)).toEqual(expected(plain));
        expect([exitLengthOf(v), exitLengthOf(plain)]).toEqual([plain.exit.length, plain.exit.length]);
        // An assigned field wins over the bytes.
        v.arg = tEntry;
        v.ret = -BigInt.asIntN(32, fd);
        v.fd = request;
        expect(helpers(v)).toEqual(expected({ ...plain, arg: tEntry, ret: -BigInt.asIntN(32, fd), fd: request }));
      }),
      { numRuns: 300 },
    );
  });

  it('JSON carries the same arg (and arg_display) from a view as from the plain record, for any 64-bit value', () => {
    const h = makeHeader({ arch: 'x86_64' });
    const nr = registry().byName.get('VFIO_DEVICE_GET_IRQ_INFO')?.[0]?.nr as number;
    fc.assert(
      fc.property(u64, (arg) => {
        const rec = encodeRecord({ type: 'ioctl', flags: 0, pid: 9, tid: 9, tEntry: 1n, tExit: 2n, fd: 5n, request: BigInt(encodeIo('x86_64', nr)), arg, ret: 0n, wantLen: 0, inFault: null, outFault: null, ruleKind: 0, fdPath: '/dev/vfio/devices/vfio0', entry: new Uint8Array(0), exit: new Uint8Array(0) }, 'le');
        const bytes = new Uint8Array([...encodeHeader(h), ...rec]);
        const [a, b] = [parse(bytes, true), parse(bytes, false)].map((r) => renderJson(createDecoder(h, { registry: registry() }).decode(r)));
        expect(a).toBe(b);
        expect(JSON.parse(a!).arg).toEqual(arg <= 0x1fffffffffffffn ? Number(arg) : '0x' + arg.toString(16));
      }),
      { numRuns: 300 },
    );
  });

  it('format the arg register as a pointer exactly as the bigint does, for any 64-bit value', () => {
    fc.assert(
      fc.property(fc.constantFrom('le', 'be'), u64, (order, arg) => {
        const h = makeHeader({ arch: order === 'le' ? 'x86_64' : 'ppc64' });
        const rec = encodeRecord({ type: 'ioctl', flags: 0, pid: 9, tid: 9, tEntry: 1n, tExit: 2n, fd: 3n, request: 1n, arg, ret: 0n, wantLen: 0, inFault: null, outFault: null, ruleKind: 0, fdPath: '', entry: new Uint8Array(0), exit: new Uint8Array(0) }, h.byteOrder);
        const bytes = new Uint8Array([...encodeHeader(h), ...rec]);
        for (const r of [parse(bytes, true), parse(bytes, false)]) {
          expect(argHex(r)).toBe(regHex(arg));
          expect(argPointer(r)).toBe(arg === 0n ? 'NULL' : regHex(arg));
        }
        expect(regHex(arg)).toBe('0x' + arg.toString(16));
      }),
      { numRuns: 300 },
    );
  });

  it('decode to the same text and JSON as plain records (golden recordings)', () => {
    for (const arch of ['x86_64', 'ppc64le', 'ppc64']) {
      const bytes = new Uint8Array(readFileSync(path.join(HERE, '..', 'golden', `spapr-eeh.${arch}.vft`)));
      const outs = [true, false].map((views) => {
        const p = new RecordingParser({ views });
        const recs = p.push(bytes);
        p.finish();
        const dec = createDecoder(p.header!, { registry: registry() });
        const text = new TextRenderer(p.header);
        let t = '';
        let j = '';
        for (const r of recs) {
          const ev = dec.decode(r);
          t += text.render(ev);
          j += renderJson(ev);
        }
        return { t, j, views: recs.filter((r) => r instanceof IoctlRecordView).length };
      });
      expect(outs[0]!.views).toBeGreaterThan(10);
      expect(outs[1]!.views).toBe(0);
      expect(outs[0]!.t).toBe(outs[1]!.t);
      expect(outs[0]!.j).toBe(outs[1]!.j);
    }
  });

  it('payload bytes assigned to a view are what the decoder and its memo see', () => {
    const h = makeHeader({ arch: 'x86_64' });
    const nr = registry().byName.get('VFIO_DEVICE_GET_IRQ_INFO')?.[0]?.nr as number;
    const info = (index: number, count: number): Uint8Array => {
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, 16, true);
      dv.setUint32(8, index, true);
      dv.setUint32(12, count, true);
      return b;
    };
    const rec = (entry: Uint8Array, exit: Uint8Array): Uint8Array =>
      encodeRecord({ type: 'ioctl', flags: 0, pid: 9, tid: 9, tEntry: 1n, tExit: 2n, fd: 5n, request: BigInt(encodeIo('x86_64', nr)), arg: 0x1000n, ret: 0n, wantLen: 16, inFault: null, outFault: null, ruleKind: 3, fdPath: '/dev/vfio/devices/vfio0', entry, exit }, 'le');
    const bytes = new Uint8Array([...encodeHeader(h), ...rec(info(1, 0), info(1, 8)), ...rec(info(1, 0), info(1, 8))]);
    const p = new RecordingParser({ views: true });
    const [a, b] = p.push(bytes) as IoctlRecord[];
    // The second call's bytes are replaced after parsing: it is now a different call.
    b!.entry = info(2, 0);
    b!.exit = info(2, 64);
    expect(exitLengthOf(b!)).toBe(16);
    b!.exit = new Uint8Array(0);
    expect(exitLengthOf(b!)).toBe(0);
    b!.exit = info(2, 64);
    const memo = createDecoder(h, { registry: registry() });
    const fresh = createDecoder(h, { registry: registry(), callMemo: false });
    const t1 = new TextRenderer(h);
    const t2 = new TextRenderer(h);
    for (const r of [a!, b!]) expect(t1.render(memo.decode(r))).toBe(t2.render(fresh.decode(r)));
    expect(t1.render(memo.decode(b!))).toContain('count=64');
  });
});
