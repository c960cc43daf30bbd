import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { IoctlEvent } from '../../src/decode/event.js';
import { registry } from '../../decoders/index.js';
import type { DecodedEvent, FieldNode } from '../../src/decode/types.js';
import { openPipeline } from '../../src/session/pipeline.js';
import { encodeHeader, encodeRecord, makeHeader } from '../../src/trace/writer.js';
import { EventStore } from '../../src/tui/state/eventStore.js';
import { argsPayload, ROW, shortArgs, summarize } from '../../src/tui/state/rowSummary.js';
import { header, PATH, record } from '../decode/helpers.js';
import { eehSession } from './recording.js';

const anyChanged = (n: FieldNode | null | undefined): boolean => !!n && (!!n.changed || (n.children ?? []).some(anyChanged));
const nrs = [...new Set(registry().ioctls.filter((d) => d.arg.kind === 'struct').map((d) => d.nr))];

/** The EEH session three times over: every call after the first round is a repeat the decoder recognises. */
async function decodedRepeats(): Promise<DecodedEvent[]> {
  const header = makeHeader({ arch: 'ppc64le', hostname: 'p9-test', argv: ['qemu-system-ppc64'] });
  const recs = eehSession();
  const chunks = [encodeHeader(header), ...[0, 1, 2].flatMap(() => recs.map((r) => encodeRecord(r, 'le')))];
  async function* bytes() {
    for (const c of chunks) yield c;
  }
  const p = await openPipeline(bytes(), {});
  const out: DecodedEvent[] = [];
  for await (const b of p.batches()) out.push(...b);
  return out;
}

