// The slow check: boots Debian's 6.1 and 6.12 kernels under TCG (scripts/
// realkernel/), re-records the corpus on real vfio-pci and fails when a
// decoded recording no longer matches its golden, or when the tracer's own
// checks (tracer-checks.ts: threads, forks, -p attach) fail on the new
// recordings. Recordings are compared thread by thread with pids, tids,
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
import { GOLDEN_DIR, ROOT, decodeFileAsync, ioctls, pool, readManifest } from './differential.js';
import { compareLanes, type TraceEvent } from './lanes.js';
import { TRACER_CHECKS } from './tracer-checks.js';

const optOut = process.env['VFIOTRACE_REALKERNEL'] === '0';

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
    const boot = (await import(script('boot.mjs'))) as { bootGuest(k: unknown): Promise<GuestRun> };
    const golden = readManifest(series);
    const items = golden.devices.flatMap((d) => golden.clients.map((e) => ({ entry: e.name, device: d, name: `${e.name}.${d.name}` })));
    // The goldens decode on the other core while the guest runs on one.
    const goldenEvents = pool(items.map((i) => () => decodeFileAsync(path.join(GOLDEN_DIR, series, `${i.name}.vft`))), 2);
    goldenEvents.catch(() => {}); // awaited below, unless the boot fails first
    const run = await boot.bootGuest(fetch.prepareKernel(series));
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
      expect(diffs).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
