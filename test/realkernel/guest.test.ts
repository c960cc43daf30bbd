// The slow check: boots Debian's 6.1 and 6.12 kernels under TCG (scripts/
// realkernel/), re-records the corpus on real vfio-pci and fails when a
// decoded recording no longer matches its golden, or when the tracer's own
// checks (tracer-checks.ts: threads, forks, -p attach) fail on the new
// recordings. The same clients recorded with the eBPF backend
// (BPF_CORPUS) must match the goldens of their ptrace twins: the backend on
// real vfio-pci and on kernels other than the host's. Recordings are
// compared thread by thread with pids, tids,
// times and seq numbers normalised (lanes.ts), so the scheduler's choices do
// not matter. Needs qemu-system-x86 and apt (the kernel packages are
// downloaded once into ~/.cache/vfiotrace/realkernel); a missing one fails
// the test with the reason. Opt out locally with VFIOTRACE_REALKERNEL=0 (the
// skip names itself).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, ROOT, decodeFileAsync, ioctls, pool, readManifest, type Manifest } from './differential.js';
import { compareLanes, type TraceEvent } from './lanes.js';
import { TRACER_CHECKS } from './tracer-checks.js';

const optOut = process.env['VFIOTRACE_REALKERNEL'] === '0';

/** A corpus entry recorded with the eBPF backend, held to its ptrace twin's golden. */
interface BpfEntry {
  name: string;
  client: string;
  record: string;
  backend?: string;
  twin?: string;
}

interface GuestRun {
  release: string;
  devices: { name: string; address: string; group: number }[];
  items: { [item: string]: Buffer };
  status: { [item: string]: number };
}

describe.skipIf(optOut)(`the corpus re-recorded on real kernels${optOut ? ' (skipped: VFIOTRACE_REALKERNEL=0)' : ''}`, () => {
  it.each(['6.1', '6.12'])('kernel %s answers as its goldens, and the tracer follows its threads, forks and attaches', async (series) => {
    const script = (f: string): string => pathToFileURL(path.join(ROOT, 'scripts', 'realkernel', f)).href;
    const fetch = (await import(script('fetch.mjs'))) as { prepareKernel(s: string): unknown };
    const boot = (await import(script('boot.mjs'))) as { bootGuest(k: unknown, o: { corpus: BpfEntry[] }): Promise<GuestRun>; CORPUS: BpfEntry[]; BPF_CORPUS: BpfEntry[] };
    const golden = readManifest(series);
    const items = golden.devices.flatMap((d) => golden.clients.map((e) => ({ entry: e.name, device: d, name: `${e.name}.${d.name}` })));
    // The goldens decode on the other core while the guest runs on one.
    const goldenEvents = pool(items.map((i) => () => decodeFileAsync(path.join(GOLDEN_DIR, series, `${i.name}.vft`))), 2);
    goldenEvents.catch(() => {}); // awaited below, unless the boot fails first
    const run = await boot.bootGuest(fetch.prepareKernel(series), { corpus: [...boot.CORPUS, ...boot.BPF_CORPUS] });
    expect(run.devices).toEqual(golden.devices);
    const dir = mkdtempSync(path.join(tmpdir(), 'vft-rk-guest-'));
    try {
      const exits = Object.fromEntries(Object.keys(golden.status).map((k) => [k, run.status[k]]));
      expect(exits, 'exit statuses (the recorder, and for attach also the client)').toEqual(golden.status);
      for (const i of items) writeFileSync(path.join(dir, `${i.name}.vft`), run.items[`${i.name}.vft`]!);
      const now = await pool(items.map((i) => () => decodeFileAsync(path.join(dir, `${i.name}.vft`))), 2);
      const was = await goldenEvents;
      const byName = new Map<string, TraceEvent[]>(items.map((i, k) => [i.name, now[k]!]));
      const diffs: string[] = [];
      items.forEach((i, k) => {
        for (const d of compareLanes(was[k]!, now[k]!)) diffs.push(`${i.name} on ${run.release}: ${d}`);
        const out = readFileSync(path.join(GOLDEN_DIR, series, `${i.name}.out`));
        if (!out.equals(run.items[`${i.name}.out`]!)) diffs.push(`${i.name} on ${run.release}: client output ${JSON.stringify(run.items[`${i.name}.out`]!.toString())}, golden ${JSON.stringify(out.toString())}`);
        const check = TRACER_CHECKS[i.entry];
        if (check) {
          const ctx = { group: i.device.group, setup: ioctls(byName.get(`setup.${i.device.name}`)!) };
          for (const p of check(now[k]!, ctx)) diffs.push(`${i.name} on ${run.release}: ${p}`);
        }
      });
      const twins = { series, release: run.release, golden: new Map(items.map((i, k) => [i.name, was[k]!])), setup: byName };
      for (const e of boot.BPF_CORPUS) for (const d of golden.devices) diffs.push(...(await bpfTwinDiffs(e, d, run, golden, twins, dir)));
      expect(diffs).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});

/**
 * What an eBPF recording of `e` on device `d` does differently from the
 * golden of its ptrace twin: exit statuses, lanes, the client's output and
 * the tracer's checks.
 */
async function bpfTwinDiffs(
  e: BpfEntry,
  d: Manifest['devices'][number],
  run: GuestRun,
  golden: Manifest,
  twins: { series: string; release: string; golden: Map<string, TraceEvent[]>; setup: Map<string, TraceEvent[]> },
  dir: string,
): Promise<string[]> {
  const name = `${e.name}.${d.name}`;
  const twin = `${e.twin ?? e.client}.${d.name}`;
  const at = `${name} (eBPF) on ${twins.release}`;
  const diffs: string[] = [];
  for (const suffix of ['', '.client']) {
    if (golden.status[twin + suffix] !== undefined && run.status[name + suffix] !== golden.status[twin + suffix]) {
      diffs.push(`${at}: exit status${suffix} ${run.status[name + suffix]}, golden ${golden.status[twin + suffix]}`);
    }
  }
  const file = path.join(dir, `${name}.vft`);
  writeFileSync(file, run.items[`${name}.vft`] ?? Buffer.alloc(0));
  const now = await decodeFileAsync(file);
  for (const x of compareLanes(twins.golden.get(twin) ?? [], now)) diffs.push(`${at}: ${x}`);
  const out = readFileSync(path.join(GOLDEN_DIR, twins.series, `${twin}.out`));
  if (!out.equals(run.items[`${name}.out`] ?? Buffer.alloc(0))) diffs.push(`${at}: client output differs from the golden's`);
  const check = TRACER_CHECKS[e.twin ?? e.client];
  if (check) {
    for (const p of check(now, { group: d.group, setup: ioctls(twins.setup.get(`setup.${d.name}`) ?? []) })) diffs.push(`${at}: ${p}`);
  }
  return diffs;
}
