// Turn view-state data into blessed tagged strings. Pure functions (no
// widgets), so the exact text of a row is testable. Only rows on screen are
// ever passed through here.

import { escapeControls } from '../render/escape.js';
import type { DetailLine, HexLine } from './state/detail.js';
import { ROW, type EventStore } from './state/eventStore.js';

/**
 * Make text safe inside blessed tag markup and on a terminal: braces become
 * tag escapes, and what the text output escapes (control characters, line
 * separators, bidi overrides: a traced program chooses its strings) is shown
 * escaped the same way instead of being sent.
 */
export function esc(s: string): string {
  return escapeControls(s).replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/**
 * Cut to `w` columns (the last one becomes `~`) and pad, measured after
 * escaping so an escape never pushes the text past the width. The UI's own
 * text is ASCII: terminals disagree on the width of arrows and ellipses.
 */
export function fit(text: string, w: number): string {
  if (w <= 0) return '';
  const s = escapeControls(text);
  if (s.length > w) return `${s.slice(0, Math.max(0, w - 1))}~`;
  return s.padEnd(w);
}

export function fmtTime(ns: number, decimals = 6): string {
  if (ns < 0) return '';
  return (ns / 1e9).toFixed(decimals);
}

export interface ListCols {
  time: number;
  /** Decimals of the time column (milliseconds on narrow screens). */
  decimals: number;
  tid: number;
  fd: number;
  name: number;
}

/**
 * Column widths. The arguments take what is left, so on narrow screens the
 * other columns shrink first (an 80-column terminal keeps ~35 columns for
 * arguments and return); the ioctl column grows on wide screens (the
 * longest names are ~34).
 */
export function listCols(width: number): ListCols {
  if (width < 100) return { time: 8, decimals: 3, tid: 6, fd: 8, name: 15 };
  if (width < 120) return { time: 11, decimals: 6, tid: 7, fd: 12, name: 22 };
  return { time: 11, decimals: 6, tid: 7, fd: 15, name: width >= 160 ? 34 : 28 };
}

export function listHeader(width: number): string {
  const c = listCols(width);
  const s = `${'time'.padStart(c.time)} ${'tid'.padStart(c.tid)} ${fit('fd<kind>', c.fd)} ${fit('ioctl', c.name)} args = return`;
  return `{bold}${esc(fit(s, width))}{/bold}`;
}

/** "-1 EINVAL" of "-1 EINVAL (meaning)": the return without its explanation. */
function bareReturn(retText: string): string {
  const k = retText.indexOf(' (');
  return k < 0 ? retText : retText.slice(0, k);
}

/**
 * Arguments and return in `room` columns. The arguments come first: the
 * return's explanation is cut, then dropped, before the arguments are.
 */
function argsAndTail(args: string, retText: string, mark: string, room: number): string {
  const full = ` = ${retText}${mark}`;
  if (args.length + full.length <= room) return args + full;
  const bare = ` = ${bareReturn(retText)}${mark}`;
  if (args.length + bare.length <= room) return args + fit(full, room - args.length).trimEnd();
  const left = room - bare.length;
  if (left <= 3) return fit(full, room).trimEnd();
  return `${args.slice(0, left - 1)}~${bare}`;
}

/** Plain text of one list row, `width` columns. */
export function rowText(store: EventStore, i: number, width: number): string {
  const c = listCols(width);
  const r = store.row(i);
  const time = fmtTime(r.ts, c.decimals).padStart(c.time);
  const tid = String(r.tid || '').padStart(c.tid);
  if (r.flags & (ROW.PROCESS | ROW.END)) return fit(`${time} ${tid} ${r.name}`, width);
  const fd = fit(`${r.fd}<${r.fdKind}>`, c.fd);
  const name = fit(r.name, c.name);
  const fixed = `${time} ${tid} ${fd} ${name} `;
  const mark = r.findings > 0 ? ` [${r.findings}!]` : '';
  return fit(fixed + argsAndTail(escapeControls(r.args), r.retText, mark, width - fixed.length), width);
}

/** Tagged list row: colour by outcome, inverse when selected. */
export function rowTagged(store: EventStore, i: number, width: number, selected: boolean, focused: boolean): string {
  const f = store.flags(i);
  const text = esc(rowText(store, i, width));
  let colour = '';
  if (f & ROW.ERROR) colour = 'red-fg';
  else if (f & ROW.FINDING) colour = 'yellow-fg';
  else if (f & (ROW.PROCESS | ROW.END)) colour = 'cyan-fg';
  else if (f & ROW.INCOMPLETE) colour = 'magenta-fg';
  let s = colour ? `{${colour}}${text}{/${colour}}` : text;
  if (selected) s = focused ? `{inverse}${s}{/inverse}` : `{blue-bg}${s}{/blue-bg}`;
  return s;
}

export function detailTagged(l: DetailLine, width: number, selected: boolean, focused: boolean): string {
  const text = esc(fit(`${'  '.repeat(l.depth)}${l.text}`, width));
  let s = text;
  if (l.style === 'head') s = `{bold}${s}{/bold}`;
  else if (l.style === 'error') s = `{red-fg}${s}{/red-fg}`;
  else if (l.style === 'finding') s = `{yellow-fg}${s}{/yellow-fg}`;
  else if (l.changed) s = `{magenta-fg}${s}{/magenta-fg}`;
  if (selected) s = focused ? `{inverse}${s}{/inverse}` : `{blue-bg}${s}{/blue-bg}`;
  return s;
}

/** `0010: 00 01 .. 0f  ascii`; highlighted bytes on a yellow background, changed bytes magenta. */
export function hexTagged(line: HexLine): string {
  let s = `${line.offset.toString(16).padStart(4, '0')}: `;
  line.bytes.forEach((b, k) => {
    let t = b.text;
    if (b.diff) t = `{magenta-fg}${t}{/magenta-fg}`;
    if (b.hl) t = `{black-fg}{yellow-bg}${t}{/yellow-bg}{/black-fg}`;
    s += t + (k === 7 ? '  ' : ' ');
  });
  s += ' '.repeat(Math.max(0, 16 - line.bytes.length) * 3 + (line.bytes.length <= 7 ? 1 : 0));
  return `${s} ${esc(line.ascii)}`;
}
