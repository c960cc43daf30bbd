import { describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import type { DecodedEvent } from '../../src/decode/types.js';
import { openPipeline } from '../../src/session/pipeline.js';
import { encodeHeader, encodeRecord, makeHeader } from '../../src/trace/writer.js';
import { eehSession } from '../tui/recording.js';

async function events(): Promise<DecodedEvent[]> {
  const recs = eehSession();
  // One more GET_STATE with a flag bit no kernel defines: a decoder finding.
  const last = recs[recs.length - 1];
  if (last?.type !== 'ioctl') throw new Error('session ends with an ioctl');
  const entry = last.entry.slice();
  new DataView(entry.buffer).setUint32(4, 0x80, true);
  recs.push({ ...last, entry, exit: entry.slice() });
  // And a RESET_HOT (op 6) never deactivated: a sequence finding at the end.
  const reset = last.entry.slice();
  new DataView(reset.buffer).setUint32(8, 6, true);
  recs.push({ ...last, ret: 0n, entry: reset, exit: reset.slice() });
  const chunks = [encodeHeader(makeHeader({ arch: 'ppc64le', hostname: 'p9-test', argv: ['qemu-system-ppc64'] })), ...recs.map((r) => encodeRecord(r, 'le'))];
  async function* bytes() {
    for (const c of chunks) yield c;
  }
  const out: DecodedEvent[] = [];
  for await (const b of (await openPipeline(bytes(), {})).batches()) out.push(...b);
  return out;
}

describe('Auditor.passDecoderFindings', () => {
  it('off: keeps and reports only the sequence findings, the same ones as with it on', async () => {
    const evs = await events();
    const on = new Auditor();
    const off = new Auditor();
    off.passDecoderFindings = false;
    const heard: string[] = [];
    off.onFinding = (f) => heard.push(f.source);
    for (const ev of evs) {
      on.feed(ev);
      off.feed(ev);
    }
    const all = on.finish();
    expect(all.some((f) => f.source === 'decoder')).toBe(true);
    expect(all.some((f) => f.source === 'sequence')).toBe(true);
    expect(off.finish()).toEqual(all.filter((f) => f.source === 'sequence'));
    expect(heard.every((s) => s === 'sequence')).toBe(true);
    expect(off.snapshot()).toEqual(on.snapshot());
  });
});
