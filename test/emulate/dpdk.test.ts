// DPDK 22.11's testpmd (Debian's dpdk-dev) under `vfiotrace emulate --device
// x86-pci`, as a user would run it: with no workaround it must find vfio-pci
// loaded and bound (the emulated sysfs), complete its whole VFIO setup, and
// leave a recording with every ioctl decoded and nothing for the audit to
// object to. It stops afterwards in the e1000 driver's register init (BARs
// are plain memory), which is past VFIO. .ci/run installs dpdk-dev: a machine
// without dpdk-testpmd fails here instead of skipping.

import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atLeast, audit } from '../../src/audit/index.js';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { findField } from '../../src/decode/tree.js';
import type { DecodedEvent, DecodedIoctl } from '../../src/decode/types.js';
import { openRecordingPipeline } from '../../src/session/pipeline.js';
import { cliUnavailable, startCli } from '../helpers/cli.js';
import { onPath, tracerUnavailable } from '../helpers/trace.js';
import { tmp } from '../integration/helpers.js';

const skip = emulationUnavailable() ?? tracerUnavailable() ?? cliUnavailable();
if (skip) console.warn(`skipping the DPDK emulation test: ${skip}`);

const TESTPMD = 'dpdk-testpmd';
// A prefix of our own, so concurrent runs and a host's DPDK never share /var/run/dpdk state.
const PREFIX = `vfiotrace-test-${process.pid}`;

describe.skipIf(skip !== null)('DPDK testpmd under the emulated x86-pci kernel', () => {
  let dir: string;
  let events: DecodedEvent[] = [];
  let ioctls: DecodedIoctl[] = [];
  let log = '';

  beforeAll(async () => {
    if (!onPath(TESTPMD)) return;
    dir = tmp();
    const rec = path.join(dir, 'testpmd.vft');
    const out = path.join(dir, 'testpmd.log');
    // testpmd exits by itself once no port is usable; stdin is closed anyway.
    const cmd = [TESTPMD, '-l', '0', '-a', '0000:01:00.0', '--no-huge', '-m', '64', '--no-shconf', '--file-prefix', PREFIX, '--', '--tx-first'];
    // EAL logs on stderr: both streams go to the log.
    const cli = startCli(['emulate', '--device', 'x86-pci', '-o', '/dev/null', '-w', rec, '--', 'sh', '-c', 'exec "$@" > "$0" 2>&1', out, ...cmd]);
    await cli.exited;
    log = readFileSync(out, 'utf8');
    const p = await openRecordingPipeline(rec, {});
    for await (const e of p.events()) events.push(e);
    ioctls = events.filter((e): e is DecodedIoctl => e.kind === 'ioctl');
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(`/var/run/dpdk/${PREFIX}`, { recursive: true, force: true });
  });

  it('dpdk-testpmd is installed (apt-get install dpdk-dev; .ci/run does)', () => {
    expect(onPath(TESTPMD), `${TESTPMD} not on PATH: install Debian's dpdk-dev`).toBe(true);
  });

  it('EAL finds the VFIO modules and probes the device through VFIO', () => {
    expect(log).not.toMatch(/VFIO modules not loaded/);
    expect(log).toMatch(/Probe PCI driver: net_e1000_em \(8086:10d3\) device: 0000:01:00\.0/);
  });

  it('the whole VFIO setup succeeds: IOMMU, DMA map of its 64 MiB, device fd, regions, IRQs', () => {
    const ok = (name: string): DecodedIoctl[] => ioctls.filter((e) => e.ioctl === name && e.ret.value >= 0);
    for (const n of ['VFIO_GET_API_VERSION', 'VFIO_GROUP_GET_STATUS', 'VFIO_GROUP_SET_CONTAINER', 'VFIO_SET_IOMMU', 'VFIO_IOMMU_MAP_DMA', 'VFIO_GROUP_GET_DEVICE_FD', 'VFIO_DEVICE_GET_INFO', 'VFIO_DEVICE_GET_REGION_INFO', 'VFIO_DEVICE_GET_IRQ_INFO', 'VFIO_DEVICE_SET_IRQS']) {
      expect(ok(n).length, `${n} succeeded`).toBeGreaterThan(0);
    }
    const mapped = ok('VFIO_IOMMU_MAP_DMA').reduce((s, e) => s + (findField(e.in, 'size')?.value ?? 0n), 0n);
    expect(mapped).toBeGreaterThanOrEqual(64n << 20n);
    expect(ok('VFIO_GROUP_GET_DEVICE_FD')[0]!.ret.newFd?.kind).toBe('device');
  });

  it('every ioctl is decoded and answered without error; the audit finds nothing to warn about', () => {
    expect(ioctls.length).toBeGreaterThan(15);
    for (const e of ioctls) {
      expect(e.ioctl, `undecoded request 0x${e.request.toString(16)}`).not.toBeNull();
      expect(e.ret.value, `${e.ioctl} failed: ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
    }
    expect(audit(events).filter((f) => atLeast(f.severity, 'warning'))).toEqual([]);
  });
});

describe.skipIf(skip !== null)('DPDK testpmd with two functions, each in its own group', () => {
  let dir: string;
  let ioctls: DecodedIoctl[] = [];
  let log = '';
  const prefix = `${PREFIX}-two`;

  beforeAll(async () => {
    if (!onPath(TESTPMD)) return;
    dir = tmp();
    const rec = path.join(dir, 'two.vft');
    const out = path.join(dir, 'two.log');
    const cmd = [TESTPMD, '-l', '0', '-a', '0000:01:00.0', '-a', '0000:02:00.0', '--no-huge', '-m', '64', '--no-shconf', '--file-prefix', prefix, '--', '--tx-first'];
    const devices = ['--device', 'x86-pci', '--device', 'x86-pci,address=0000:02:00.0,group=43'];
    const cli = startCli(['emulate', ...devices, '-o', '/dev/null', '-w', rec, '--', 'sh', '-c', 'exec "$@" > "$0" 2>&1', out, ...cmd]);
    await cli.exited;
    log = readFileSync(out, 'utf8');
    const p = await openRecordingPipeline(rec, {});
    for await (const e of p.events()) if (e.kind === 'ioctl') ioctls.push(e);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(`/var/run/dpdk/${prefix}`, { recursive: true, force: true });
  });

  it('EAL probes both through VFIO: groups 42 and 43 join the container and hand out their devices', () => {
    for (const a of ['0000:01:00.0', '0000:02:00.0']) expect(log).toMatch(new RegExp(`Probe PCI driver: net_e1000_em \\(8086:10d3\\) device: ${a.replace(/\./g, '\\.')}`));
    const on = (name: string, fdPath: string): DecodedIoctl[] => ioctls.filter((e) => e.ioctl === name && e.fdPath === fdPath && e.ret.value >= 0);
    for (const g of ['/dev/vfio/42', '/dev/vfio/43']) {
      expect(on('VFIO_GROUP_SET_CONTAINER', g).length, `${g} joined`).toBe(1);
      expect(on('VFIO_GROUP_GET_DEVICE_FD', g)[0]?.ret.newFd?.kind, `${g} gave a device`).toBe('device');
    }
    for (const e of ioctls) {
      expect(e.ioctl, `undecoded request 0x${e.request.toString(16)}`).not.toBeNull();
      expect(e.ret.value, `${e.ioctl} failed: ${e.ret.errno}`).toBeGreaterThanOrEqual(0);
    }
  });
});
