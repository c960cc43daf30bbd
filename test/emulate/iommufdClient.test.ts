// The modern path end to end: a real client (test/fixtures/iommufd_cdev.c)
// finds the device cdev through sysfs, and in three forked rounds that exit
// without closing anything binds it to /dev/iommu, allocates an IOAS,
// attaches, reads config space through the cdev, maps and unmaps, detaches;
// then in two more a group is set to the iommufd and the legacy calls go to
// /dev/iommu (iommufd's VFIO compatibility mode).
// Every round must succeed (each finds the device released by the one
// before), the answers must be the kernel's, every call must decode, and the
// audit must object only to the deliberate ioctl before BIND.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atLeast, audit } from '../../src/audit/index.js';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import type { DecodedEvent, DecodedIoctl } from '../../src/decode/types.js';
import { openRecordingPipeline } from '../../src/session/pipeline.js';
import { cliUnavailable, startCli } from '../helpers/cli.js';
import { fixture, tracerUnavailable } from '../helpers/trace.js';
import { tmp } from '../integration/helpers.js';

const skip =
  emulationUnavailable() ?? tracerUnavailable() ?? cliUnavailable() ?? (existsSync(fixture('iommufd_cdev')) ? null : 'iommufd_cdev fixture not built (make -C test/fixtures)');
if (skip) console.warn(`skipping the iommufd client test: ${skip}`);

// One round, as the kernel answers it: devid 1, IOAS 2, the automatic HWPT 3.
const ROUND = [
  'bind ret=0 devid=1',
  'ioas-alloc ret=0 id=2',
  'ranges-detached ret=0 n=1 align=0x1 [0x0,0xffffffffffffffff]',
  'attach ret=0 pt=3',
  // x86-pci: a 39-bit intel-iommu aperture without the MSI window.
  'ranges-attached ret=0 n=2 align=0x1000 [0x0,0xfedfffff] [0xfef00000,0x7fffffffff]',
  'get-info ret=0 regions=9 irqs=5',
  'config ret=0 read=4 id=10d38086',
  'map-fixed ret=0 iova=0x100000',
  'map-auto ret=0 iova=0x10000',
  'unmap-half ret=-2',
  'unmap-all ret=0 length=0x210000',
  'destroy-attached ret=-16',
  'detach ret=0',
  'destroy-ioas ret=0',
  'destroy-device ret=-16',
];

describe.skipIf(skip !== null)('an iommufd + cdev client under the emulated x86-pci kernel', () => {
  let dir: string;
  let lines: string[] = [];
  let status: number | null = null;
  let events: DecodedEvent[] = [];

  beforeAll(async () => {
    dir = tmp();
    const rec = path.join(dir, 'cdev.vft');
    const out = path.join(dir, 'cdev.out');
    const cli = startCli(['emulate', '--device', 'x86-pci', '-o', '/dev/null', '-w', rec, '--', 'sh', '-c', 'exec "$@" > "$0"', out, fixture('iommufd_cdev')]);
    status = await cli.exited;
    lines = readFileSync(out, 'utf8').trim().split('\n');
    const p = await openRecordingPipeline(rec, {});
    for await (const e of p.events()) events.push(e);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every forked round binds, attaches, reads, maps and detaches as on the first', () => {
    expect(status).toBe(0);
    const rounds = [0, 1, 2].flatMap((k) => [...ROUND, `round ${k} status=0`]);
    expect(lines.slice(0, rounds.length)).toEqual(rounds);
  });

  it('a group set to the iommufd: legacy calls on /dev/iommu, the device released between forked rounds', () => {
    const COMPAT = [
      'compat-set-container ret=0',
      'compat-status flags=3',
      'compat-api ret=0 ext-v2=1 ext-vaddr=0',
      'compat-set-iommu ret=0',
      'compat-device ok=1 get-info ret=0 regions=9',
      'compat-map ret=0',
      'compat-map-again ret=-17',
      'compat-unmap ret=0 size=0x100000',
    ];
    const start = lines.indexOf('round 2 status=0') + 1;
    expect(lines.slice(start, start + 18)).toEqual([0, 1].flatMap((k) => [...COMPAT, `compat round ${k} status=0`]));
  });

  it('the bind rules: inert before BIND, EBADFD for a non-iommufd, one bind per file and per device', () => {
    expect(lines.slice(-5)).toEqual([
      'unbound-get-info ret=-22',
      'bind-not-iommufd ret=-77',
      'bind ret=0 devid=1',
      'bind-again ret=-22',
      'bind-second-file ret=-22',
    ]);
  });

  it('every call decodes on /dev/iommu or the cdev; the audit flags only the ioctl before BIND', () => {
    const ioctls = events.filter((e): e is DecodedIoctl => e.kind === 'ioctl');
    expect(ioctls.length).toBeGreaterThan(40);
    for (const e of ioctls) {
      expect(e.ioctl, `undecoded request 0x${e.request.toString(16)}`).not.toBeNull();
      expect(['/dev/iommu', '/dev/vfio/devices/vfio0', '/dev/vfio/42', 'anon_inode:[vfio-device]']).toContain(e.fdPath);
    }
    const findings = audit(events).filter((f) => atLeast(f.severity, 'warning'));
    expect(findings.map((f) => f.rule)).toEqual(['device-ioctl-before-bind']);
  });
});
