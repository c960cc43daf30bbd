// A decoded recording cut into lanes, one per traced thread, so that two
// recordings of the same client can be compared whatever the scheduler did:
// threads and processes interleave differently on every run, but each
// thread's own sequence of calls is fixed by the client. Pids, tids, seq
// numbers and times are replaced by what they stand for (the main thread,
// "thread", "child"), and lanes of the same kind are put in the order of
// their inputs (what the client asked), never of their timing.

/** One JSON line of `vfiotrace show --json` (docs/json-schema.md). */
export type TraceEvent = { type: string; pid?: number; tid?: number } & { [key: string]: unknown };

export interface Lane {
  /** `main` (the traced process's first thread), `thread` (its other threads), `child` or `child-thread` (a forked process). */
  kind: 'main' | 'thread' | 'child' | 'child-thread';
  /** pid and tid in the recording (for messages; never compared). */
  pid: number;
  tid: number;
  events: TraceEvent[];
}

const KIND_ORDER: readonly Lane['kind'][] = ['main', 'thread', 'child', 'child-thread'];

/** The process the recording is about: the first traced one that no other
 * traced process started (with ioctl records only, the first to call). */
export function mainPid(records: TraceEvent[]): number {
  const pids = new Set(records.map((r) => r.pid).filter((p): p is number => typeof p === 'number'));
  const children = new Set(records.filter((r) => r.type === 'start' && pids.has(r['parent'] as number) && r['parent'] !== r.pid).map((r) => r.pid));
  const main = [...pids].find((p) => !children.has(p));
  if (main === undefined) throw new Error('the recording has no traced process');
  return main;
}

/** What a lane's calls ask: the key that orders lanes of one kind. */
function inputsKey(lane: Lane): string {
  return JSON.stringify(lane.events.filter((e) => e.type === 'ioctl').map((e) => [e['ioctl'], e['fd'], e['in'] ?? e['arg_display']]));
}

/** Groups the records (ioctl and process events; `end` is left out) by thread. */
export function lanesOf(records: TraceEvent[]): Lane[] {
  const main = mainPid(records);
  const byTid = new Map<number, Lane>();
  for (const r of records) {
    if (typeof r.pid !== 'number' || typeof r.tid !== 'number') continue;
    let lane = byTid.get(r.tid);
    if (!lane) {
      const kind = r.pid === main ? (r.tid === main ? 'main' : 'thread') : r.tid === r.pid ? 'child' : 'child-thread';
      lane = { kind, pid: r.pid, tid: r.tid, events: [] };
      byTid.set(r.tid, lane);
    }
    lane.events.push(r);
  }
  const key = new Map([...byTid.values()].map((l) => [l, inputsKey(l)]));
  const byInputs = (a: Lane, b: Lane): number => (key.get(a)! < key.get(b)! ? -1 : key.get(a)! > key.get(b)! ? 1 : 0);
  return [...byTid.values()].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || byInputs(a, b));
}

/** Lane names for messages: `main`, `thread 1`, `child 1`… in lane order. */
export function laneNames(lanes: Lane[]): string[] {
  const seen = new Map<string, number>();
  return lanes.map((l) => {
    if (l.kind === 'main') return 'main';
    const n = (seen.get(l.kind) ?? 0) + 1;
    seen.set(l.kind, n);
    return `${l.kind} ${n}`;
  });
}

/** A record with what varies between runs replaced or left out: seq, times,
 * pids and tids (a pid or tid of the recording becomes its lane's name;
 * another one, such as the recorder's pid as a spawned command's parent,
 * becomes "other"), the `seq`s a finding points to, and the address a
 * payload was read from (`arg`, `arg_display` when `in` was captured: a
 * stack address, placed anew by ASLR in every run). */
export function normalise(r: TraceEvent, names: Map<number, string>): TraceEvent {
  const who = (v: unknown): unknown => (typeof v === 'number' && v !== 0 ? (names.get(v) ?? 'other') : v);
  const pointer = r.type === 'ioctl' && r['in'] !== null;
  const out: TraceEvent = { type: r.type };
  for (const [k, v] of Object.entries(r)) {
    if (k === 'seq' || k === 'ts' || k === 'dur' || k === 'pid' || k === 'tid') continue;
    if (pointer && (k === 'arg' || k === 'arg_display')) continue;
    if (k === 'parent' || k === 'creator' || k === 'former_tid') out[k] = who(v);
    else if (k === 'findings' && Array.isArray(v)) out[k] = v.map((f: { [key: string]: unknown }) => Object.fromEntries(Object.entries(f).filter(([fk]) => fk !== 'events')));
    else out[k] = v;
  }
  return out;
}

/** Each lane as normalised JSON lines, under its name. */
export function laneTexts(records: TraceEvent[]): Map<string, string[]> {
  const lanes = lanesOf(records);
  const names = laneNames(lanes);
  const byId = new Map<number, string>();
  lanes.forEach((l, i) => byId.set(l.tid, names[i]!));
  const out = new Map<string, string[]>();
  lanes.forEach((l, i) => out.set(names[i]!, l.events.map((e) => JSON.stringify(normalise(e, byId)))));
  const end = records.find((r) => r.type === 'end');
  if (end) out.set('end', [JSON.stringify(normalise(end, byId))]);
  return out;
}

/** Where two recordings' lanes differ: a missing or extra lane, or the first differing event of a lane. */
export function compareLanes(golden: TraceEvent[], now: TraceEvent[]): string[] {
  const a = laneTexts(golden);
  const b = laneTexts(now);
  const out: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const g = a.get(name);
    const n = b.get(name);
    if (!g || !n) {
      out.push(`${name}: ${g ? 'golden only' : 'not in the golden'} (${(g ?? n)!.length} events)`);
      continue;
    }
    const i = g.findIndex((e, k) => e !== n[k]);
    if (i >= 0 || g.length !== n.length) {
      const k = i >= 0 ? i : Math.min(g.length, n.length);
      out.push(`${name} event ${k} of ${g.length} (now ${n.length}):\n  golden ${g[k] ?? '(none)'}\n  now    ${n[k] ?? '(none)'}`);
    }
  }
  return out;
}
