// The tracer's own checks on a recording of the `threads`, `forks`,
// `forks-nofollow` and `attach` corpus entries (test/realkernel/clients/):
// which thread or process made each call, exactly how many calls each made,
// the fd each call used (number, kind, path) and what was decoded in and out.
// They hold whatever the scheduler did: calls are looked at per thread
// (lanes.ts), never in their interleaved order. Each check returns its
// problems as one line each; none means the recording is right.

import { lanesOf, laneNames, type Lane, type TraceEvent } from './lanes.js';

/** What a recording is checked against: the device, and the `setup` entry's
 * recording on the same kernel and device (the single-threaded answers). */
export interface CheckContext {
  group: number;
  setup: TraceEvent[];
}

interface CallSpec {
  ioctl: string;
  fd: 3 | 4 | 5 | 6;
  ret?: number;
  in?: { [field: string]: unknown };
  out?: { [field: string]: unknown };
}

const DMA_BASE = 0x7e0000000000;
const FD = {
  3: { fd_kind: 'container', fd_path: '/dev/vfio/vfio' },
  4: { fd_kind: 'group', fd_path: null }, // /dev/vfio/GROUP
  5: { fd_kind: 'device', fd_path: 'anon_inode:[vfio-device]' },
  6: { fd_kind: 'container', fd_path: '/dev/vfio/vfio' },
} as const;

const ioctlsOf = (l: Lane): TraceEvent[] => l.events.filter((e) => e.type === 'ioctl');

/** `want` holds for `got` when every field `want` names is equal. */
function fieldProblems(where: string, want: { [f: string]: unknown } | undefined, got: unknown): string[] {
  if (!want) return [];
  const g = (got ?? {}) as { [f: string]: unknown };
  return Object.entries(want)
    .filter(([k, v]) => JSON.stringify(g[k]) !== JSON.stringify(v))
    .map(([k, v]) => `${where}.${k}: ${JSON.stringify(g[k])}, want ${JSON.stringify(v)}`);
}

/** The lane's calls, exactly `specs`, in order. */
function callProblems(name: string, lane: Lane, specs: CallSpec[], ctx: CheckContext): string[] {
  const calls = ioctlsOf(lane);
  const out: string[] = [];
  if (calls.length !== specs.length) out.push(`${name} (tid ${lane.tid}): ${calls.length} calls (${calls.map((c) => c['ioctl']).join(', ')}), want ${specs.length}`);
  specs.forEach((s, i) => {
    const c = calls[i];
    if (!c) return;
    const at = `${name} call ${i} ${String(c['ioctl'])}`;
    const fd = FD[s.fd];
    const path = fd.fd_path ?? `/dev/vfio/${ctx.group}`;
    if (c['ioctl'] !== s.ioctl) out.push(`${at}: want ${s.ioctl}`);
    if (c['fd'] !== s.fd || c['fd_kind'] !== fd.fd_kind || c['fd_path'] !== path) out.push(`${at}: fd ${String(c['fd'])} ${String(c['fd_kind'])} ${JSON.stringify(c['fd_path'])}, want ${s.fd} ${fd.fd_kind} ${JSON.stringify(path)}`);
    if (c['ret'] !== (s.ret ?? 0)) out.push(`${at}: returned ${String(c['ret'])} ${String(c['errno'] ?? '')}, want ${s.ret ?? 0}`);
    if (c['incomplete'] !== false) out.push(`${at}: incomplete`);
    out.push(...fieldProblems(`${at}: in`, s.in, c['in']), ...fieldProblems(`${at}: out`, s.out, c['out']));
  });
  return out;
}

/** The kernel's answer to `ioctl` (for `index`, if given) in the single-threaded setup recording. */
function setupAnswer(ctx: CheckContext, ioctl: string, index?: number): { [f: string]: unknown } {
  const c = ctx.setup.find((e) => e['ioctl'] === ioctl && (index === undefined || (e['in'] as { index?: number } | null)?.index === index) && e['ret'] === 0);
  if (!c) throw new Error(`the setup recording has no successful ${ioctl}${index === undefined ? '' : ` for index ${index}`}`);
  return c['out'] as { [f: string]: unknown };
}

function kinds(lanes: Lane[]): string {
  return laneNames(lanes).join(', ');
}

function processEvents(lane: Lane): string[] {
  return lane.events.filter((e) => e.type !== 'ioctl').map((e) => e.type);
}

