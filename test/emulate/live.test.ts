// Real clients under the emulated kernel: the demo client (both machines)
// and, when installed, QEMU realizing `-device vfio-pci,host=ADDR`. Needs
// root (private /dev and /sys mounts) and ptrace.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atLeast, audit } from '../../src/audit/index.js';
import { emulationUnavailable, runDemoEmulated } from '../../src/commands/emulate.js';
import type { DecodedEvent, DecodedIoctl } from '../../src/decode/types.js';
import { parseEehScript } from '../../src/emulate/eehScript.js';
import type { Profile } from '../../src/emulate/profile.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { startEmulatedTrace, type EmulationPath } from '../../src/emulate/session.js';
import { PendingTap } from '../../src/emulate/tap.js';
import { IOCTL_FLAG, type IoctlRecord } from '../../src/trace/events.js';
import { openPipeline, liveCaptureRules } from '../../src/session/pipeline.js';
import { fixture, onPath, tracerUnavailable } from '../helpers/trace.js';

const skip = emulationUnavailable() ?? tracerUnavailable() ?? (existsSync(fixture('demo_client')) ? null : 'demo client not built');
if (skip) console.warn(`skipping live emulation tests: ${skip}`);

async function traceUnder(profile: Profile, command: string[], eeh = '', follow = false, via?: EmulationPath): Promise<{ events: DecodedEvent[]; ioctls: DecodedIoctl[] }> {
  const s = startEmulatedTrace({ command, rules: liveCaptureRules(), follow }, { profile, eeh: eeh ? parseEehScript(eeh) : [], ...(via ? { via } : {}) });
  if (via) expect(s.via).toBe(via);
  const p = await openPipeline(s.stream, {});
  const events: DecodedEvent[] = [];
  for await (const e of p.events()) events.push(e);
  await s.done;
  return { events, ioctls: events.filter((e): e is DecodedIoctl => e.kind === 'ioctl') };
}

