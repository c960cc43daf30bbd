// What one list row needs from a DecodedEvent, computed once at ingestion so
// the full event (trees, bytes) can be dropped later.

import { IoctlEvent } from '../../decode/event.js';
import type { DecodedEvent, DecodedIoctl, FdKind, FieldNode } from '../../decode/types.js';
import { EndReason, ProcessEventKind } from '../../trace/events.js';

export interface RowSummary {
  ts: number;
  dur: number;
  ret: number;
  pid: number;
  tid: number;
  fd: number;
  fdKind: FdKind;
  name: string;
  args: string;
  retText: string;
  flags: number;
}

/** Row flag bits (RowSummary.flags). */
export const ROW = {
  ERROR: 0x1,
  FINDING: 0x2,
  INCOMPLETE: 0x4,
  TRUNCATED: 0x8,
  CHANGED: 0x10,
  PROCESS: 0x20,
  END: 0x40,
} as const;

const ARGS_MAX = 160;

function anyChanged(n: FieldNode | null): boolean {
  if (!n) return false;
  if (n.changed) return true;
  return (n.children ?? []).some(anyChanged);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Whether the kernel changed any field it wrote back. The tree marks a field
 * changed only where its exit bytes differ from its entry bytes, so a struct
 * written back byte for byte as it went in (most replies to map/unmap/set
 * calls) has no changed field: that is known without building the tree.
 */
function outChanged(ev: DecodedIoctl): boolean {
  const pl = ev instanceof IoctlEvent ? ev.structPayload : null;
  if (pl !== null && (pl.exit === null || sameBytes(pl.entry, pl.exit))) return false;
  return anyChanged(ev.out);
}

/** `{argsz=40, flags=0, op=VFIO_EEH_PE_GET_STATE, ...}` from the entry tree. */
export function shortArgs(root: FieldNode | null, fallback: string): string {
  if (!root) return fallback;
  const kids = root.children;
  if (!kids || kids.length === 0) return root.display || fallback;
  let s = '{';
  for (const k of kids) {
    const part = `${k.name}=${k.children && k.children.length ? '{...}' : k.display}`;
    if (s.length + part.length > ARGS_MAX) {
      s += '...';
      break;
    }
    s += (s.length > 1 ? ', ' : '') + part;
  }
  return s + '}';
}

function processText(kind: ProcessEventKind, value: number, other: number, text: string): string {
  switch (kind) {
    case ProcessEventKind.Start: return `+++ started ${text} +++`;
    case ProcessEventKind.Exec: return `+++ exec ${text} +++`;
    case ProcessEventKind.Exit: return `+++ exited with ${value} +++`;
    case ProcessEventKind.Killed: return `+++ killed by signal ${value}${other ? ' (core dumped)' : ''} +++`;
    case ProcessEventKind.Detached: return '+++ detached +++';
    case ProcessEventKind.Signal: return `--- signal ${value} ---`;
    case ProcessEventKind.Thread: return `+++ new thread (from ${other}) +++`;
    default: return `+++ process event ${String(kind)} +++`;
  }
}

function endText(reason: EndReason, status: number, text: string): string {
  switch (reason) {
    case EndReason.Exited: return `=== trace ended: exited with ${status} ===`;
    case EndReason.Killed: return `=== trace ended: killed by signal ${status} ===`;
    case EndReason.Detached: return '=== trace ended: detached ===';
    case EndReason.TracerError: return `=== trace ended: tracer error: ${text} ===`;
    default: return '=== trace ended ===';
  }
}

export function ioctlName(ev: { ioctl: string | null; candidates: string[]; request: number }): string {
  if (ev.ioctl) return ev.ioctl;
  if (ev.candidates.length > 0) return ev.candidates.join('|');
  return `0x${(ev.request >>> 0).toString(16)}`;
}

export function summarize(ev: DecodedEvent): RowSummary {
  if (ev.kind === 'ioctl') {
    let flags = 0;
    if (ev.incomplete) flags |= ROW.INCOMPLETE;
    else if (ev.ret.value < 0) flags |= ROW.ERROR;
    if (ev.truncated) flags |= ROW.TRUNCATED;
    if (ev.findings.length > 0) flags |= ROW.FINDING;
    if (outChanged(ev)) flags |= ROW.CHANGED;
    let retText: string;
    if (ev.incomplete) retText = '?';
    else if (ev.ret.errno) retText = `-1 ${ev.ret.errno}${ev.ret.meaning ? ` (${ev.ret.meaning})` : ''}`;
    else retText = `${ev.ret.value}${ev.ret.meaning ? ` (${ev.ret.meaning})` : ''}`;
    return {
      ts: ev.ts,
      dur: ev.dur ?? -1,
      ret: ev.ret.value,
      pid: ev.pid,
      tid: ev.tid,
      fd: ev.fd,
      fdKind: ev.fdKind,
      name: ioctlName(ev),
      args: shortArgs(ev.in, ev.argDisplay),
      retText,
      flags,
    };
  }
  if (ev.kind === 'process') {
    const r = ev.record;
    return {
      ts: ev.ts, dur: -1, ret: 0, pid: ev.pid, tid: ev.tid, fd: -1, fdKind: 'other',
      name: processText(r.kind, r.value, r.other, r.text), args: '', retText: '', flags: ROW.PROCESS,
    };
  }
  const r = ev.record;
  return {
    ts: -1, dur: -1, ret: r.status, pid: 0, tid: 0, fd: -1, fdKind: 'other',
    name: endText(r.reason, r.status, r.text), args: '', retText: '', flags: ROW.END,
  };
}
