// JSON lines: one object per event, keys documented in docs/json-schema.md.
// Built by hand (strings through JSON.stringify only) to stay fast and to
// keep the key order stable.

import { memoPayload, payloadMemo } from '../decode/memo.js';
import { IoctlEvent, type StructPayload } from '../decode/event.js';
import { flat } from './flat.js';
import { jsonInt, jsonStr as str, strFresh } from './jsonText.js';
import { payloadSideJson } from './payloadJson.js';
import type { DecodedEvent, DecodedIoctl, DecodedProcess, DecodedEnd, FieldNode, Finding } from '../decode/types.js';
import { EndReason, IOCTL_FLAG, ProcessEventKind, type IoctlRecord } from '../trace/events.js';
import { argHighOf, argLowOf, IoctlRecordView } from '../trace/recordView.js';

export { jsonInt };

/** jsonInt(r.arg), without making the register's bigint when the view's bytes give the number exactly. */
function argJson(r: IoctlRecord): string {
  if (r instanceof IoctlRecordView && r.fromBytes) {
    const hi = argHighOf(r);
    // Below 2^53 (the register is unsigned): the decimal of the double is the bigint's.
    if (hi >= 0 && hi < 0x200000) return String(hi * 4294967296 + argLowOf(r));
  }
  return jsonInt(r.arg);
}

function isArray(node: FieldNode): boolean {
  const first = node.children?.[0];
  return first !== undefined && first.name.charCodeAt(0) === 0x5b;
}

/** A payload node as JSON: structs/unions as objects keyed by C field name, arrays as arrays. */
export function nodeJson(node: FieldNode): string {
  const kids = node.children;
  if (kids !== undefined) {
    if (isArray(node)) {
      let s = '[';
      for (let i = 0; i < kids.length; i++) s += (i > 0 ? ',' : '') + nodeJson(kids[i]!);
      return s + ']';
    }
    let s = '{';
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i]!;
      s += (i > 0 ? ',' : '') + str(k.name) + ':' + nodeJson(k);
    }
    return s + '}';
  }
  if (node.unreadable) return 'null';
  if (node.text !== undefined) return JSON.stringify(node.text);
  if (node.value !== undefined) return jsonInt(node.value);
  return str(node.display);
}

function findingsJson(f: readonly Finding[]): string {
  if (f.length === 0) return '[]';
  let s = '[';
  for (let i = 0; i < f.length; i++) {
    const x = f[i]!;
    s += (i > 0 ? ',' : '') + '{"rule":' + str(x.rule) + ',"severity":' + str(x.severity) + ',"message":' + str(x.message);
    if (x.field !== undefined) s += ',"field":' + str(x.field);
    if (x.events !== undefined) s += ',"events":' + JSON.stringify(x.events);
    s += '}';
  }
  return s + ']';
}

// Struct payloads seen before (same bytes, same outcome) reuse their JSON
// without building the trees again.
const jsonMemo = payloadMemo<{ in: string; out: string }>();

export function payloadJson(ev: DecodedIoctl): { in: string; out: string } {
  const pl = ev instanceof IoctlEvent ? ev.structPayload : null;
  if (pl !== null) return memoPayload(jsonMemo, pl, true, payloadBothJson);
  return { in: ev.in === null ? 'null' : nodeJson(ev.in), out: ev.out === null ? 'null' : nodeJson(ev.out) };
}

/** Both sides straight from the bytes (the decoder's own payload: what its trees would hold). */
function payloadBothJson(pl: StructPayload): { in: string; out: string } {
  return { in: payloadSideJson(pl, 'in'), out: payloadSideJson(pl, 'out') };
}

function ioctlJson(ev: DecodedIoctl): string {
  const s = '{"type":"ioctl","seq":' + ev.seq + ',"ts":' + jsonInt(ev.ts) + ',"dur":' + (ev.dur === null ? 'null' : jsonInt(ev.dur));
  // Per call, not in the shared tail: calls decoded alike may differ in who answered them.
  const emulated = (ev.record.flags & IOCTL_FLAG.EMULATED) !== 0;
  const head = s + ',"pid":' + ev.pid + ',"tid":' + ev.tid + ',"emulated":' + emulated + ',"fd":' + ev.fd;
  // Calls decoded alike (callMemo.ts) have the same JSON after the fd: built once.
  const ct = ev instanceof IoctlEvent ? ev.sharedText : null;
  if (ct === null) return head + ioctlJsonTail(ev);
  if (ct.jsonTail === null) ct.jsonTail = flat(ioctlJsonTail(ev));
  return head + ct.jsonTail;
}

/** `,"fd_kind":…` to `"candidates":…`: what the call's fd and resolution fix. */
function resolvedJsonUncached(ev: DecodedIoctl): string {
  let s = ',"fd_kind":' + str(ev.fdKind) + ',"fd_path":' + str(ev.fdPath);
  s += ',"request":' + jsonInt(ev.request) + ',"ioctl":' + (ev.ioctl === null ? 'null' : str(ev.ioctl));
  s += ',"family":' + (ev.family === null ? 'null' : str(ev.family)) + ',"resolution":' + str(ev.resolution);
  return s + ',"candidates":' + (ev.candidates.length === 0 ? '[]' : JSON.stringify(ev.candidates));
}

