// -s limits what is recorded and shown, never what the emulated kernel reads:
// clients whose payloads are longer than the cap must run exactly as without
// it (docs/emulation.md, "What -s changes"). Needs root and ptrace.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import type { DecodedIoctl } from '../../src/decode/types.js';
import type { Profile } from '../../src/emulate/profile.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { startEmulatedTrace, type EmulationPath } from '../../src/emulate/session.js';
import { IOCTL_FLAG } from '../../src/trace/events.js';
import { liveCaptureRules, openPipeline } from '../../src/session/pipeline.js';
import { fixture, onPath, tracerUnavailable } from '../helpers/trace.js';

const skip = emulationUnavailable() ?? tracerUnavailable() ?? (existsSync(fixture('demo_client')) ? null : 'demo client not built');
if (skip) console.warn(`skipping -s emulation tests: ${skip}`);

async function ioctlsUnder(profile: Profile, command: string[], payloadCap: number, via?: EmulationPath): Promise<DecodedIoctl[]> {
  const s = startEmulatedTrace({ command, rules: liveCaptureRules(), follow: true, payloadCap }, { profile, ...(via ? { via } : {}) });
  const p = await openPipeline(s.stream, {});
  const out: DecodedIoctl[] = [];
  for await (const e of p.events()) if (e.kind === 'ioctl') out.push(e);
  await s.done;
  return out;
}

describe.skipIf(skip !== null)('-s under emulation: the kernel reads everything, the trace shows the cap', () => {
  for (const [profile, mode] of [['x86-pci', 'type1'], ['power-eeh', 'spapr']] as const) {
    for (const cap of [0, 8, 16]) {
      it(`${profile}: the demo client completes with -s ${cap}, and no payload shown is longer than ${cap} bytes`, async () => {
        const ioctls = await ioctlsUnder(resolveProfile(profile), [fixture('demo_client'), mode], cap);
        expect(ioctls.length).toBeGreaterThan(15);
        for (const e of ioctls) {
          expect(e.ret.value, `${e.ioctl} failed: ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
          expect(e.record.flags & IOCTL_FLAG.EMULATED).toBe(IOCTL_FLAG.EMULATED);
          expect(e.record.entry.length).toBeLessThanOrEqual(cap);
          expect(e.record.exit.length).toBeLessThanOrEqual(cap);
          // What was not recorded is cut by the cap, not unreadable.
          expect(e.record.flags & IOCTL_FLAG.IN_FAULT).toBe(0);
        }
        const dev = ioctls.find((e) => e.ioctl === 'VFIO_GROUP_GET_DEVICE_FD')!;
        expect(dev.ret.newFd?.kind).toBe('device');
        // Payloads longer than the cap are recorded cut, and say so.
        const longer = ioctls.filter((e) => e.record.wantLen > cap);
        expect(longer.length).toBeGreaterThan(5);
        for (const e of longer) expect(e.record.flags & IOCTL_FLAG.TRUNCATED, e.ioctl ?? '').toBe(IOCTL_FLAG.TRUNCATED);
      }, 60_000);
    }
  }
});

const qemuX86 = onPath('qemu-system-x86_64');
if (!skip && !qemuX86) console.warn('skipping QEMU -s emulation test: qemu-system-x86_64 not installed (apt-get install qemu-system-x86)');

describe.skipIf(skip !== null || !qemuX86).each(['notify', 'ptrace'] as const)('QEMU x86_64 q35 under x86-pci with -s 16, answered by %s', (via) => {
  it('realizes vfio-pci: DMA maps and region info succeed, info pci shows the device', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vft-emu-cap-'));
    try {
      const out = join(dir, 'qemu.txt');
      const p = resolveProfile('x86-pci');
      const q = `qemu-system-x86_64 -M q35 -S -display none -nodefaults -monitor stdio -device vfio-pci,host=${p.address}`;
      const ioctls = await ioctlsUnder(p, ['sh', '-c', `printf 'info pci\\nquit\\n' | ${q} > ${out} 2>&1`], 16, via);
      const log = readFileSync(out, 'utf8');
      expect(log).not.toMatch(/Bad address/);
      expect(log).toMatch(/PCI device 8086:10d3/);
      for (const e of ioctls) expect(e.ret.value, `${e.ioctl} ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
      expect(ioctls.filter((e) => e.ioctl === 'VFIO_IOMMU_MAP_DMA').length).toBeGreaterThan(0);
      for (const e of ioctls) expect(e.record.entry.length).toBeLessThanOrEqual(16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
