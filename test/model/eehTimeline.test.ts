// The EEH timeline: PE state band, marks and freeze episodes, from the
// session model's EEH op records, on hand-built sessions and on the golden
// sPAPR + EEH recording.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DecodedEvent } from '../../src/decode/types.js';
import { atSeconds, duration, eehSummaryLines } from '../../src/model/eehSummary.js';
import { EehTimeline, eehTracker, type PeTimeline } from '../../src/model/eehTimeline.js';
import { SessionModel } from '../../src/model/session.js';
import { drain, openRecordingPipeline } from '../../src/session/pipeline.js';
import { eeh, spaprEehRecovery, spaprSetup } from '../audit/scenarios.js';
import type { Sim } from './sim.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MS = 1_000_000;

// EEH op numbers (decoders/eeh.ts)
const DISABLE = 0, ENABLE = 1, UNFREEZE_IO = 2, GET_STATE = 4, DEACTIVATE = 5, RESET_HOT = 6, CONFIGURE = 8, INJECT = 9;
const NORMAL = 0, RESET = 1, STOPPED = 2;

/** Gives the events of `s` from index `from` on times `step` ns apart, starting at `t0`. */
function clock(s: Sim, t0: number, step: number, from = 0): void {
  s.events.slice(from).forEach((ev, i) => {
    if (ev.kind !== 'end') ev.ts = t0 + i * step;
  });
}

function run(events: readonly DecodedEvent[], end = true): PeTimeline[] {
  const t = eehTracker(new SessionModel());
  for (const ev of events) t.feed(ev);
  if (end) t.timeline.finish();
  return t.timeline.timelines();
}

