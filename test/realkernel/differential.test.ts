// The emulator held to the real kernel, call by call: every corpus client
// recorded in a guest (test/realkernel/golden/, docs/realkernel.md) is run
// again under `vfiotrace emulate` with the matching profile (edu → edu,
// e1000e → x86-pci), the same address and group and --kernel SERIES, and
// must get the same request, return value, errno, input bytes and
// kernel-written fields on every call, and print the same observations.
// Threads and forked children are compared thread by thread. The `attach`
// entry is not: `vfiotrace emulate` starts its client itself and has no -p.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { CLIENT_DIR, GOLDEN_DIR, compareRun, decodeFile, decodeFileAsync, goldenSeries, ioctls, pool, readManifest, runEmulated, type EmulatedRun } from './differential.js';
import type { TraceEvent } from './lanes.js';

const series = goldenSeries();
const all = series.flatMap((s) => {
  const m = readManifest(s);
  return m.devices.flatMap((d) => m.clients.map((entry) => ({ series: s, device: d, entry, key: `${s} ${entry.name}.${d.name}` })));
});
const cases = all.filter((c) => c.entry.record !== 'attach');
const attached = all.filter((c) => c.entry.record === 'attach');
const missing = cases.map((c) => c.entry.client).filter((c, i, a) => a.indexOf(c) === i && !existsSync(path.join(CLIENT_DIR, c)));
const skip = emulationUnavailable() ?? (missing.length ? `corpus clients not built (${missing.join(', ')}): make -C test/realkernel/clients` : null);

describe('real-kernel goldens', () => {
  it('exist for both kernel series and both devices', () => {
    expect(series).toEqual(['6.1', '6.12']);
    for (const s of series) expect(readManifest(s).devices.map((d) => d.name)).toEqual(['edu', 'e1000e']);
  });
});

describe.skipIf(skip !== null)(`the emulator against the real kernel${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const runs = new Map<string, EmulatedRun>();
  const goldens = new Map<string, TraceEvent[]>();

  beforeAll(async () => {
    const results = await pool(cases.map((c) => () => runEmulated(c.entry.client, c.device, c.series)), 4);
    cases.forEach((c, i) => runs.set(c.key, results[i]!));
    const decoded = await pool(cases.map((c) => () => decodeFileAsync(path.join(GOLDEN_DIR, c.series, `${c.entry.name}.${c.device.name}.vft`))), 4);
    cases.forEach((c, i) => goldens.set(c.key, decoded[i]!));
  }, 600_000);

  it.each(cases)('$key: every call and every observation as the real kernel', ({ series: s, device, entry, key }) => {
    const run = runs.get(key)!;
    expect(run.status, run.stderr).toBe(0);
    const golden = goldens.get(key)!;
    expect(ioctls(golden).length).toBeGreaterThan(5);
    const diffs = compareRun(golden, run.events, entry.record === 'follow');
    const out = readFileSync(path.join(GOLDEN_DIR, s, `${entry.name}.${device.name}.out`), 'utf8');
    if (run.stdout !== out) diffs.push(`client output: golden ${JSON.stringify(out)}, emulated ${JSON.stringify(run.stdout)}`);
    expect(diffs).toEqual([]);
  });

  it.skip.each(attached)('$key: not emulated (vfiotrace emulate starts its client itself and has no -p)', () => {});

  it('names the calls where two kernel releases answer differently', async () => {
    // The 6.1 golden against the emulator answering as 6.12: the disagreement
    // is reported field by field, and only where the releases differ.
    const m = readManifest('6.1');
    const device = m.devices.find((d) => d.name === 'e1000e')!;
    const run = await runEmulated('setup', device, '6.12');
    const diffs = compareRun(decodeFile(path.join(GOLDEN_DIR, '6.1', 'setup.e1000e.vft')), run.events, true);
    expect(diffs).toContain('call 9 VFIO_IOMMU_GET_INFO: out.argsz: golden 116, emulated 120');
    expect(diffs.some((d) => /^call \d+ VFIO_DEVICE_GET_IRQ_INFO: out\.flags: golden 9, emulated 1$/.test(d))).toBe(true);
    expect(diffs.every((d) => /^call \d+ VFIO_(IOMMU_GET_INFO|DEVICE_GET_IRQ_INFO): /.test(d))).toBe(true);
  }, 120_000);
});
