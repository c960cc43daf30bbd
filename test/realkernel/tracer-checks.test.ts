// The tracer's checks (threads, forks, -p attach) on the real-kernel goldens,
// with no guest: the goldens must pass them, and the checks and the
// thread-by-thread comparisons must fail on recordings that are wrong and
// hold on recordings whose threads merely interleaved differently.
// guest.test.ts runs the same checks on fresh recordings.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_DIR, compareRun, decodeFileAsync, goldenSeries, ioctls, pool, readManifest } from './differential.js';
import { compareLanes, lanesOf, type TraceEvent } from './lanes.js';
import { TRACER_CHECKS, checkAttach, checkForks, checkThreads, type CheckContext } from './tracer-checks.js';

const series = goldenSeries();
const items = series.flatMap((s) => readManifest(s).devices.flatMap((d) => ['setup', ...Object.keys(TRACER_CHECKS)].map((entry) => ({ series: s, device: d, entry, key: `${s} ${entry}.${d.name}`, file: path.join(GOLDEN_DIR, s, `${entry}.${d.name}.vft`) }))));
const decoded = new Map<string, TraceEvent[]>();
const get = (s: string, entry: string, device = 'e1000e'): TraceEvent[] => structuredClone(decoded.get(`${s} ${entry}.${device}`)!);
const ctxOf = (s: string, device = 'e1000e'): CheckContext => ({ group: readManifest(s).devices.find((d) => d.name === device)!.group, setup: ioctls(get(s, 'setup', device)) });

/** The same recording as another run could have made it: other pids and tids,
 * the threads' events interleaved in another order (each thread's own order kept). */
function reinterleaved(events: TraceEvent[]): TraceEvent[] {
  const lanes = lanesOf(structuredClone(events));
  const shift = (v: unknown): unknown => (typeof v === 'number' && v !== 0 ? v + 1000 : v);
  const out: TraceEvent[] = [];
  // round robin over the lanes, last lane first
  const queues = lanes.map((l) => [...l.events]).reverse();
  while (queues.some((q) => q.length)) for (const q of queues) if (q.length) out.push(q.shift()!);
  const end = structuredClone(events.find((e) => e.type === 'end'));
  return [...out, ...(end ? [end] : [])].map((e, seq) => ({ ...e, seq, ts: seq, pid: shift(e.pid) as number, tid: shift(e.tid) as number, ...('parent' in e ? { parent: shift(e['parent']) } : {}), ...('creator' in e ? { creator: shift(e['creator']) } : {}) }));
}

