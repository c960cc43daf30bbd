// The EEH view's content as plain lines (no blessed): per PE, the state band
// over time (one character per time slice), the ops as marks under it, a
// time axis, the episode summaries, and the marks listed with their results.

import { atSeconds, eehSummaryLines, peLabel } from '../../model/eehSummary.js';
import type { PeBandState, PeMark, PeTimeline } from '../../model/eehTimeline.js';

/** Band character per state; a slice that saw several states shows the worst (BAND_RANK). */
export const BAND_CHAR: Readonly<Record<PeBandState, string>> = {
  NORMAL: '=',
  STOPPED: 'X',
  STOPPED_DMA: 'x',
  RESET: 'R',
  UNAVAIL: 'U',
  DISABLED: '-',
  UNKNOWN: '?',
};
const BAND_RANK: Readonly<Record<PeBandState, number>> = { NORMAL: 0, DISABLED: 1, UNKNOWN: 2, RESET: 3, STOPPED_DMA: 4, UNAVAIL: 5, STOPPED: 6 };

/** Mark character per op; a refused op is '!' whatever it was. */
export const MARK_CHAR: Readonly<Record<string, string>> = {
  DISABLE: 'd', ENABLE: 'e', UNFREEZE_IO: 'u', UNFREEZE_DMA: 'v', GET_STATE: 'g', RESET_DEACTIVATE: 'D',
  RESET_HOT: 'H', RESET_FUNDAMENTAL: 'F', CONFIGURE: 'C', INJECT_ERR: 'I',
};
/** Which mark wins a column several ops fall in. */
const MARK_RANK: Readonly<Record<string, number>> = { '!': 9, I: 8, H: 7, F: 7, D: 6, C: 5, u: 4, v: 4, e: 3, d: 3, g: 2 };

export const LEGEND = [
  'band: = NORMAL  X STOPPED  x STOPPED_DMA  R RESET  U UNAVAIL  - DISABLED  ? UNKNOWN',
  'marks: I INJECT_ERR  g GET_STATE (answer changed)  H RESET_HOT  F RESET_FUNDAMENTAL  D RESET_DEACTIVATE',
  '       C CONFIGURE  u UNFREEZE_IO  v UNFREEZE_DMA  e ENABLE  d DISABLE  ! refused',
];

const MARKS_LISTED = 64;
const LABEL = 'state ';

export function markChar(m: PeMark): string {
  return m.ok ? (MARK_CHAR[m.op] ?? '*') : '!';
}

/** The time range a PE's band covers: its first op to its last op or episode end. */
export function span(pe: PeTimeline): { t0: number; t1: number } {
  let t1 = pe.lastTs;
  for (const ep of pe.episodes) if (ep.end && ep.end.ts > t1) t1 = ep.end.ts;
  return { t0: pe.firstTs, t1: Math.max(t1, pe.firstTs + 1) };
}

/** Column of instant `ts` in a band of `width` columns over [t0, t1]. */
function column(ts: number, t0: number, t1: number, width: number): number {
  return Math.min(width - 1, Math.max(0, Math.floor(((ts - t0) * width) / (t1 - t0 + 1))));
}

/** The state band: for each column, the worst state the PE was in during that slice ('' before any). */
export function band(pe: PeTimeline, width: number): string {
  const { t0, t1 } = span(pe);
  const cells: (PeBandState | null)[] = new Array<PeBandState | null>(width).fill(null);
  const segs = pe.segments;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const from = column(s.from, t0, t1, width);
    const next = segs[i + 1];
    const to = next ? column(next.from, t0, t1, width) : width - 1;
    for (let c = from; c <= to; c++) {
      const cur = cells[c];
      // The next segment's first column belongs to both: the worse one shows.
      if (cur === null || cur === undefined || BAND_RANK[s.state] > BAND_RANK[cur]) cells[c] = s.state;
    }
  }
  return cells.map((s) => (s === null ? ' ' : BAND_CHAR[s])).join('');
}

/** The marks row: each kept mark at its column, the most telling one when several share it. */
export function marksRow(pe: PeTimeline, width: number): string {
  const { t0, t1 } = span(pe);
  const row = new Array<string>(width).fill(' ');
  for (const m of pe.marks) {
    const c = column(m.ts, t0, t1, width);
    const ch = markChar(m);
    if ((MARK_RANK[ch] ?? 1) > (MARK_RANK[row[c]!] ?? 0)) row[c] = ch;
  }
  return row.join('');
}

function markLine(m: PeMark): string {
  const result = m.ok ? (m.state !== undefined ? `= ${m.state}` : 'ok') : `refused ${m.errno ?? ''}`.trimEnd();
  return `    #${m.seq}  ${atSeconds(m.ts)}  ${m.op.padEnd(17)} ${result}`;
}

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent + word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}

/** The whole view for a screen `width` columns wide. */
export function eehViewLines(pes: readonly PeTimeline[], width: number): string[] {
  if (pes.length === 0) return ['No EEH op seen (VFIO_EEH_PE_OP on a container) yet.'];
  const w = Math.max(10, width - LABEL.length);
  const out: string[] = [...LEGEND, ''];
  for (const pe of pes) {
    const { t0, t1 } = span(pe);
    out.push(`${peLabel(pe)}: ${pe.opCount} EEH op${pe.opCount === 1 ? '' : 's'}`);
    out.push(LABEL + band(pe, w));
    out.push('ops'.padEnd(LABEL.length) + marksRow(pe, w));
    const left = atSeconds(t0);
    const right = atSeconds(t1);
    out.push(' '.repeat(LABEL.length) + left + right.padStart(Math.max(right.length + 1, w - left.length)));
    for (const l of eehSummaryLines([pe])) out.push(...wrap(`  ${l.slice(peLabel(pe).length + 2)}`, width, '    '));
    const marks = pe.marks.toArray();
    const shown = marks.slice(-MARKS_LISTED);
    out.push(`  ops that changed the picture${shown.length < marks.length || pe.marks.length < pe.opCount ? ' (latest; polls that repeat the state left out)' : ''}:`);
    for (const m of shown) out.push(markLine(m));
    out.push('');
  }
  return out;
}
