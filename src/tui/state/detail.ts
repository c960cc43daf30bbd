// The detail pane's content as plain data: the decoded tree flattened into
// lines (each remembering its FieldNode and whether it is the entry or exit
// side), and hex dump lines whose bytes know whether they are highlighted.

import type { DecodedEvent, FieldNode } from '../../decode/types.js';
import { END_REASON, PROCESS_TYPE } from '../../render/json.js';
import { signalName } from '../../render/names.js';
import { EndReason, ProcessEventKind, type EndRecord, type ProcessRecord } from '../../trace/events.js';
import { ioctlName } from './rowSummary.js';

export type Side = 'in' | 'out';

export interface DetailLine {
  text: string;
  depth: number;
  node: FieldNode | null;
  side: Side | null;
  /** The kernel wrote a different value here. */
  changed: boolean;
  style: 'head' | 'field' | 'error' | 'finding' | 'plain';
}

function fmtNs(ns: number): string {
  return ns < 1000 ? `${ns} ns` : ns < 1e6 ? `${(ns / 1e3).toFixed(1)} us` : `${(ns / 1e6).toFixed(3)} ms`;
}

/** A process record's fields by what they mean for its kind (as the JSON output names them). */
function processFields(r: ProcessRecord): string {
  switch (r.kind) {
    case ProcessEventKind.Start: return `parent ${r.other}, comm ${r.text}`;
    case ProcessEventKind.Exec: return `path ${r.text}${r.other ? `, former tid ${r.other}` : ''}`;
    case ProcessEventKind.Exit: return `status ${r.value}`;
    case ProcessEventKind.Killed: return `killed by ${signalName(r.value)}${r.other === 1 ? ' (core dumped)' : ''}`;
    case ProcessEventKind.Detached: return 'no longer traced';
    case ProcessEventKind.Signal: return `signal ${signalName(r.value)}`;
    case ProcessEventKind.Thread: return r.other === 0 ? 'already running when attached' : `created by ${r.other}`;
    default: return `kind ${String(r.kind)}, value ${r.value}, other ${r.other}${r.text ? `, ${r.text}` : ''}`;
  }
}

function endOutcome(r: EndRecord): string {
  const reason = END_REASON[r.reason] ?? `reason ${String(r.reason)}`;
  if (r.reason === EndReason.Killed) return `killed by ${signalName(r.status)}`;
  if (r.reason === EndReason.Exited) return `${reason}, status ${r.status}`;
  return reason;
}

function dirMark(n: FieldNode): string {
  return n.dir === 'in' ? 'in ' : n.dir === 'out' ? 'out' : 'io ';
}

function pushTree(out: DetailLine[], n: FieldNode, side: Side, depth: number): void {
  const agg = n.children && n.children.length > 0;
  const val = agg ? '' : ` = ${n.display}`;
  const mark = n.changed ? ' *changed*' : '';
  const bad = n.unreadable ? ' (not captured)' : '';
  out.push({
    text: `${dirMark(n)} ${n.name} ${n.ctype}${val}${mark}${bad}  @${n.offset}+${n.size}`,
    depth,
    node: n,
    side,
    changed: n.changed === true,
    style: 'field',
  });
  for (const c of n.children ?? []) pushTree(out, c, side, depth + 1);
}

/**
 * `rereadAs`: the event was decoded again on its own from the recording on
 * disk; this is the name the in-sequence decoding gave it.
 */
export function buildDetail(ev: DecodedEvent | null, rereadAs: string | null = null): DetailLine[] {
  const out: DetailLine[] = [];
  const line = (text: string, style: DetailLine['style'] = 'plain', depth = 0) =>
    out.push({ text, depth, node: null, side: null, changed: false, style });
  if (!ev) {
    line('(no event selected, or its details are no longer in memory)');
    return out;
  }
  if (ev.kind === 'process') {
    line(`process event #${ev.seq}: ${PROCESS_TYPE[ev.record.kind] ?? 'process'}, pid ${ev.pid} tid ${ev.tid}`, 'head');
    line(processFields(ev.record));
    return out;
  }
  if (ev.kind === 'end') {
    line(`end of trace #${ev.seq}: ${endOutcome(ev.record)}`, 'head');
    line(`ioctl records: ${ev.record.events}, dropped: ${ev.record.dropped}${ev.record.text ? `, ${ev.record.text}` : ''}`);
    return out;
  }
  line(`#${ev.seq} ${ioctlName(ev)}  (${ev.family ?? 'unknown family'}, ${ev.resolution})`, 'head');
  // Re-read events lack what earlier calls taught the decoder (e.g. the container's IOMMU type).
  if (rereadAs !== null && rereadAs !== ioctlName(ev)) {
    line(`re-read from disk and decoded without earlier calls; in sequence it was ${rereadAs}`, 'error');
  }
  if (ev.candidates.length > 1) line(`candidates: ${ev.candidates.join(', ')}`);
  line(`pid ${ev.pid} tid ${ev.tid}  fd ${ev.fd} <${ev.fdKind}> ${ev.fdPath}`);
  line(`request 0x${(ev.request >>> 0).toString(16)}  arg ${ev.argDisplay}  dur ${ev.dur === null ? '-' : fmtNs(ev.dur)}`);
  const r = ev.ret;
  const retLine = ev.incomplete ? 'return: ? (the call never returned)'
    : `return: ${r.value}${r.errno ? ` ${r.errno}` : ''}${r.meaning ? ` - ${r.meaning}` : ''}${r.newFd ? ` (new fd ${r.newFd.fd} <${r.newFd.kind}>)` : ''}`;
  line(retLine, r.value < 0 && !ev.incomplete ? 'error' : 'plain');
  if (ev.truncated) line('payload truncated by the capture cap (-s)', 'error');
  for (const f of ev.findings) line(`${f.severity}: [${f.rule}] ${f.message}${f.field ? ` (${f.field})` : ''}`, 'finding');
  if (ev.in) {
    line(`input (entry, ${ev.record.entry.length} bytes):`, 'head');
    pushTree(out, ev.in, 'in', 1);
  } else line('input: nothing captured');
  if (ev.out) {
    line(`output (exit, ${ev.record.exit.length} bytes):`, 'head');
    pushTree(out, ev.out, 'out', 1);
  }
  return out;
}

export interface HexByte {
  text: string;
  hl: boolean;
  /** Differs between entry and exit. */
  diff: boolean;
}

export interface HexLine {
  offset: number;
  bytes: HexByte[];
  ascii: string;
}

/** 16 bytes per line; bytes inside [hlOff, hlOff+hlSize) are highlighted. */
export function hexDump(bytes: Uint8Array, hlOff = -1, hlSize = 0, other?: Uint8Array): HexLine[] {
  const lines: HexLine[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row: HexByte[] = [];
    let ascii = '';
    for (let j = off; j < Math.min(off + 16, bytes.length); j++) {
      const b = bytes[j] ?? 0;
      row.push({
        text: b.toString(16).padStart(2, '0'),
        hl: j >= hlOff && j < hlOff + hlSize,
        diff: other !== undefined && j < other.length && other[j] !== b,
      });
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push({ offset: off, bytes: row, ascii });
  }
  return lines;
}
