// What one list row needs from a DecodedEvent, computed once at ingestion so
// the full event (trees, bytes) can be dropped later.

import { IoctlEvent, type StructPayload } from '../../decode/event.js';
import { shortEntryText } from './rowArgs.js';
import type { DecodedEvent, DecodedIoctl, FdKind, FieldNode, RetInfo } from '../../decode/types.js';
import { signalName } from '../../render/names.js';
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
  /** vfiotrace's own wrapper caused it (src/trace/wrapper.ts): hidden unless asked for. */
  OWN: 0x80,
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

function entryArgs(ev: DecodedIoctl): string {
  const pl = ev instanceof IoctlEvent ? ev.structPayload : null;
  if (pl !== null && pl.entry.length > 0) return shortEntryText(pl, ARGS_MAX);
  // A tree given from elsewhere: its own top level.
  return shortArgs(ev.in, ev.argDisplay);
}

/** Entry bytes up to this size are kept so the row's argument text can be made when the row is shown. */
export const DEFER_MAX = 1024;

/**
 * The struct payload a row's argument text can be made from later (by
 * payloadArgs), or null: make it now. Formatting the text of every distinct
 * call was most of what adding a row cost, and only a screenful is ever shown.
 */
export function argsPayload(ev: DecodedEvent): StructPayload | null {
  if (!(ev instanceof IoctlEvent)) return null;
  const pl = ev.structPayload;
  // The store keeps the row's return value, not the payload's: defer only when they agree.
  const ok = pl !== null && pl.entry.length > 0 && pl.entry.length <= DEFER_MAX && pl.ret === ev.ret.value;
  return ok ? pl : null;
}

/** entryArgs of an event whose payload is `pl` (entry bytes not empty), made when the row is shown. */
export function payloadArgs(pl: StructPayload): string {
  return shortEntryText(pl, ARGS_MAX);
}

function processText(kind: ProcessEventKind, value: number, other: number, text: string): string {
  switch (kind) {
    case ProcessEventKind.Start: return `+++ started ${text} +++`;
    case ProcessEventKind.Exec: return `+++ exec ${text} +++`;
    case ProcessEventKind.Exit: return `+++ exited with ${value} +++`;
    case ProcessEventKind.Killed: return `+++ killed by ${signalName(value)}${other ? ' (core dumped)' : ''} +++`;
    case ProcessEventKind.Detached: return '+++ detached +++';
    case ProcessEventKind.Signal: return `--- ${signalName(value)} ---`;
    case ProcessEventKind.Thread: return other === 0 ? '+++ thread attached +++' : `+++ new thread (from ${other}) +++`;
    default: return `+++ process event ${String(kind)} +++`;
  }
}

function endText(reason: EndReason, status: number, text: string): string {
  switch (reason) {
    case EndReason.Exited: return `=== trace ended: exited with ${status} ===`;
    case EndReason.Killed: return `=== trace ended: killed by ${signalName(status)} ===`;
    case EndReason.Detached: return '=== trace ended: detached ===';
    case EndReason.TracerError: return `=== trace ended: tracer error: ${text} ===`;
    default: return '=== trace ended ===';
  }
}

export function ioctlName(ev: { ioctl: string | null; candidates: readonly string[]; request: number }): string {
  if (ev.ioctl) return ev.ioctl;
  if (ev.candidates.length > 0) return ev.candidates.join('|');
  return `0x${(ev.request >>> 0).toString(16)}`;
}

/** The last return text made, with what it was made from. */
const lastRet = { value: 0, errno: null as string | null, meaning: '', text: '0' };

/**
 * `0 (meaning)` / `-1 EINVAL (meaning)`. Consecutive calls mostly return the
 * same: the one string is handed out again, so the store's lookup of it
 * neither builds nor hashes a new string per row.
 */
function retTextOf(ret: RetInfo): string {
  if (ret.value === lastRet.value && ret.errno === lastRet.errno && ret.meaning === lastRet.meaning) return lastRet.text;
  const tail = ret.meaning ? ` (${ret.meaning})` : '';
  const text = ret.errno ? `-1 ${ret.errno}${tail}` : `${ret.value}${tail}`;
  lastRet.value = ret.value;
  lastRet.errno = ret.errno;
  lastRet.meaning = ret.meaning;
  lastRet.text = text;
  return text;
}

/** The row of `ev`; with `withArgs` false, args is left empty (the store makes it later from argsPayload). */
export function summarize(ev: DecodedEvent, withArgs = true): RowSummary {
  if (ev.kind === 'ioctl') {
    let flags = 0;
    if (ev.incomplete) flags |= ROW.INCOMPLETE;
    else if (ev.ret.value < 0) flags |= ROW.ERROR;
    if (ev.truncated) flags |= ROW.TRUNCATED;
    if (ev.findings.length > 0) flags |= ROW.FINDING;
    if (outChanged(ev)) flags |= ROW.CHANGED;
    const retText = ev.incomplete ? '?' : retTextOf(ev.ret);
    return {
      ts: ev.ts,
      dur: ev.dur ?? -1,
      ret: ev.ret.value,
      pid: ev.pid,
      tid: ev.tid,
      fd: ev.fd,
      fdKind: ev.fdKind,
      name: ioctlName(ev),
      args: withArgs ? entryArgs(ev) : '',
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