interface ResolvedText {
  fdKind: string;
  fdPath: string;
  request: number;
  ioctl: string;
  family: string | null;
  resolution: string;
  text: string;
}

// Keyed by the resolution's own (empty) candidates array, which the decoder
// shares between the calls it resolved alike; the fields are checked, so a
// call on another fd or path builds its text afresh.
const resolvedTexts = new WeakMap<readonly string[], ResolvedText>();

function resolvedJson(ev: DecodedIoctl): string {
  const key = ev.candidates;
  // Unresolved calls get a fresh array each: nothing to share.
  if (!(ev instanceof IoctlEvent) || ev.ioctl === null || key.length !== 0) return resolvedJsonUncached(ev);
  let t = resolvedTexts.get(key);
  if (t === undefined || t.fdPath !== ev.fdPath || t.fdKind !== ev.fdKind || t.request !== ev.request || t.ioctl !== ev.ioctl || t.family !== ev.family || t.resolution !== ev.resolution) {
    t = { fdKind: ev.fdKind, fdPath: ev.fdPath, request: ev.request, ioctl: ev.ioctl, family: ev.family, resolution: ev.resolution, text: flat(resolvedJsonUncached(ev)) };
    resolvedTexts.set(key, t);
  }
  return t.text;
}

/** `,"fd_kind":…` to the end of the line: everything after the per-call numbers. */
function ioctlJsonTail(ev: DecodedIoctl): string {
  const r = ev.ret;
  const failed = !ev.incomplete && r.value < 0;
  let s = resolvedJson(ev);
  s += ',"arg":' + argJson(ev.record) + ',"arg_display":' + strFresh(ev.argDisplay);
  s += ',"ret":' + (ev.incomplete ? 'null' : failed ? '-1' : String(r.value));
  s += ',"errno":' + (failed && r.errno !== null ? str(r.errno) : failed ? str('ERRNO_' + -r.value) : 'null');
  s += ',"ret_meaning":' + str(r.meaning);
  if (r.newFd !== undefined) s += ',"new_fd":{"fd":' + r.newFd.fd + ',"kind":' + str(r.newFd.kind) + '}';
  s += ',"incomplete":' + ev.incomplete + ',"truncated":' + ev.truncated;
  const p = payloadJson(ev);
  s += ',"in":' + p.in + ',"out":' + (ev.incomplete ? 'null' : p.out);
  s += ',"findings":' + findingsJson(ev.findings) + '}\n';
  return s;
}

/** Process record kinds by name (JSON's "type", the TUI's detail). */
export const PROCESS_TYPE: Record<number, string> = {
  [ProcessEventKind.Start]: 'start',
  [ProcessEventKind.Exec]: 'exec',
  [ProcessEventKind.Exit]: 'exit',
  [ProcessEventKind.Killed]: 'killed',
  [ProcessEventKind.Detached]: 'detached',
  [ProcessEventKind.Signal]: 'signal',
  [ProcessEventKind.Thread]: 'thread',
};

function processJson(ev: DecodedProcess): string {
  const r = ev.record;
  let s = '{"type":' + str(PROCESS_TYPE[r.kind] ?? 'process') + ',"seq":' + ev.seq + ',"ts":' + jsonInt(ev.ts) + ',"pid":' + ev.pid + ',"tid":' + ev.tid;
  switch (r.kind) {
    case ProcessEventKind.Start: s += ',"parent":' + r.other + ',"comm":' + str(r.text); break;
    case ProcessEventKind.Exec: s += ',"path":' + str(r.text) + ',"former_tid":' + r.other; break;
    case ProcessEventKind.Exit: s += ',"status":' + r.value; break;
    case ProcessEventKind.Killed: s += ',"signal":' + r.value + ',"core_dumped":' + (r.other === 1); break;
    case ProcessEventKind.Signal: s += ',"signal":' + r.value; break;
    case ProcessEventKind.Thread: s += ',"creator":' + r.other; break;
    default: if (!(r.kind in PROCESS_TYPE)) s += ',"kind":' + r.kind; break;
  }
  return s + '}\n';
}

/** Why a trace ended, by name (JSON's "reason", the TUI). */
export const END_REASON: Record<number, string> = {
  [EndReason.Exited]: 'exited',
  [EndReason.Killed]: 'killed',
  [EndReason.Detached]: 'detached',
  [EndReason.TracerError]: 'error',
};

function endJson(ev: DecodedEnd): string {
  const r = ev.record;
  return '{"type":"end","seq":' + ev.seq + ',"reason":' + str(END_REASON[r.reason] ?? String(r.reason)) + ',"status":' + r.status +
    ',"events":' + jsonInt(r.events) + ',"dropped":' + r.dropped + ',"error":' + (r.text ? str(r.text) : 'null') + '}\n';
}

/** One JSON line (newline-terminated) for any event. */
export function renderJson(ev: DecodedEvent): string {
  if (ev.kind === 'ioctl') return ioctlJson(ev);
  if (ev.kind === 'process') return processJson(ev);
  return endJson(ev);
}
