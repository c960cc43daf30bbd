// The slow check: boots Debian's 6.1 and 6.12 kernels under TCG (scripts/
// realkernel/), re-records the corpus on real vfio-pci and fails when a
// decoded recording no longer matches its golden. Needs qemu-system-x86 and
// apt (the kernel packages are downloaded once into ~/.cache/vfiotrace/
// realkernel); a missing one fails the test with the reason. Opt out locally
// with VFIOTRACE_REALKERNEL=0 (the skip names itself).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, ROOT, readManifest } from './differential.js';

const optOut = process.env['VFIOTRACE_REALKERNEL'] === '0';
const CLI = path.join(ROOT, 'bin', 'vfiotrace.js');

interface GuestRun {
  release: string;
  devices: { name: string; address: string; group: number }[];
  items: Record<string, Buffer>;
  status: Record<string, number>;
}

/** Decoded text with what legitimately varies between runs (pids) normalised. */
function showText(file: string): string {
  const r = spawnSync(process.execPath, [CLI, 'show', file], { encoding: 'utf8' });
  return r.stdout.replace(/\[pid \d+\]/g, '[pid N]');
}

describe.skipIf(optOut)(`the corpus re-recorded on real kernels${optOut ? ' (skipped: VFIOTRACE_REALKERNEL=0)' : ''}`, () => {
  it.each(['6.1', '6.12'])('kernel %s answers as its goldens', async (series) => {
    const script = (f: string): string => pathToFileURL(path.join(ROOT, 'scripts', 'realkernel', f)).href;
    const fetch = (await import(script('fetch.mjs'))) as { prepareKernel(s: string): unknown };
    const boot = (await import(script('boot.mjs'))) as { bootGuest(k: unknown): Promise<GuestRun> };
    const run = await boot.bootGuest(fetch.prepareKernel(series));
    const golden = readManifest(series);
    expect(run.devices).toEqual(golden.devices);
    const dir = mkdtempSync(path.join(tmpdir(), 'vft-rk-guest-'));
    try {
      const diffs: string[] = [];
      for (const d of golden.devices) {
        for (const c of golden.clients) {
          const name = `${c}.${d.name}`;
          expect(run.status[name], `${name} exit status`).toBe(0);
          const file = path.join(dir, `${name}.vft`);
          writeFileSync(file, run.items[`${name}.vft`]!);
          const now = showText(file);
          const was = showText(path.join(GOLDEN_DIR, series, `${name}.vft`));
          if (now !== was) diffs.push(`${name} on ${run.release}:\n--- golden\n${was}\n+++ now\n${now}`);
          const out = readFileSync(path.join(GOLDEN_DIR, series, `${name}.out`));
          if (!out.equals(run.items[`${name}.out`]!)) diffs.push(`${name} on ${run.release}: client output ${JSON.stringify(run.items[`${name}.out`]!.toString())}, golden ${JSON.stringify(out.toString())}`);
        }
      }
      expect(diffs).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
