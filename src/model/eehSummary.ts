// The EEH timeline in words, one line per freeze episode, for `show -c`,
// `audit` and the TUI's EEH view. Times are seconds since the recording
// started, and durations, both exact to the microsecond.

import type { PeEpisode, PeMark, PeTimeline } from './eehTimeline.js';

/** Seconds since the recording started, with microseconds: "12.345678 s". */
export function atSeconds(ns: number): string {
  const us = Math.floor(ns / 1000);
  const sec = Math.floor(us / 1e6);
  return `${sec}.${String(us - sec * 1e6).padStart(6, '0')} s`;
}

/** A duration: "850 ns", "12.345 us", "1.200 ms", "2.500000 s". */
export function duration(ns: number): string {
  if (ns < 1000) return `${ns} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(3)} us`;
  if (ns < 1e9) return `${(Math.floor(ns / 1e3) / 1e3).toFixed(3)} ms`;
  return `${(Math.floor(ns / 1e3) / 1e6).toFixed(6)} s`;
}

export function peLabel(pe: PeTimeline): string {
  return `PE of container ${pe.fd}<${pe.path}> [pid ${pe.pid}]`;
}

/** "RESET_HOT, RESET_DEACTIVATE, CONFIGURE" with repeats in a row as "GET_STATE x3". */
export function opList(marks: readonly PeMark[], total = marks.length): string {
  const out: string[] = [];
  for (let i = 0; i < marks.length; ) {
    let j = i + 1;
    while (j < marks.length && marks[j]!.op === marks[i]!.op) j++;
    out.push(j - i > 1 ? `${marks[i]!.op} x${j - i}` : marks[i]!.op);
    i = j;
  }
  if (total > marks.length) out.push(`... ${total - marks.length} more`);
  return out.join(', ');
}

function frozenPart(ep: PeEpisode): string {
  const f = ep.frozen;
  if (f.by === 'INJECT_ERR') return `frozen at ${atSeconds(f.ts)} by INJECT_ERR (#${f.seq})`;
  const before = ep.lastNormal ? `; last seen NORMAL at ${atSeconds(ep.lastNormal.ts)}, ${duration(f.ts - ep.lastNormal.ts)} before` : '';
  return `found frozen at ${atSeconds(f.ts)} (freeze time unknown${before})`;
}

function detectedPart(ep: PeEpisode): string {
  const d = ep.detected;
  if (!d) return 'never seen frozen by GET_STATE';
  if (ep.frozen.by === 'GET_STATE') return `detected by GET_STATE = ${d.state} (#${d.seq})`;
  return `detected ${duration(d.ts - ep.frozen.ts)} later by GET_STATE = ${d.state} (#${d.seq})`;
}

function endPart(ep: PeEpisode, pid: number): string {
  const e = ep.end;
  const by = ep.ops.length > 0 ? ` by ${opList(ep.ops, ep.opsTotal)}` : ' with no op';
  if (!e) return `still ${ep.lastState}`;
  const from = ep.detected ?? ep.frozen;
  switch (e.kind) {
    case 'recovered':
      return `recovered in ${duration(e.ts - from.ts)}${ep.detected ? '' : ' from the freeze'} (GET_STATE = NORMAL at ${atSeconds(e.ts)}, #${e.seq})${by}` +
        (ep.frozen.by === 'INJECT_ERR' ? `; frozen ${duration(e.ts - ep.frozen.ts)} in all` : '');
    case 'disabled':
      return `NOT recovered: EEH disabled at ${atSeconds(e.ts)} (#${e.seq}) after${by}`;
    case 'process-exit':
      return `NOT recovered: still ${ep.lastState} when pid ${pid} ended at ${atSeconds(e.ts)}${ep.ops.length > 0 ? `, after${by}` : ', no recovery op'}`;
    case 'recording-end':
      return `NOT recovered: still ${ep.lastState} when the recording ends (${atSeconds(e.ts)})${ep.ops.length > 0 ? `, after${by}` : ', no recovery op'}`;
  }
}

export function episodeLine(pe: PeTimeline, ep: PeEpisode): string {
  let s = `${peLabel(pe)}: ${frozenPart(ep)}, ${detectedPart(ep)}, ${endPart(ep, pe.pid)}`;
  if (ep.failedTotal > 0) {
    const f = ep.failed.map((m) => `${m.op} ${m.errno ?? 'failed'} (#${m.seq})`).join(', ');
    s += `; ${ep.failedTotal} failed op${ep.failedTotal === 1 ? '' : 's'}: ${f}${ep.failedTotal > ep.failed.length ? ', ...' : ''}`;
  }
  return s;
}

/**
 * One line per episode; a PE with EEH ops and no episode gets one line
 * saying so, unless `freezesOnly`.
 */
export function eehSummaryLines(pes: readonly PeTimeline[], freezesOnly = false): string[] {
  const out: string[] = [];
  for (const pe of pes) {
    if (pe.episodesDropped > 0) out.push(`${peLabel(pe)}: ${pe.episodesDropped} earlier episode(s) not kept`);
    if (pe.episodes.length === 0 && !freezesOnly) {
      const last = pe.segments[pe.segments.length - 1];
      out.push(`${peLabel(pe)}: no freeze in ${pe.opCount} EEH op${pe.opCount === 1 ? '' : 's'}${last ? `, last state ${last.state}` : ''}`);
    }
    for (const ep of pe.episodes) out.push(episodeLine(pe, ep));
  }
  return out;
}