describe('EEH timeline', () => {
  it('an injected freeze: frozen at INJECT_ERR, detected by GET_STATE, recovered by reset and configure', () => {
    const s = spaprSetup();
    const base = s.events.length;
    eeh(s, ENABLE);
    eeh(s, GET_STATE, NORMAL);
    eeh(s, INJECT); // t = 2 ms
    eeh(s, GET_STATE, STOPPED); // 3 ms
    eeh(s, RESET_HOT, -22); // refused
    eeh(s, RESET_HOT);
    eeh(s, DEACTIVATE);
    eeh(s, CONFIGURE);
    eeh(s, GET_STATE, NORMAL); // 8 ms
    s.exit();
    clock(s, 0, MS, base);
    const [pe, more] = run(s.events);
    expect(more).toBeUndefined();
    expect(pe!.fd).toBe(3);
    expect(pe!.path).toBe('/dev/vfio/vfio');
    expect(pe!.opCount).toBe(9);
    expect(pe!.segments.map((g) => [g.state, g.from / MS, g.observed])).toEqual([
      ['NORMAL', 0, false],
      ['STOPPED', 2, false],
      ['RESET', 5, false],
      ['NORMAL', 6, false],
    ]);
    expect(pe!.episodes).toHaveLength(1);
    const ep = pe!.episodes[0]!;
    expect(ep.frozen).toMatchObject({ by: 'INJECT_ERR', ts: 2 * MS });
    expect(ep.detected).toMatchObject({ ts: 3 * MS, state: 'STOPPED' });
    expect(ep.end).toMatchObject({ kind: 'recovered', ts: 8 * MS });
    expect(ep.ops.map((m) => m.op)).toEqual(['RESET_HOT', 'RESET_DEACTIVATE', 'CONFIGURE']);
    expect(ep.failed.map((m) => `${m.op} ${m.errno}`)).toEqual(['RESET_HOT EINVAL']);
    const [line] = eehSummaryLines([pe!]);
    expect(line).toBe(
      `PE of container 3</dev/vfio/vfio> [pid 100]: frozen at 0.002000 s by INJECT_ERR (#${ep.frozen.seq}), ` +
        `detected 1.000 ms later by GET_STATE = STOPPED (#${ep.detected!.seq}), ` +
        `recovered in 5.000 ms (GET_STATE = NORMAL at 0.008000 s, #${ep.end!.seq}) by RESET_HOT, RESET_DEACTIVATE, CONFIGURE; ` +
        `frozen 6.000 ms in all; 1 failed op: RESET_HOT EINVAL (#${ep.failed[0]!.seq})`,
    );
  });

  it('a freeze first seen by GET_STATE: time unknown, bounded by the last NORMAL answer; RESET during the reset is no new freeze', () => {
    const s = spaprEehRecovery(spaprSetup());
    clock(s, 1_000_000_000, 250_000);
    const [pe] = run(s.events);
    expect(pe!.episodes).toHaveLength(1);
    const ep = pe!.episodes[0]!;
    expect(ep.frozen.by).toBe('GET_STATE');
    expect(ep.lastNormal).not.toBeNull();
    expect(ep.frozen.ts - ep.lastNormal!.ts).toBe(250_000);
    expect(ep.end?.kind).toBe('recovered');
    expect(ep.ops.map((m) => m.op)).toEqual(['RESET_HOT', 'RESET_DEACTIVATE', 'CONFIGURE']);
    // The band: NORMAL (ENABLE), STOPPED seen, RESET (op), RESET seen, NORMAL (deactivate).
    expect(pe!.segments.map((g) => `${g.state}${g.observed ? '' : '?'}`)).toEqual(['NORMAL?', 'STOPPED', 'RESET?', 'NORMAL?']);
    expect(eehSummaryLines([pe!])[0]).toContain('found frozen at 1.');
    expect(eehSummaryLines([pe!])[0]).toContain('last seen NORMAL at');
    expect(eehSummaryLines([pe!])[0]).toContain('250.000 us before');
  });

  it('never recovered: DISABLE, process end and recording end each close the episode as a permanent failure', () => {
    for (const [tail, kind, words] of [
      [(s: Sim) => { eeh(s, UNFREEZE_IO); eeh(s, DISABLE); }, 'disabled', 'NOT recovered: EEH disabled at'],
      [(s: Sim) => { eeh(s, UNFREEZE_IO); s.exit(); }, 'process-exit', 'NOT recovered: still STOPPED_DMA when pid 100 ended'],
      [(_s: Sim) => {}, 'recording-end', 'NOT recovered: still STOPPED when the recording ends'],
    ] as const) {
      const s = spaprSetup();
      eeh(s, ENABLE);
      eeh(s, GET_STATE, STOPPED);
      tail(s);
      clock(s, 0, MS);
      const [pe] = run(s.events);
      expect(pe!.episodes[0]!.end?.kind).toBe(kind);
      expect(eehSummaryLines([pe!])[0]).toContain(words);
    }
  });

  it('a poll that repeats the last answer adds no mark; a PE without freeze gets one line', () => {
    const s = spaprSetup();
    eeh(s, ENABLE);
    for (let i = 0; i < 100; i++) eeh(s, GET_STATE, NORMAL);
    clock(s, 0, MS);
    const [pe] = run(s.events);
    expect(pe!.opCount).toBe(101);
    // ENABLE and the first answer; the 99 polls that repeat it add nothing.
    expect(pe!.marks.map((m) => m.op)).toEqual(['ENABLE', 'GET_STATE']);
    expect(pe!.segments).toHaveLength(1);
    expect(eehSummaryLines([pe!])).toEqual(['PE of container 3</dev/vfio/vfio> [pid 100]: no freeze in 101 EEH ops, last state NORMAL']);
  });

  it('reports each change of the band to onSegment as it happens', () => {
    const s = spaprSetup();
    eeh(s, ENABLE);
    eeh(s, INJECT);
    eeh(s, RESET_HOT);
    eeh(s, GET_STATE, RESET);
    eeh(s, DEACTIVATE);
    const model = new SessionModel();
    const t = new EehTimeline(model);
    const seen: string[] = [];
    t.onSegment = (_pe, seg, prev) => seen.push(`${prev?.state ?? '-'}>${seg.state}`);
    for (const ev of s.events) {
      model.apply(ev);
      t.observe(ev);
    }
    expect(seen).toEqual(['->NORMAL', 'NORMAL>STOPPED', 'STOPPED>RESET', 'RESET>NORMAL']);
  });

  it('the golden sPAPR + EEH recording tells its story with the recorded times', async () => {
    const p = await openRecordingPipeline(path.join(HERE, '../golden/spapr-eeh.x86_64.vft'), { onDecodeError: (_r, e) => { throw e; } });
    const t = eehTracker(new SessionModel());
    const events: DecodedEvent[] = [];
    await drain(p, (b) => {
      for (const ev of b) {
        events.push(ev);
        t.feed(ev);
      }
    });
    t.timeline.finish();
    const [pe] = t.timeline.timelines();
    const ep = pe!.episodes[0]!;
    const at = (seq: number) => events.find((e) => e.seq === seq)!;
    const inject = at(ep.frozen.seq);
    const detect = at(ep.detected!.seq);
    const recovered = at(ep.end!.seq);
    if (inject.kind !== 'ioctl' || detect.kind !== 'ioctl' || recovered.kind !== 'ioctl') throw new Error('episode instants must be calls');
    expect(inject.in?.children?.find((f) => f.name === 'op')?.display).toBe('VFIO_EEH_PE_INJECT_ERR');
    expect(ep.frozen.ts).toBe(inject.ts);
    const line = eehSummaryLines([pe!])[0]!;
    expect(line).toMatch(/^PE of container 3<\/dev\/vfio\/vfio> \[pid \d+\]: frozen at \d+\.\d{6} s by INJECT_ERR/);
    expect(line).toContain(`frozen at ${atSeconds(inject.ts)}`);
    expect(line).toContain(`detected ${duration(detect.ts - inject.ts)} later by GET_STATE = STOPPED`);
    expect(line).toContain(`recovered in ${duration(recovered.ts - detect.ts)} (GET_STATE = NORMAL at ${atSeconds(recovered.ts)}`);
    expect(ep.detected!.state).toBe('STOPPED');
    expect(ep.end?.kind).toBe('recovered');
    expect(ep.ops.map((m) => m.op)).toEqual(['RESET_HOT', 'RESET_DEACTIVATE', 'CONFIGURE']);
    expect(ep.failed.map((m) => m.errno)).toEqual(['EINVAL']);
  });
});