/** common.h's rk_open and the device info every one of these clients asks first. */
const setupCalls = (ctx: CheckContext): CallSpec[] => [
  { ioctl: 'VFIO_GROUP_SET_CONTAINER', fd: 4 },
  { ioctl: 'VFIO_SET_IOMMU', fd: 3 },
  { ioctl: 'VFIO_GROUP_GET_DEVICE_FD', fd: 4, ret: 5 },
  { ioctl: 'VFIO_DEVICE_GET_INFO', fd: 5, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_INFO') },
];

/** threads: the main thread's 6 calls; three threads, one per index k, each 4 rounds of region info k, IRQ info k, a map and its unmap. */
export function checkThreads(events: TraceEvent[], ctx: CheckContext): string[] {
  const lanes = lanesOf(events);
  const main = lanes[0]!;
  const threads = lanes.filter((l) => l.kind === 'thread');
  if (lanes.length !== 4 || main.kind !== 'main' || threads.length !== 3) return [`want the main thread and 3 threads, got ${kinds(lanes)}`];
  const out = callProblems('main', main, [...setupCalls(ctx), { ioctl: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, in: { flags: 2, iova: 0, size: 0 }, out: { size: 0 } }, { ioctl: 'VFIO_GROUP_UNSET_CONTAINER', fd: 4 }], ctx);
  if (processEvents(main).join() !== 'start,exec,exit') out.push(`main: events ${processEvents(main).join()}, want start,exec,exit`);
  const seen = new Set<number>();
  threads.forEach((t, n) => {
    const name = `thread ${n + 1}`;
    const first = t.events[0]!;
    if (first.type !== 'thread' || first['creator'] !== main.pid) out.push(`${name}: first event ${JSON.stringify(first)}, want a thread event created by ${main.pid}`);
    const k = (ioctlsOf(t)[0]?.['in'] as { index?: number } | undefined)?.index ?? -1;
    seen.add(k);
    const specs: CallSpec[] = [];
    for (let round = 0; round < 4; round++) {
      const iova = 0x10000000 * (k + 1) + round * 0x40000;
      specs.push(
        { ioctl: 'VFIO_DEVICE_GET_REGION_INFO', fd: 5, in: { index: k }, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_REGION_INFO', k) },
        { ioctl: 'VFIO_DEVICE_GET_IRQ_INFO', fd: 5, in: { index: k }, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_IRQ_INFO', k) },
        { ioctl: 'VFIO_IOMMU_MAP_DMA', fd: 3, in: { flags: 3, vaddr: DMA_BASE + (k * 4 + round) * 0x40000, iova, size: 0x40000 } },
        { ioctl: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, in: { iova, size: 0x40000 }, out: { size: 0x40000 } },
      );
    }
    out.push(...callProblems(`${name} (index ${k})`, t, specs, ctx));
  });
  if ([...seen].sort().join() !== '0,1,2') out.push(`the threads used indexes ${[...seen].sort().join()}, want 0,1,2`);
  return out;
}

const parentCalls = (ctx: CheckContext): CallSpec[] => [
  ...setupCalls(ctx),
  { ioctl: 'VFIO_IOMMU_MAP_DMA', fd: 3, in: { vaddr: DMA_BASE, iova: 0, size: 0x100000 } },
  { ioctl: 'VFIO_DEVICE_GET_INFO', fd: 5, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_INFO') },
  { ioctl: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, in: { iova: 0x100000, size: 0x100000 }, out: { size: 0 } },
  { ioctl: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, in: { iova: 0, size: 0x100000 }, out: { size: 0x100000 } },
  { ioctl: 'VFIO_GROUP_UNSET_CONTAINER', fd: 4 },
];

/** forks with -f: the parent's 9 calls and the child's 7, under the child's
 * own pid, on the fds it inherited (and fd 6, its own container). */
export function checkForks(events: TraceEvent[], ctx: CheckContext): string[] {
  const lanes = lanesOf(events);
  const [main, child] = lanes;
  if (lanes.length !== 2 || main!.kind !== 'main' || child!.kind !== 'child') return [`want the parent and one child, got ${kinds(lanes)}`];
  const out = callProblems('parent', main!, parentCalls(ctx), ctx);
  const start = child!.events[0]!;
  if (start.type !== 'start' || start['parent'] !== main!.pid) out.push(`child: first event ${JSON.stringify(start)}, want its start with parent ${main!.pid}`);
  const exit = child!.events.at(-1)!;
  if (exit.type !== 'exit' || exit['status'] !== 0) out.push(`child: last event ${JSON.stringify(exit)}, want exit 0`);
  out.push(
    ...callProblems('child', child!, [
      { ioctl: 'VFIO_DEVICE_GET_INFO', fd: 5, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_INFO') },
      { ioctl: 'VFIO_GROUP_GET_STATUS', fd: 4, out: { flags: 3 } },
      { ioctl: 'VFIO_DEVICE_GET_REGION_INFO', fd: 5, in: { index: 7 }, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_REGION_INFO', 7) },
      { ioctl: 'VFIO_IOMMU_MAP_DMA', fd: 3, in: { vaddr: DMA_BASE + 0x100000, iova: 0x100000, size: 0x100000 } },
      { ioctl: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, in: { iova: 0x100000, size: 0x100000 }, out: { size: 0x100000 } },
      { ioctl: 'VFIO_GET_API_VERSION', fd: 6 },
      { ioctl: 'VFIO_CHECK_EXTENSION', fd: 6, ret: 1 },
    ], ctx),
  );
  return out;
}

/** forks without -f: the parent's 9 calls and nothing of the child. */
export function checkForksNoFollow(events: TraceEvent[], ctx: CheckContext): string[] {
  const lanes = lanesOf(events);
  if (lanes.length !== 1 || lanes[0]!.kind !== 'main') return [`want the parent only, got ${kinds(lanes)}`];
  return callProblems('parent', lanes[0]!, parentCalls(ctx), ctx);
}

/** attach: only the calls between the attach and the detach, 3 by the main
 * thread and 4 by the thread that existed before the attach (a THREAD record
 * with creator 0 introduces it), on fds opened before it; both threads
 * detached, nothing exited. */
export function checkAttach(events: TraceEvent[], ctx: CheckContext): string[] {
  const lanes = lanesOf(events);
  const [main, worker] = lanes;
  if (lanes.length !== 2 || main!.kind !== 'main' || worker!.kind !== 'thread') return [`want the main thread and one thread, got ${kinds(lanes)}`];
  const out = callProblems('main', main!, [
    { ioctl: 'VFIO_DEVICE_GET_INFO', fd: 5, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_INFO') },
    { ioctl: 'VFIO_GROUP_GET_STATUS', fd: 4, out: { flags: 3 } },
    { ioctl: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, in: { iova: 0, size: 0x100000 }, out: { size: 0x100000 } },
  ], ctx);
  out.push(
    ...callProblems('thread', worker!, [
      { ioctl: 'VFIO_DEVICE_GET_IRQ_INFO', fd: 5, in: { index: 0 }, out: setupAnswer(ctx, 'VFIO_DEVICE_GET_IRQ_INFO', 0) },
      { ioctl: 'VFIO_IOMMU_MAP_DMA', fd: 3, in: { vaddr: DMA_BASE + 0x100000, iova: 0x20000000, size: 0x100000 } },
      { ioctl: 'VFIO_IOMMU_UNMAP_DMA', fd: 3, in: { iova: 0x20000000, size: 0x100000 }, out: { size: 0x100000 } },
      { ioctl: 'VFIO_CHECK_EXTENSION', fd: 3, ret: 1 },
    ], ctx),
  );
  const start = main!.events[0]!;
  if (start.type !== 'start' || start['parent'] !== 0 || start['comm'] !== 'attach') out.push(`main: first event ${JSON.stringify(start)}, want an attach start (parent 0, comm attach)`);
  if (processEvents(main!).join() !== 'start,detached') out.push(`main: events ${processEvents(main!).join()}, want start,detached`);
  // the thread already ran at the attach: introduced with creator 0
  const introduced = worker!.events[0]!;
  if (introduced.type !== 'thread' || introduced['creator'] !== 0) out.push(`thread: first event ${JSON.stringify(introduced)}, want a thread event with creator 0`);
  if (processEvents(worker!).join() !== 'thread,detached') out.push(`thread: events ${processEvents(worker!).join()}, want thread,detached`);
  const end = events.find((e) => e.type === 'end');
  if (end?.['reason'] !== 'detached' || end['status'] !== 0 || end['events'] !== 7) out.push(`end ${JSON.stringify(end)}, want detached, status 0, 7 events`);
  return out;
}

/** The check of each corpus entry that has one (the others are held to their goldens only). */
export const TRACER_CHECKS: { readonly [entry: string]: (events: TraceEvent[], ctx: CheckContext) => string[] } = {
  threads: checkThreads,
  forks: checkForks,
  'forks-nofollow': checkForksNoFollow,
  attach: checkAttach,
};