describe('the tracer on real kernels: threads, forks and -p attach, as recorded in the goldens', () => {
  beforeAll(async () => {
    const events = await pool(items.map((i) => () => decodeFileAsync(i.file)), 4);
    items.forEach((i, k) => decoded.set(i.key, events[k]!));
  }, 120_000);

  it.each(items.filter((i) => i.entry !== 'setup'))('$key passes the tracer checks', ({ series: s, entry, device }) => {
    expect(TRACER_CHECKS[entry]!(get(s, entry, device.name), ctxOf(s, device.name))).toEqual([]);
  });

  it.each(series)('%s: every recorder and attached client exited 0; the child answered the same whether or not -f reported it', (s) => {
    const m = readManifest(s);
    for (const d of m.devices) {
      expect(m.status[`attach.${d.name}.client`]).toBe(0);
      const out = (e: string): string => readFileSync(path.join(GOLDEN_DIR, s, `${e}.${d.name}.out`), 'utf8');
      expect(out('forks-nofollow')).toBe(out('forks'));
      expect(out('forks')).toContain('child-exit 0\n');
      // after the detach the client went on, its calls answered, none recorded
      expect(out('attach')).toMatch(/^done\nafter-detach map 0 unmap 0 worker intx-count 1\n$/m);
    }
    expect(Object.values(m.status).every((v) => v === 0)).toBe(true);
  });

  it('another interleaving of the same threads compares equal and passes the checks', () => {
    const s = series[0]!;
    for (const entry of ['threads', 'forks', 'attach']) {
      const golden = get(s, entry);
      const other = reinterleaved(golden);
      expect(other.map((e) => e.tid)).not.toEqual(golden.map((e) => e.tid));
      expect(compareLanes(golden, other)).toEqual([]);
      expect(compareRun(golden, other, true)).toEqual([]);
      expect(TRACER_CHECKS[entry]!(other, ctxOf(s))).toEqual([]);
    }
  });

  it('a changed answer in one thread is named with that thread', () => {
    const s = series[0]!;
    const golden = get(s, 'threads');
    const other = reinterleaved(golden);
    // the second thread by inputs is the one asking for index 1
    const victim = other.find((e) => e['ioctl'] === 'VFIO_IOMMU_UNMAP_DMA' && (e['in'] as { iova: number }).iova === 0x20040000)!;
    (victim['out'] as { size: number }).size = 0;
    expect(compareLanes(golden, other)).toEqual([expect.stringMatching(/^thread 2 event 8 of 17 \(now 17\):\n {2}golden .*"size":262144.*\n {2}now {4}.*"size":0/)]);
    expect(compareRun(golden, other, true)).toEqual(['thread 2: call 7 VFIO_IOMMU_UNMAP_DMA: out.size: golden 262144, emulated 0']);
    expect(checkThreads(other, ctxOf(s))).toEqual(['thread 2 (index 1) call 7 VFIO_IOMMU_UNMAP_DMA: out.size: 0, want 262144']);
  });

  it('fails a thread with a call missing, or a call recorded under the wrong thread', () => {
    const s = series[0]!;
    const ctx = ctxOf(s);
    const missing = get(s, 'threads');
    missing.splice(missing.findIndex((e) => e['ioctl'] === 'VFIO_IOMMU_UNMAP_DMA' && (e['in'] as { iova: number }).iova === 0x300c0000), 1);
    expect(checkThreads(missing, ctx)).toEqual([expect.stringMatching(/^thread 3 \(index 2\) \(tid \d+\): 15 calls \(.*\), want 16$/)]);
    const moved = get(s, 'threads');
    const main = moved[0]!.pid!;
    moved.find((e) => e['ioctl'] === 'VFIO_IOMMU_MAP_DMA' && (e['in'] as { iova: number }).iova === 0x10000000)!.tid = main;
    const problems = checkThreads(moved, ctx);
    expect(problems).toContainEqual(expect.stringMatching(/^main \(tid \d+\): 7 calls/));
    expect(problems).toContainEqual(expect.stringMatching(/^thread 1 \(index 0\) \(tid \d+\): 15 calls/));
  });

  it('fails a fork whose child is recorded as the parent, or whose inherited fd has the wrong path', () => {
    const s = series[0]!;
    const merged = get(s, 'forks');
    const parent = merged[0]!.pid!;
    for (const e of merged) if (e.pid !== parent) [e.pid, e.tid] = [parent, parent];
    expect(checkForks(merged, ctxOf(s))).toEqual(['want the parent and one child, got main']);
    const path = get(s, 'forks');
    path.find((e) => e.pid !== parent && e['fd'] === 5)!['fd_path'] = '/dev/vfio/vfio';
    expect(checkForks(path, ctxOf(s))).toEqual(['child call 0 VFIO_DEVICE_GET_INFO: fd 5 device "/dev/vfio/vfio", want 5 device "anon_inode:[vfio-device]"']);
  });

  it('fails an attach recording holding a call from after the detach, or one that ended otherwise', () => {
    const s = series[0]!;
    const late = get(s, 'attach');
    const map = late.find((e) => e['ioctl'] === 'VFIO_IOMMU_MAP_DMA')!;
    late.splice(late.indexOf(map) + 1, 0, { ...map, in: { ...(map['in'] as object), iova: 0x30000000 } });
    expect(checkAttach(late, ctxOf(s))).toContainEqual(expect.stringMatching(/^thread \(tid \d+\): 5 calls \(.*\), want 4$/));
    const exited = get(s, 'attach');
    exited.find((e) => e.type === 'end')!['reason'] = 'exited';
    expect(checkAttach(exited, ctxOf(s))).toEqual([expect.stringMatching(/^end .*"reason":"exited".*, want detached, status 0, 7 events$/)]);
  });

  it('compares only the parent when the golden was recorded without -f', () => {
    const s = series[0]!;
    const parentOnly = get(s, 'forks-nofollow');
    const withChild = get(s, 'forks'); // what the emulator records: it always follows
    expect(compareRun(parentOnly, withChild, false)).toEqual([]);
    expect(compareRun(parentOnly, withChild, true)).toEqual(['child 1: emulated only (7 calls)']);
  });
});
