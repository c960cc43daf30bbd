import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EndReason, IOCTL_FLAG, ProcessEventKind, RuleKind, type ByteOrder, type TraceRecord } from '../../src/trace/events.js';
import { MAX_IOCTL_RECORD_LEN, RecordingError, RecordingParser, parseRecording } from '../../src/trace/reader.js';
import { readRecordingFile, readStream } from '../../src/trace/recordingStream.js';
import { RecordingWriter, encodeRecording, makeHeader, type NewRecord } from '../../src/trace/writer.js';

const u8 = (...b: number[]) => new Uint8Array(b);

/** Bytes copied by Uint8Array.prototype.set and slice while `f` runs. */
function spyOnCopies(f: () => void): number {
  const set = Uint8Array.prototype.set;
  const slice = Uint8Array.prototype.slice;
  let n = 0;
  Uint8Array.prototype.set = function (this: Uint8Array, src: ArrayLike<number>, off?: number) {
    n += src.length;
    return set.call(this, src, off);
  } as typeof set;
  Uint8Array.prototype.slice = function (this: Uint8Array, a?: number, b?: number) {
    const r = slice.call(this, a, b);
    n += r.length;
    return r;
  } as typeof slice;
  try {
    f();
  } finally {
    Uint8Array.prototype.set = set;
    Uint8Array.prototype.slice = slice;
  }
  return n;
}

function sample(): NewRecord[] {
  return [
    { type: 'process', kind: ProcessEventKind.Start, pid: 10, tid: 10, ts: 5n, value: 0, other: 1, text: 'qemu' },
    {
      type: 'ioctl',
      flags: IOCTL_FLAG.TRUNCATED,
      pid: 10,
      tid: 11,
      tEntry: 100n,
      tExit: 150n,
      fd: 3n,
      request: 0x3b6bn,
      arg: 0x7fff_0000_1000n,
      ret: -25n,
      wantLen: 0xffffffff,
      inFault: null,
      outFault: null,
      ruleKind: RuleKind.Sized,
      fdPath: '/dev/vfio/devices/vfio0',
      entry: u8(0xff, 0xff, 0xff, 0xff, 1, 2, 3),
      exit: u8(0xff, 0xff, 0xff, 0xff, 1, 2, 3),
    },
    {
      type: 'ioctl',
      flags: IOCTL_FLAG.IN_FAULT | IOCTL_FLAG.NO_EXIT,
      pid: 10,
      tid: 10,
      tEntry: 200n,
      tExit: 0n,
      fd: 0xffff_ffff_ffff_ffffn,
      request: 0x2000_3b79n,
      arg: 0n,
      ret: 0n,
      wantLen: 12,
      inFault: 0,
      outFault: null,
      ruleKind: RuleKind.Fixed,
      fdPath: 'anon_inode:[vfio-device] é',
      entry: u8(),
      exit: u8(),
    },
    { type: 'end', reason: EndReason.Killed, status: 9, dropped: 0, events: 2n, text: '' },
  ];
}

function strip(r: TraceRecord): Record<string, unknown> {
  const { offset: _o, ...rest } = r as TraceRecord & { offset: number };
  const o: Record<string, unknown> = { ...rest };
  if ('entry' in rest) {
    o.entry = Array.from(rest.entry);
    o.exit = Array.from(rest.exit);
  }
  return o;
}

function stripNew(r: NewRecord): Record<string, unknown> {
  const { offset: _o, ...rest } = r as NewRecord & { offset?: number };
  const o: Record<string, unknown> = { ...rest };
  if ('entry' in rest) {
    o.entry = Array.from(rest.entry);
    o.exit = Array.from(rest.exit);
  }
  return o;
}

