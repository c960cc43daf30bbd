import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tuiDeps } from '../../src/commands/tui.js';
import type { DecodedEvent, DecodedIoctl } from '../../src/decode/types.js';
import { parseFilter } from '../../src/render/filter.js';
import type { LateFinding } from '../../src/tui/source.js';
import { FileSource } from '../../src/tui/sources.js';
import { EventStore } from '../../src/tui/state/eventStore.js';
import { encodeHeader, encodeRecord, makeHeader } from '../../src/trace/writer.js';
import { recordingFileProblem } from '../../src/trace/reader.js';
import { eehSession, writeEehRecording, writeWrappedRecording } from './recording.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-tui-src-'));
const rec = path.join(dir, 'eeh.vft');
writeEehRecording(rec);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(show: Parameters<typeof tuiDeps>[0] = null, file = rec) {
  const src = new FileSource(tuiDeps(show), file, (p) => createReadStream(p, { highWaterMark: 256 }));
  const events: DecodedEvent[] = [];
  const late: LateFinding[] = [];
  const notes: string[] = [];
  let error: Error | null = null;
  await src.run({ event: (e) => events.push(e), late: (f) => late.push(f), note: (t) => notes.push(t) }).catch((e: Error) => (error = e));
  return { src, events, late, notes, error: error as Error | null };
}

describe('FileSource', () => {
  it('delivers every event of a recording, decoded, and the VFIO state it leads to', async () => {
    const { src, events, error } = await load();
    expect(error).toBeNull();
    expect(events.filter((e) => e.kind === 'ioctl')).toHaveLength(11);
    expect(src.title).toContain('qemu-system-ppc64');
    const state = src.stateLines().join('\n');
    expect(state).toMatch(/container fd 3: VFIO_SPAPR_TCE_v2_IOMMU/);
    expect(state).toMatch(/EEH PE state: NORMAL/);
    expect(state).toMatch(/GET_STATE -> STOPPED/);
  });

  it('reports how much of the recording it has read, up to all of it', async () => {
    const src = new FileSource(tuiDeps(null), rec, (p) => createReadStream(p, { highWaterMark: 256 }));
    expect(src.progress()).toBeNull();
    const seen: number[] = [];
    await src.run({ event: () => seen.push(src.progress()?.read ?? -1), late: () => {}, note: () => {} });
    const size = statSync(rec).size;
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[0]).toBeLessThan(size);
    expect(src.progress()).toEqual({ read: size, total: size });
  });

  it('re-reads an event from disk by its offset, with its original sequence number', async () => {
    const { src, events } = await load();
    const ev = events.find((e): e is DecodedIoctl => e.kind === 'ioctl' && e.ret.value === 2);
    expect(ev).toBeDefined();
    if (!ev) return;
    const again = src.reload(0, ev.seq, ev.record.offset, 'container');
    expect(again?.seq).toBe(ev.seq);
    expect(again?.kind === 'ioctl' && again.ioctl).toBe('VFIO_EEH_PE_OP');
    expect(again?.kind === 'ioctl' && again.in?.children?.find((c) => c.name === 'op')?.display).toBe('VFIO_EEH_PE_GET_STATE');
    // A nonsense offset gives nothing, not an exception.
    expect(src.reload(0, 1, 3, 'other')).toBeNull();
    expect(src.reload(0, 1, 1 << 30, 'other')).toBeNull();
  });

  it('feeds the store loader so old events still have details', async () => {
    const { src, events } = await load();
    const store = new EventStore(2);
    store.loader = src.reload;
    for (const e of events) store.add(e);
    const first = store.event(1);
    expect(first?.kind === 'ioctl' && first.ioctl).toBe('VFIO_GET_API_VERSION');
  });

  it('writes a copy of the recording, never over an existing file or itself', async () => {
    const { src } = await load();
    const out = path.join(dir, 'copy.vft');
    await expect(src.write(out)).resolves.toMatch(/^wrote /);
    expect(readFileSync(out)).toEqual(readFileSync(rec));
    await expect(src.write(out)).rejects.toThrow(/already exists/);
    await expect(src.write(rec)).rejects.toThrow(/file being read/);
  });

  it('applies -e but still audits the hidden events', async () => {
    const { events, src } = await load(parseFilter(['!eeh']));
    expect(events.some((e) => e.kind === 'ioctl' && e.family === 'eeh')).toBe(false);
    expect(src.stateLines().join('\n')).toMatch(/EEH PE state: NORMAL/);
  });

  it('keeps the events before a corrupt record and rejects with the reason', async () => {
    const good = await load();
    const last = good.events.filter((e) => e.kind === 'ioctl').at(-1);
    const bad = path.join(dir, 'bad.vft');
    const bytes = readFileSync(rec);
    bytes.writeUInt32LE(13, (last?.record.offset ?? 0) + 4); // a record length that is not a multiple of 8
    writeFileSync(bad, bytes);
    const { events, error } = await load(null, bad);
    expect(events.filter((e) => e.kind === 'ioctl')).toHaveLength(10);
    expect(error?.message).toMatch(/\d/);
  });
});

