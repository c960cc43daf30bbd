// How an attach session reads: each thread vfiotrace attached to is named
// when it is attached, each is let go with its [pid N] prefix while several
// are traced, and JSON introduces every thread it later reports detached.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DecodedProcess } from '../../src/decode/types.js';
import { renderJson } from '../../src/render/json.js';
import { Output } from '../../src/render/output.js';
import { PerfettoWriter } from '../../src/render/perfetto.js';
import { buildDetail } from '../../src/tui/state/detail.js';
import { summarize } from '../../src/tui/state/rowSummary.js';
import { TextRenderer } from '../../src/render/text.js';
import { ProcessEventKind } from '../../src/trace/events.js';
import { makeHeader } from '../../src/trace/writer.js';
import { ioctl } from './helpers.js';

function ev(kind: ProcessEventKind, pid: number, tid: number, other = 0, seq = 1): DecodedProcess {
  return {
    kind: 'process', seq, ts: 2000, pid, tid,
    record: { type: 'process', offset: 0, kind, pid, tid, ts: 2000n, value: 0, other, text: kind === ProcessEventKind.Start ? 'loop' : '' },
  };
}

/** What the engine records for `-p 100` on a process with threads 100, 101, 102, detached after one call. */
const session = (): DecodedProcess[] => [
  ev(ProcessEventKind.Start, 100, 100),
  ev(ProcessEventKind.Thread, 100, 101),
  ev(ProcessEventKind.Thread, 100, 102),
];
const detaches = (): DecodedProcess[] => [
  ev(ProcessEventKind.Detached, 100, 101),
  ev(ProcessEventKind.Detached, 100, 102),
  ev(ProcessEventKind.Detached, 100, 100),
];

describe('an attached multi-threaded process', () => {
  it('text: "Process N attached" per thread, [pid N] on the detach lines while several are traced', () => {
    const t = new TextRenderer(makeHeader({ attachedPids: [100] }));
    const out = [...session().map((e) => t.render(e)), t.render(ioctl({ pid: 100, tid: 101 })), ...detaches().map((e) => t.render(e))].join('');
    expect(out).toBe([
      'Process 100 attached',
      'Process 101 attached',
      'Process 102 attached',
      '[pid 101] ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '[pid 101] +++ detached +++',
      '[pid 102] +++ detached +++',
      '+++ detached +++',
      '',
    ].join('\n'));
  });

  it('text: the [pid N] prefix is there even when no call of the threads was shown (-e)', () => {
    const t = new TextRenderer(makeHeader({ attachedPids: [100] }));
    const out = [...session(), ...detaches()].map((e) => t.render(e)).join('');
    expect(out).toMatch(/^\[pid 101\] \+\+\+ detached \+\+\+$/m);
    expect(out).toMatch(/^\[pid 102\] \+\+\+ detached \+\+\+$/m);
  });

  it('text: a spawned command and its threads are not "attached"', () => {
    const t = new TextRenderer(makeHeader({ argv: ['loop'] }));
    const out = [ev(ProcessEventKind.Start, 100, 100, 1), ev(ProcessEventKind.Thread, 100, 101, 100)].map((e) => t.render(e)).join('');
    expect(out).toBe('');
  });

  it('JSON: every thread reported detached was introduced (start for the process, thread with creator 0)', () => {
    const lines = [...session(), ...detaches()].map((e) => JSON.parse(renderJson(e)) as { type: string; tid: number; creator?: number });
    const introduced = new Set(lines.filter((l) => l.type === 'start' || l.type === 'thread').map((l) => l.tid));
    const detached = lines.filter((l) => l.type === 'detached').map((l) => l.tid);
    expect(detached.every((tid) => introduced.has(tid))).toBe(true);
    expect(lines.filter((l) => l.type === 'start')).toHaveLength(1);
    expect(lines.filter((l) => l.type === 'thread').map((l) => l.creator)).toEqual([0, 0]);
  });

  it('TUI and Perfetto call an attached thread attached, not "created by 0"', async () => {
    const attachedThread = session()[1]!;
    expect(summarize(attachedThread).name + summarize(attachedThread).args).toContain('+++ thread attached +++');
    expect(buildDetail(attachedThread).map((l) => l.text)).toContain('already running when attached');
    let doc = '';
    const sink = new Writable({ write(chunk: Buffer, _e, done) { doc += chunk.toString(); done(); } });
    const w = new PerfettoWriter(makeHeader({ attachedPids: [100] }), Output.stream(sink));
    w.begin();
    await w.batch(session());
    await w.finish();
    expect(doc).toContain('"name":"thread attached"');
    expect(doc).not.toContain('created by 0');
  });
});