describe('EventStore', () => {
  it('stores repeated calls with the same row as a fresh summary of each event', async () => {
    const events = await decodedRepeats();
    expect(events.filter((e) => e.kind === 'ioctl').length).toBe(33);
    // The decoder shares one call slot between repeats: the path under test.
    const slots = events.flatMap((e) => (e instanceof IoctlEvent && e.sharedText !== null ? [e.sharedText] : []));
    expect(slots.length).toBeGreaterThan(new Set(slots).size);
    const store = new EventStore(4);
    for (const ev of events) store.add(ev);
    expect(store.length).toBe(events.length);
    let errors = 0;
    let findings = 0;
    events.forEach((ev, i) => {
      const s = summarize(ev);
      const row = store.row(i);
      expect({ ...row, index: 0, seq: 0, findings: 0 }).toEqual({ ...s, index: 0, seq: 0, findings: 0 });
      expect(row.seq).toBe(ev.seq);
      if (ev.kind === 'ioctl') {
        expect(row.findings).toBe(ev.findings.length);
        expect(store.findings(i)).toEqual(ev.findings);
        findings += ev.findings.length;
        if (ev.ret.value < 0) errors++;
      }
    });
    expect(store.errors).toBe(errors);
    expect(errors).toBeGreaterThanOrEqual(3);
    expect(store.findingsTotal).toBe(findings);
    expect(store.ioctls).toBe(33);
  });

  it("marks vfiotrace's own events per event, not per repeated call", async () => {
    const events = await decodedRepeats();
    const slotOf = (e: DecodedEvent | undefined) => (e instanceof IoctlEvent ? e.sharedText : null);
    const again = events.findIndex((e, i) => slotOf(e) !== null && events.slice(0, i).some((x) => slotOf(x) === slotOf(e)));
    const first = events.findIndex((e) => slotOf(e) === slotOf(events[again]));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(again).toBeGreaterThan(first);
    const store = new EventStore();
    events.forEach((ev, i) => store.add(ev, i === first));
    expect(store.flags(first) & ROW.OWN).toBeTruthy();
    expect(store.flags(again) & ROW.OWN).toBe(0);
    expect(store.own).toBe(1);
    expect(store.row(again).name).toBe(store.row(first).name);
  });

  it('a late finding marks only its own row, not the other repeats of the same call', async () => {
    const events = await decodedRepeats();
    const store = new EventStore();
    for (const ev of events) store.add(ev);
    const first = events.findIndex((e) => e.kind === 'ioctl' && e.ret.value === 2);
    const again = events.findIndex((e, i) => i > first && e.kind === 'ioctl' && e.ret.value === 2);
    expect(again).toBeGreaterThan(first);
    const flagsBefore = store.flags(again);
    const late = { rule: 'test-rule', severity: 'warning' as const, message: 'late' };
    store.addFinding(store.seq(first), late);
    expect(store.row(first).findings).toBe(1);
    expect(store.findings(first)).toEqual([late]);
    // On a row with findings of its own, the late one comes after them.
    const own = events.findIndex((e) => e.kind === 'ioctl' && e.findings.length > 0);
    expect(own).toBeGreaterThanOrEqual(0);
    const before = store.findings(own);
    store.addFinding(store.seq(own), late);
    expect(store.findings(own)).toEqual([...before, late]);
    expect(store.row(own).findings).toBe(before.length + 1);
    expect(store.findingsTotal).toBe(events.reduce((n, e) => n + (e.kind === 'ioctl' ? e.findings.length : 0), 0) + 2);
    expect(store.flags(again)).toBe(flagsBefore);
    expect(store.row(again).findings).toBe(0);
  });

  it('marks a row changed exactly when the exit tree has a changed field (also when the bytes came back the same)', () => {
    let same = 0;
    let changed = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('x86_64', 'ppc64'),
        fc.constantFrom(...nrs),
        fc.constantFrom(PATH.container, PATH.device, PATH.iommufd),
        fc.uint8Array({ minLength: 4, maxLength: 120 }),
        fc.array(fc.record({ at: fc.nat(130), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
        fc.integer({ min: -8, max: 8 }),
        (arch, nr, path, entry, flips, grow) => {
          new DataView(entry.buffer).setUint32(0, entry.length, arch !== 'ppc64');
          let exit = entry.slice(0, Math.max(0, entry.length + Math.min(0, grow)));
          if (grow > 0) exit = Uint8Array.from([...exit, ...new Uint8Array(grow)]);
          for (const f of flips) if (f.at < exit.length) exit[f.at] = f.v;
          const ev = createDecoder(header(arch), { registry: registry() }).decode(record(arch, { nr, path, entry, exit }));
          if (ev.kind !== 'ioctl') return;
          const flag = (summarize(ev).flags & ROW.CHANGED) !== 0;
          expect(flag).toBe(anyChanged(ev.out));
          if (flag) changed++;
          else if (ev.out) same++;
        },
      ),
      { numRuns: 400 },
    );
    // Both outcomes must really be exercised; ~40 of each is typical in 400 runs.
    expect(same).toBeGreaterThanOrEqual(5);
    expect(changed).toBeGreaterThanOrEqual(5);
  });

  /** arch, request nr, fd path, entry bytes, argsz: a random call of any struct ioctl. */
  const randomCall = () =>
    [
      fc.constantFrom('x86_64', 'ppc64'),
      fc.constantFrom(...nrs),
      fc.constantFrom(PATH.container, PATH.group, PATH.device, PATH.iommufd),
      fc.uint8Array({ minLength: 0, maxLength: 120 }),
      fc.integer({ min: 0, max: 130 }),
    ] as const;

  it('shows the same argument text as the entry tree gives, on random payloads of every struct ioctl', () => {
    let structs = 0;
    fc.assert(
      fc.property(
        ...randomCall(),
        (arch, nr, path, entry, argsz) => {
          if (entry.length >= 4) new DataView(entry.buffer).setUint32(0, argsz, arch !== 'ppc64');
          const ev = createDecoder(header(arch), { registry: registry() }).decode(record(arch, { nr, path, entry }));
          if (ev.kind !== 'ioctl') return;
          if (ev instanceof IoctlEvent && ev.payload !== null) structs++;
          const args = summarize(ev).args;
          expect(args).toBe(shortArgs(ev.in, ev.argDisplay));
        },
      ),
      { numRuns: 600 },
    );
    expect(structs).toBeGreaterThan(200);
  });

  it('makes a row\'s argument text when shown exactly as summarizing the event at once did, on random payloads of every struct ioctl', () => {
    let deferred = 0;
    fc.assert(
      fc.property(
        ...randomCall(),
        fc.constantFrom(0, -22, 3),
        (arch, nr, path, entry, argsz, ret) => {
          if (entry.length >= 4) new DataView(entry.buffer).setUint32(0, argsz, arch !== 'ppc64');
          const ev = createDecoder(header(arch), { registry: registry() }).decode(record(arch, { nr, path, entry, ret }));
          if (argsPayload(ev) !== null) deferred++;
          const eager = summarize(ev).args;
          const store = new EventStore(1);
          // A second event pushes the first out of memory: only the store's columns are left to make its text from.
          store.add(ev);
          store.add({ ...ev, seq: ev.seq + 1 } as DecodedEvent);
          expect(store.isKept(0)).toBe(false);
          // The record's bytes may be reused by the reader once the event is stored.
          entry.fill(0xa5);
          expect(store.row(0).args).toBe(eager);
        },
      ),
      { numRuns: 600 },
    );
    expect(deferred).toBeGreaterThan(200);
  });
});