describe("FileSource of a command inside vfiotrace's own wrapper", () => {
  it("marks the wrapper's events and keeps its processes out of the pids, the VFIO state and the title", async () => {
    const file = path.join(dir, 'wrapped.vft');
    const { own } = writeWrappedRecording(file);
    const src = new FileSource(tuiDeps(null), file, (p) => createReadStream(p, { highWaterMark: 256 }));
    const events: { ev: DecodedEvent; own: boolean }[] = [];
    await src.run({ event: (ev, o) => events.push({ ev, own: o === true }), late: () => {}, note: () => {} });
    expect(own).toBeGreaterThan(40);
    expect(events.filter((e) => e.own)).toHaveLength(own);
    // Everything after the wrapper is the command's: its exec first.
    const first = events.find((e) => !e.own)?.ev;
    expect(first?.kind === 'process' && first.record.text).toBe('/usr/bin/qemu-system-ppc64');
    expect(events.filter((e) => !e.own && e.ev.kind === 'ioctl')).toHaveLength(11);
    expect(src.pids()).toEqual([4242]);
    expect(src.title).toContain('(qemu-system-ppc64 -M pseries)');
    expect(src.title).not.toMatch(/unshare|vfiotrace-sandbox|mount/);
    const state = src.stateLines();
    expect(state.filter((l) => l.startsWith('pid '))).toEqual(['pid 4242 (exited): no fds']);
    expect(state.join('\n')).toMatch(/EEH PE state: NORMAL/);
  });
});

describe('a recording without its END record', () => {
  it('loads every event, then notes that the recording is incomplete, at which byte', async () => {
    const bytes = readFileSync(rec);
    const good = await load();
    const end = good.events.find((e) => e.kind === 'end');
    const noEnd = path.join(dir, 'noend.vft');
    writeFileSync(noEnd, bytes.subarray(0, end?.record.offset ?? 0));
    const { events, notes, error } = await load(null, noEnd);
    expect(error).toBeNull();
    expect(events.length).toBe(good.events.length - 1);
    expect(notes.at(-1)).toBe(`incomplete recording: it ends at byte ${end?.record.offset} without an END record (the tracer was stopped or the file was cut short)`);
  });

  it('the file checks name a directory, an empty file and a missing one in one line', () => {
    const empty = path.join(dir, 'empty.vft');
    writeFileSync(empty, '');
    expect(recordingFileProblem(dir)).toBe('is a directory');
    expect(recordingFileProblem(empty)).toBe('empty: not a vfiotrace recording');
    expect(recordingFileProblem(path.join(dir, 'nope.vft'))).toBe('no such file');
    expect(recordingFileProblem(rec)).toBeNull();
  });
});

describe('FileSource of an attached session', () => {
  // The session without its VFIO_CHECK_EXTENSION(VFIO_EEH): a spawned client
  // that never asked is a finding; an attached one may have asked before we came.
  function writeWithout(file: string, attachedPids: number[]): void {
    const recs = eehSession().filter((r) => !(r.type === 'ioctl' && r.arg === 5n && (Number(r.request) & 0xff) === 0x65));
    const header = makeHeader({ arch: 'ppc64le', argv: attachedPids.length ? [] : ['qemu-system-ppc64'], attachedPids });
    const parts = [encodeHeader(header), ...recs.map((r) => encodeRecord(r, 'le'))];
    writeFileSync(file, Buffer.concat(parts));
  }
  const rules = async (file: string) => (await load(null, file)).late.map((f) => f.finding.rule);

  it('does not judge "never issued" rules for processes it attached to', async () => {
    const spawned = path.join(dir, 'spawned.vft');
    const attached = path.join(dir, 'attached.vft');
    writeWithout(spawned, []);
    writeWithout(attached, [4242]);
    expect(await rules(spawned)).toContain('eeh-without-check-extension');
    expect(await rules(attached)).not.toContain('eeh-without-check-extension');
  });
});
