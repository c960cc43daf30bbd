// What emulation costs a real client: Debian's ppc64el kernel booting under
// qemu-system-ppc64 -M pseries (TCG) to its /init ("vfiotrace-guest: ready"),
//   bare     without the vfio-pci function and without vfiotrace;
//   notify   with the function, answered by the emulated power-eeh kernel
//            through the engine's seccomp listener, every call recorded;
//   ptrace   the same, answered at ptrace stops (with --ptrace: ~40 s a boot).
// At reset QEMU unmaps its whole TCE window page by page (262,144
// VFIO_IOMMU_UNMAP_DMA calls): that storm is what the emulated path pays for.
// Medians of alternating runs; needs the guest's files (vfiotrace demo
// --guest eeh --fetch-only).
//
//   node dist/bench/guestBoot.js [RUNS] [--ptrace]   (also: npm run bench -- --only guest)

import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureAssets } from '../src/guest/assets.js';
import { connectConsole, qemuArgv } from '../src/guest/console.js';
import { buildInitramfs, GUEST_MARK } from '../src/guest/initramfs.js';
import { resolveProfile } from '../src/emulate/profiles/index.js';
import { startEmulatedTrace, type EmulationPath } from '../src/emulate/session.js';
import { liveCaptureRules } from '../src/session/pipeline.js';
import { median } from './figures.js';

type Mode = 'bare' | EmulationPath;

interface Boot {
  seconds: number;
  calls: number;
}

/** Boots once; settles when the guest's /init first speaks (QEMU is then stopped). */
async function boot(mode: Mode, work: string, kernel: string, initrd: string): Promise<Boot> {
  const profile = resolveProfile('power-eeh');
  const sock = path.join(work, `console-${mode}.sock`);
  rmSync(sock, { force: true });
  const argv = qemuArgv({ kernel, initrd, sock, address: mode === 'bare' ? null : profile.address });
  const record = path.join(work, 'boot.vft');
  const t0 = process.hrtime.bigint();
  let stop: () => void;
  let ended: Promise<unknown>;
  let alive = true;
  let calls = 0;
  if (mode === 'bare') {
    const q = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    ended = new Promise((r) => q.on('exit', r));
    stop = () => q.kill('SIGTERM');
  } else {
    const s = startEmulatedTrace({ command: argv, rules: liveCaptureRules() }, { profile, via: mode });
    s.stream.pipe(createWriteStream(record));
    ended = s.done.then((r) => (calls = Number(r.events)));
    stop = () => s.end('SIGTERM');
  }
  void ended.finally(() => (alive = false));
  let ready: () => void;
  const up = new Promise<void>((r) => (ready = r));
  const con = await connectConsole(sock, (line) => {
    if (line.startsWith(GUEST_MARK)) ready(); // bare: "no PCI function found", at the same point
  }, 120_000, () => alive);
  await Promise.race([up, ended.then(() => Promise.reject(new Error(`${mode}: QEMU ended before the guest was up`)))]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  con.close();
  stop!();
  await ended;
  if (mode !== 'bare' && statSync(record).size === 0) throw new Error(`${mode}: nothing recorded`);
  return { seconds, calls };
}

async function main(): Promise<void> {
  const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 3);
  const modes: Mode[] = ['bare', 'notify', ...(process.argv.includes('--ptrace') ? ['ptrace' as const] : [])];
  const assets = ensureAssets();
  const work = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-bench-guest-'));
  const initrd = path.join(work, 'initramfs.cpio');
  writeFileSync(initrd, buildInitramfs(assets.busybox));
  const times = new Map<Mode, number[]>(modes.map((m) => [m, []]));
  const calls = new Map<Mode, number>();
  try {
    for (let i = 0; i < runs; i++) {
      for (const m of modes) {
        const b = await boot(m, work, assets.kernel, initrd);
        times.get(m)!.push(b.seconds);
        calls.set(m, b.calls);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const bare = median(times.get('bare')!);
  console.log(`pseries boot to /init, bare: ${bare.toFixed(1)} s (medians of ${runs})`);
  for (const m of modes.filter((x) => x !== 'bare')) {
    const t = median(times.get(m)!);
    console.log(`pseries boot with vfio-pci under emulate (${m}): ${t.toFixed(1)} s, ${(t / bare).toFixed(2)}x bare, ${calls.get(m)!.toLocaleString('en')} calls recorded`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