describe('reader/writer round trip', () => {
  for (const order of ['le', 'be'] as ByteOrder[]) {
    it(`decodes what the writer encodes (${order})`, () => {
      const header = makeHeader({
        arch: order === 'be' ? 'ppc64' : 'ppc64le',
        argv: ['qemu-system-ppc64', '-M', 'pseries'],
        attachedPids: [],
        hostname: 'p9',
        kernelRelease: '6.12.0',
        startRealtimeNs: 1234n,
        startMonotonicNs: 99n,
      });
      const bytes = encodeRecording(header, sample());
      const { header: h, records } = parseRecording(bytes);
      expect(h).toEqual(header);
      expect(h.byteOrder).toBe(order);
      expect(records.map(strip)).toEqual(sample().map(stripNew));
      // offsets point at the records' real positions
      const w = new RecordingWriter(header);
      const offsets = sample().map((r) => w.write(r));
      expect(records.map((r) => r.offset)).toEqual(offsets);
    });
  }

  it('survives any chunking of the stream', () => {
    const bytes = encodeRecording(makeHeader(), sample());
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const p = new RecordingParser();
        const out: TraceRecord[] = [];
        let prev = 0;
        for (const c of [...points, bytes.length]) {
          out.push(...p.push(bytes.subarray(prev, c)));
          prev = c;
        }
        p.finish();
        expect(out.map(strip)).toEqual(sample().map(stripNew));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips random ioctl records in both byte orders', () => {
    const rec = fc.record({
      flags: fc.integer({ min: 0, max: 0x1f }),
      pid: fc.integer({ min: 0, max: 0xffffffff }),
      tid: fc.integer({ min: 0, max: 0xffffffff }),
      tEntry: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fd: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      request: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      ret: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      entry: fc.uint8Array({ maxLength: 64 }),
      path: fc.string({ maxLength: 40 }),
      be: fc.boolean(),
    });
    fc.assert(
      fc.property(rec, (x) => {
        const r: NewRecord = {
          type: 'ioctl',
          flags: x.flags,
          pid: x.pid,
          tid: x.tid,
          tEntry: x.tEntry,
          tExit: 0n,
          fd: x.fd,
          request: x.request,
          arg: 1n,
          ret: x.ret,
          wantLen: x.entry.length,
          inFault: null,
          outFault: x.entry.length,
          ruleKind: RuleKind.Sized,
          fdPath: x.path,
          entry: x.entry,
          exit: x.entry,
        };
        const { records } = parseRecording(encodeRecording(makeHeader({ byteOrder: x.be ? 'be' : 'le' }), [r]));
        expect(records.map(strip)).toEqual([stripNew(r)]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('bad input', () => {
  const header = makeHeader();
  const good = encodeRecording(header, sample());
  const recordStarts = parseRecording(good).records.map((r) => r.offset);

  it('returns every complete record of a truncated stream, then names the offset', () => {
    const lastStart = recordStarts[recordStarts.length - 1] as number;
    const cut = good.subarray(0, lastStart + 5);
    let err: unknown;
    try {
      parseRecording(cut);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordingError);
    const re = err as RecordingError & { records: TraceRecord[] };
    expect(re.offset).toBe(lastStart);
    expect(re.message).toMatch(/truncated record/);
    expect(re.records.length).toBe(sample().length - 1);
  });

  it('stops at a record whose length is corrupt, after the good ones', () => {
    const bad = good.slice();
    const second = recordStarts[1] as number;
    new DataView(bad.buffer).setUint32(second + 4, 13, true); // not a multiple of 8
    const p = new RecordingParser();
    const recs = p.push(bad);
    expect(recs.length).toBe(1);
    expect(() => p.finish()).toThrow(RecordingError);
    expect(p.error?.offset).toBe(second);
    expect(p.error?.message).toMatch(new RegExp(`byte ${second}.*bad record length 13`));
  });

  it('rejects an IOCTL record whose payload lengths overrun it', () => {
    const bad = good.slice();
    const second = recordStarts[1] as number;
    new DataView(bad.buffer).setUint32(second + 68, 1 << 20, true); // in_len
    expect(() => parseRecording(bad)).toThrow(/IOCTL payload .* runs past/);
  });

  it('rejects a huge length without waiting for more input', () => {
    const bad = good.slice();
    const second = recordStarts[1] as number;
    new DataView(bad.buffer).setUint32(second + 4, 0xfffffff8, true);
    const p = new RecordingParser();
    expect(p.push(bad).length).toBe(1);
    expect(p.error).toBeInstanceOf(RecordingError);
  });

  it('rejects a record longer than its type can be as soon as its 8-byte header arrives', () => {
    // An IOCTL record holds at most a 64 KiB path and two payloads at the
    // 64 MiB capture cap: 256 MiB is corrupt, whatever follows.
    const hdrLen = recordStarts[0] as number;
    const head = new Uint8Array(hdrLen + 8);
    head.set(good.subarray(0, hdrLen));
    const dv = new DataView(head.buffer);
    dv.setUint16(hdrLen, 1, true);
    dv.setUint32(hdrLen + 4, 256 * 1024 * 1024, true);
    const p = new RecordingParser();
    expect(p.push(head)).toEqual([]);
    expect(p.error).toBeInstanceOf(RecordingError);
    expect(p.error?.offset).toBe(hdrLen);
    expect(p.error?.message).toMatch(new RegExp(`byte ${hdrLen}: .*IOCTL record length 268435456 .*at most`));
    expect(MAX_IOCTL_RECORD_LEN).toBeLessThan(256 * 1024 * 1024);
  });

  it('rejects IOCTL payload lengths beyond the capture cap once the fixed part arrives, in any chunking', () => {
    const hdrLen = recordStarts[0] as number;
    const bytes = new Uint8Array(hdrLen + 96);
    bytes.set(good.subarray(0, hdrLen));
    const dv = new DataView(bytes.buffer);
    dv.setUint16(hdrLen, 1, true);
    dv.setUint32(hdrLen + 4, 100 << 20, true); // plausible length…
    dv.setUint32(hdrLen + 68, 70 << 20, true); // …but in_len above the 64 MiB cap
    for (const cut of [hdrLen + 3, hdrLen + 8, hdrLen + 50, hdrLen + 96]) {
      const p = new RecordingParser();
      p.push(bytes.subarray(0, cut));
      if (cut < hdrLen + 88) expect(p.error).toBeNull();
      p.push(bytes.subarray(cut));
      expect(p.error?.offset).toBe(hdrLen);
      expect(p.error?.message).toMatch(/in_len 73400320 .*capture cap/);
    }
  });

  it('parses a record split over many chunks without copying it per chunk', () => {
    // 8 MiB in, 8 MiB out, fed 64 KiB at a time: the pending bytes are kept as
    // a list and joined once (a join per chunk would copy ~1 GiB here).
    const big = new Uint8Array(8 << 20).fill(7);
    const bytes = encodeRecording(header, [{ ...(sample()[1] as NewRecord), flags: 0, wantLen: big.length, entry: big, exit: big } as NewRecord]);
    const p = new RecordingParser();
    const copied = spyOnCopies(() => {
      let got = 0;
      for (let o = 0; o < bytes.length; o += 1 << 16) got += p.push(bytes.subarray(o, o + (1 << 16))).length;
      expect(got).toBe(1);
    });
    p.finish();
    expect(copied).toBeLessThan(4 * bytes.length);
  });

  it('rejects bad magic, byte-order mark and version with offsets', () => {
    const m = good.slice();
    m[0] = 0x58;
    expect(() => parseRecording(m)).toThrow(/byte 0: not a vfiotrace recording/);
    const b = good.slice();
    b[8] = 0x11;
    expect(() => parseRecording(b)).toThrow(/byte 8: bad byte-order mark/);
    const v = good.slice();
    v[12] = 9;
    expect(() => parseRecording(v)).toThrow(/byte 12: unsupported format version 9/);
    expect(() => parseRecording(new Uint8Array(0))).toThrow(/^empty: not a vfiotrace recording$/);
    expect(() => parseRecording(good.subarray(0, 30))).toThrow(/truncated header/);
  });

  it('skips unknown record types by their length', () => {
    const extra = new Uint8Array(16);
    const dv = new DataView(extra.buffer);
    dv.setUint16(0, 77, true);
    dv.setUint32(4, 16, true);
    const hdrLen = recordStarts[0] as number;
    const withUnknown = new Uint8Array(good.length + 16);
    withUnknown.set(good.subarray(0, hdrLen), 0);
    withUnknown.set(extra, hdrLen);
    withUnknown.set(good.subarray(hdrLen), hdrLen + 16);
    expect(parseRecording(withUnknown).records.length).toBe(sample().length);
  });
});

describe('streams and files', () => {
  it('reads a file in batches with the header first', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vft-'));
    const file = path.join(dir, 'x.vft');
    const w = new RecordingWriter(makeHeader({ argv: ['a', 'b'] }));
    for (let i = 0; i < 5000; i++) w.write({ ...(sample()[1] as NewRecord), tid: i } as NewRecord);
    writeFileSync(file, w.toBytes());
    const rec = await readRecordingFile(file);
    expect(rec.header.argv).toEqual(['a', 'b']);
    let n = 0;
    for await (const r of rec.records()) {
      expect(r.type === 'ioctl' && r.tid === n).toBe(true);
      n++;
    }
    expect(n).toBe(5000);
  });

  it('a stream cut mid-record yields the complete records, then throws', async () => {
    const bytes = encodeRecording(makeHeader(), sample());
    async function* src() {
      yield bytes.subarray(0, 100);
      yield bytes.subarray(100, bytes.length - 3);
    }
    const rec = await readStream(src());
    const got: TraceRecord[] = [];
    await expect(
      (async () => {
        for await (const r of rec.records()) got.push(r);
      })(),
    ).rejects.toThrow(RecordingError);
    expect(got.length).toBe(sample().length - 1);
  });
});
