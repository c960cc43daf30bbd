// The pipeline hands decoded events on in small batches however large the
// chunks read, in order, none lost, the corruption error after the last good one.

import { describe, expect, it } from 'vitest';
import { EndReason, ProcessEventKind } from '../../src/trace/events.js';
import { openPipeline } from '../../src/session/pipeline.js';
import { RecordingWriter, makeHeader } from '../../src/trace/writer.js';

function recording(n: number): Uint8Array {
  const w = new RecordingWriter(makeHeader());
  for (let i = 0; i < n; i++) w.write({ type: 'process', kind: ProcessEventKind.Signal, pid: 1, tid: 1, ts: BigInt(i), value: 10, other: 0, text: '' });
  w.write({ type: 'end', reason: EndReason.Exited, status: 0, dropped: 0, events: 0n, text: '' });
  return w.toBytes();
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

describe('pipeline batches', () => {
  it('one large chunk comes out in batches of at most 256, in order', async () => {
    const p = await openPipeline(once(recording(1000)), {});
    const sizes: number[] = [];
    const seqs: number[] = [];
    for await (const b of p.batches()) {
      sizes.push(b.length);
      for (const ev of b) seqs.push(ev.seq);
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256);
    expect(seqs).toEqual(Array.from({ length: 1001 }, (_, i) => i));
  });

  it('a corrupt tail: every good event first, then the error', async () => {
    const good = recording(600);
    const bad = new Uint8Array(good.length + 8);
    bad.set(good);
    bad.set([1, 0, 0, 0, 3, 0, 0, 0], good.length); // record length 3: corrupt
    const p = await openPipeline(once(bad), {});
    let n = 0;
    await expect((async () => {
      for await (const b of p.batches()) n += b.length;
    })()).rejects.toThrow(/corrupt/);
    expect(n).toBe(601);
  });
});
