// Content of the detail, bytes and findings panes as tagged lines, from plain
// data; the app only places them in widgets.

import type { DecodedEvent, FieldNode, Finding } from '../decode/types.js';
import { hexDump, type DetailLine } from './state/detail.js';
import { detailTagged, esc, fit, hexTagged } from './format.js';

export function detailPane(lines: DetailLine[], top: number, cursor: number, focused: boolean, h: number, w: number): string[] {
  const out: string[] = [];
  for (let i = top; i < Math.min(lines.length, top + h); i++) {
    const l = lines[i];
    if (l) out.push(detailTagged(l, w, i === cursor, focused));
  }
  return out;
}

/** Entry and exit bytes; the selected field's bytes highlighted in both. */
export function hexPane(ev: DecodedEvent | null, node: FieldNode | null): string[] {
  if (!ev || ev.kind !== 'ioctl') return ['(no bytes)'];
  const { entry, exit } = ev.record;
  const off = node ? node.offset : -1;
  const size = node ? node.size : 0;
  const out = [`{bold}entry (${entry.length} bytes)${node ? esc(` - ${node.path || node.name} @${off}+${size}`) : ''}{/bold}`];
  for (const l of hexDump(entry, off, size)) out.push(hexTagged(l));
  if (exit.length > 0) {
    out.push('{bold}exit (changed bytes in magenta){/bold}');
    for (const l of hexDump(exit, off, size, entry)) out.push(hexTagged(l));
  }
  return out;
}

export function findingsPane(all: readonly { seq: number; finding: Finding }[], cursor: number, focused: boolean, h: number, w: number): string[] {
  const top = Math.max(0, cursor - h + 1);
  const out: string[] = [];
  for (let i = top; i < Math.min(all.length, top + h); i++) {
    const f = all[i];
    if (!f) continue;
    const colour = f.finding.severity === 'error' ? 'red-fg' : f.finding.severity === 'warning' ? 'yellow-fg' : 'white-fg';
    let s = `{${colour}}${esc(fit(`#${f.seq} ${f.finding.severity} [${f.finding.rule}] ${f.finding.message}`, w))}{/${colour}}`;
    if (i === cursor && focused) s = `{inverse}${s}{/inverse}`;
    out.push(s);
  }
  return out.length ? out : ['no findings'];
}
