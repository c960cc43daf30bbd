// The EEH view's content without a terminal: band columns follow the PE
// state in time, marks sit at their ops' columns, the summary and the
// listed ops follow.

import { describe, expect, it } from 'vitest';
import { eehTracker, type PeTimeline } from '../../src/model/eehTimeline.js';
import { SessionModel } from '../../src/model/session.js';
import { band, eehViewLines, LEGEND, marksRow } from '../../src/tui/state/eehTimeline.js';
import { eeh, spaprSetup } from '../audit/scenarios.js';

const MS = 1_000_000;
const ENABLE = 1, GET_STATE = 4, DEACTIVATE = 5, RESET_HOT = 6, CONFIGURE = 8, INJECT = 9;

/** ENABLE at 0, INJECT_ERR at 40 ms, GET_STATE = STOPPED at 50, RESET_HOT at 60 (and a refused one), DEACTIVATE at 70, CONFIGURE, NORMAL at 99. */
function session(): PeTimeline {
  const s = spaprSetup();
  const at: Array<[number, () => void]> = [
    [0, () => eeh(s, ENABLE)],
    [40, () => eeh(s, INJECT)],
    [50, () => eeh(s, GET_STATE, 2)],
    [55, () => eeh(s, RESET_HOT, -22)],
    [60, () => eeh(s, RESET_HOT)],
    [70, () => eeh(s, DEACTIVATE)],
    [80, () => eeh(s, CONFIGURE)],
    [99, () => eeh(s, GET_STATE, 0)],
  ];
  const t = eehTracker(new SessionModel());
  for (const ev of s.events) t.feed(ev);
  for (const [ms, call] of at) {
    const n = s.events.length;
    call();
    const ev = s.events[n]!;
    if (ev.kind === 'ioctl') ev.ts = ms * MS;
    t.feed(ev);
  }
  t.timeline.finish();
  return t.timeline.timelines()[0]!;
}

describe('EEH view state', () => {
  it('the band: NORMAL, STOPPED from the injection to the reset, RESET, NORMAL after deactivation', () => {
    const pe = session();
    // 100 columns over 0..99 ms: one column per ms.
    const b = band(pe, 100);
    expect(b).toHaveLength(100);
    expect(b.slice(0, 40)).toBe('='.repeat(40));
    expect(b.slice(40, 61)).toBe('X'.repeat(21)); // column 60 is shared with RESET: the worse state shows
    expect(b.slice(61, 70)).toBe('R'.repeat(9));
    expect(b[70]).toBe('R');
    expect(b.slice(71)).toBe('='.repeat(29));
  });

  it('marks at their columns; a refused op shows as !', () => {
    const m = marksRow(session(), 100);
    expect(m[0]).toBe('e');
    expect(m[40]).toBe('I');
    expect(m[50]).toBe('g');
    expect(m[55]).toBe('!');
    expect(m[60]).toBe('H');
    expect(m[70]).toBe('D');
    expect(m[80]).toBe('C');
    expect(m[99]).toBe('g');
    expect(m.replace(/ /g, '')).toBe('eIg!HDCg');
  });

  it('the whole view: legend, PE header, band, marks, axis, episode summary and the ops with results', () => {
    const lines = eehViewLines([session()], 106);
    expect(lines.slice(0, LEGEND.length)).toEqual(LEGEND);
    const text = lines.join('\n');
    expect(text).toContain('PE of container 3</dev/vfio/vfio> [pid 100]: 8 EEH ops');
    expect(lines.find((l) => l.startsWith('state '))).toHaveLength(106);
    expect(lines.find((l) => l.startsWith('ops   '))?.trim()).toMatch(/^ops +e +I/);
    expect(text).toContain('0.000000 s');
    expect(text).toContain('0.099000 s');
    const joined = text.replace(/\n {4}/g, ' ');
    expect(joined).toMatch(/frozen at 0\.040000 s by INJECT_ERR \(#\d+\), detected 10\.000 ms later by GET_STATE = STOPPED/);
    expect(joined).toMatch(/recovered in 49\.000 ms/);
    expect(text).toMatch(/#\d+ {2}0\.055000 s {2}RESET_HOT {9}refused EINVAL/);
    expect(text).toMatch(/#\d+ {2}0\.099000 s {2}GET_STATE {9}= NORMAL/);
    // Lines fit the width (the summary wraps).
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(106);
  });

  it('says so when no EEH op was seen', () => {
    expect(eehViewLines([], 80)).toEqual(['No EEH op seen (VFIO_EEH_PE_OP on a container) yet.']);
  });
});