describe.skipIf(skip !== null)('the demo client under the emulated kernel', () => {
  it('power-eeh: every call succeeds, replies are marked emulated, the EEH freeze and recovery show', async () => {
    const { events, ioctls } = await traceUnder(resolveProfile('power-eeh'), [fixture('demo_client'), 'spapr'], 'after 1 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE');
    expect(ioctls.length).toBeGreaterThan(20);
    for (const e of ioctls) {
      expect(e.ioctl, `undecoded request 0x${e.request.toString(16)}`).not.toBeNull();
      expect(e.ret.value, `${e.ioctl} failed: ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
      expect(e.record.flags & IOCTL_FLAG.EMULATED).toBe(IOCTL_FLAG.EMULATED);
    }
    const eeh = ioctls.filter((e) => e.ioctl === 'VFIO_EEH_PE_OP');
    expect(eeh.map((e) => e.ret.value)).toEqual([0, 2, 0, 0, 0, 0, 0, 0]);
    const dev = ioctls.find((e) => e.ioctl === 'VFIO_GROUP_GET_DEVICE_FD')!;
    expect(dev.ret.newFd?.kind).toBe('device');
    // The backing file is shown by the kernel's name for a device fd.
    for (const e of ioctls.filter((x) => x.fd === dev.ret.value)) expect([e.fdKind, e.fdPath]).toEqual(['device', 'anon_inode:[vfio-device]']);
    expect(audit(events).filter((f) => atLeast(f.severity, 'warning'))).toEqual([]);
  });

  it('x86-pci: the type1 bring-up succeeds, including the IOMMU info caps retry', async () => {
    const { events, ioctls } = await traceUnder(resolveProfile('x86-pci'), [fixture('demo_client'), 'type1']);
    expect(ioctls.length).toBeGreaterThan(15);
    for (const e of ioctls) expect(e.ret.value, `${e.ioctl} ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
    const info = ioctls.find((e) => e.ioctl === 'VFIO_IOMMU_GET_INFO' && e.ret.value === 0 && e.record.entry.length > 24);
    expect(info, 'the caps retry with the bigger argsz').toBeDefined();
    expect(audit(events).filter((f) => atLeast(f.severity, 'warning'))).toEqual([]);
  });

  it('the session stream keeps no PENDING records (they carry whole payloads, past -s): every call is one IOCTL record', async () => {
    const s = startEmulatedTrace({ command: [fixture('demo_client'), 'type1'], rules: liveCaptureRules() }, { profile: resolveProfile('x86-pci'), eeh: [] });
    const pending: IoctlRecord[] = [];
    const tap = new PendingTap((r) => pending.push(r));
    s.stream.pipe(tap);
    const p = await openPipeline(tap, {});
    let calls = 0;
    for await (const e of p.events()) if (e.kind === 'ioctl') calls++;
    await s.done;
    expect(calls).toBeGreaterThan(15);
    expect(pending).toEqual([]);
  });

  it('runDemoEmulated (what npm start runs) prints the session and a closing note', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vft-emu-demo-'));
    try {
      const out = join(dir, 'out.txt');
      const r = await runDemoEmulated(fixture('demo_client'), 'power-eeh', { output: out, findings: 'info', fdPaths: true });
      expect(r.code).toBe(0);
      const text = readFileSync(out, 'utf8');
      expect(text).toMatch(/VFIO_EEH_PE_GET_STATE\}\) = 2 \(PE state VFIO_EEH_PE_STATE_STOPPED\)/);
      expect(text).not.toMatch(/= -1 E/);
      expect(r.note).toMatch(/answered by the emulated power-eeh kernel/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const qemuX86 = onPath('qemu-system-x86_64');
const qemuPpc = onPath('qemu-system-ppc64');
if (!skip && (!qemuX86 || !qemuPpc)) console.warn('skipping QEMU emulation tests: qemu-system-x86_64 / qemu-system-ppc64 not installed (apt-get install qemu-system-x86 qemu-system-ppc)');

/** QEMU with its monitor on stdin: `info pci`, then quit; output in a file. */
function qemuCommand(bin: string, machine: string, out: string, addr: string): string[] {
  const q = `${bin} -M ${machine} -S -display none -nodefaults -monitor stdio -device vfio-pci,host=${addr}`;
  return ['sh', '-c', `printf 'info pci\\nquit\\n' | ${q} > ${out} 2>&1`];
}

/** QEMU realizes its device whichever way the calls are answered. */
const PATHS: readonly EmulationPath[] = ['notify', 'ptrace'];

describe.skipIf(skip !== null || !qemuX86).each(PATHS)('QEMU x86_64 under x86-pci, answered by %s', (via) => {
  it('realizes vfio-pci: info pci shows the profile’s vendor:device, every VFIO ioctl decoded and successful', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vft-emu-qemu-'));
    try {
      const out = join(dir, 'qemu.txt');
      const p = resolveProfile('x86-pci', { address: '0000:03:00.0', group: 7 });
      const { events, ioctls } = await traceUnder(p, qemuCommand('qemu-system-x86_64', 'q35', out, p.address), '', true, via);
      expect(readFileSync(out, 'utf8')).toMatch(/PCI device 8086:10d3/);
      const names = new Set(ioctls.map((e) => e.ioctl));
      for (const n of ['VFIO_GROUP_GET_STATUS', 'VFIO_SET_IOMMU', 'VFIO_IOMMU_GET_INFO', 'VFIO_IOMMU_MAP_DMA', 'VFIO_GROUP_GET_DEVICE_FD', 'VFIO_DEVICE_GET_INFO', 'VFIO_DEVICE_GET_REGION_INFO', 'VFIO_DEVICE_GET_IRQ_INFO', 'VFIO_DEVICE_SET_IRQS', 'VFIO_DEVICE_RESET']) {
        expect(names.has(n), n).toBe(true);
      }
      for (const e of ioctls) {
        expect(e.ioctl).not.toBeNull();
        expect(e.ret.value, `${e.ioctl} ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
      }
      expect(ioctls.find((e) => e.ioctl === 'VFIO_GROUP_GET_STATUS')!.fdPath).toBe('/dev/vfio/7');
      expect(audit(events).filter((f) => atLeast(f.severity, 'warning'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(skip !== null || !qemuPpc).each(PATHS)('QEMU ppc64 pseries under power-eeh, answered by %s', (via) => {
  it('sets up sPAPR TCE v2 and issues VFIO_EEH_PE_OP(ENABLE) from the PHB reset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vft-emu-qemu-'));
    try {
      const out = join(dir, 'qemu.txt');
      const p = resolveProfile('power-eeh');
      const { ioctls } = await traceUnder(p, qemuCommand('qemu-system-ppc64', 'pseries', out, p.address), '', true, via);
      expect(readFileSync(out, 'utf8')).toMatch(/PCI device 15b3:1013/);
      const names = ioctls.map((e) => e.ioctl);
      for (const n of ['VFIO_IOMMU_SPAPR_REGISTER_MEMORY', 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', 'VFIO_IOMMU_SPAPR_TCE_REMOVE', 'VFIO_IOMMU_SPAPR_TCE_CREATE']) expect(names, n).toContain(n);
      const enable = ioctls.find((e) => e.ioctl === 'VFIO_EEH_PE_OP');
      expect(enable?.in?.children?.find((c) => c.name === 'op')?.display).toBe('VFIO_EEH_PE_ENABLE');
      for (const e of ioctls) expect(e.ret.value, `${e.ioctl} ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
