// The emulator held to the real kernel, call by call: every corpus client
// recorded in a guest (test/realkernel/golden/, docs/realkernel.md) is run
// again under `vfiotrace emulate` with the matching profile (edu → edu,
// e1000e → x86-pci), the same address and group and --kernel SERIES, and
// must get the same request, return value, errno, input bytes and
// kernel-written fields on every call, and print the same observations.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { CLIENT_DIR, GOLDEN_DIR, compareCalls, decodeFile, goldenSeries, pool, readManifest, runEmulated, type EmulatedRun } from './differential.js';

const series = goldenSeries();
const cases = series.flatMap((s) => {
  const m = readManifest(s);
  return m.devices.flatMap((d) => m.clients.map((c) => ({ series: s, device: d, client: c, key: `${s} ${c}.${d.name}` })));
});
const missing = cases.map((c) => c.client).filter((c, i, a) => a.indexOf(c) === i && !existsSync(path.join(CLIENT_DIR, c)));
const skip = emulationUnavailable() ?? (missing.length ? `corpus clients not built (${missing.join(', ')}): make -C test/realkernel/clients` : null);

describe('real-kernel goldens', () => {
  it('exist for both kernel series and both devices', () => {
    expect(series).toEqual(['6.1', '6.12']);
    for (const s of series) expect(readManifest(s).devices.map((d) => d.name)).toEqual(['edu', 'e1000e']);
  });
});

describe.skipIf(skip !== null)(`the emulator against the real kernel${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const runs = new Map<string, EmulatedRun>();

  beforeAll(async () => {
    const results = await pool(cases.map((c) => () => runEmulated(c.client, c.device, c.series)), 4);
    cases.forEach((c, i) => runs.set(c.key, results[i]!));
  }, 600_000);

  it.each(cases)('$key: every call and every observation as the real kernel', ({ series: s, device, client, key }) => {
    const run = runs.get(key)!;
    expect(run.status, run.stderr).toBe(0);
    const golden = decodeFile(path.join(GOLDEN_DIR, s, `${client}.${device.name}.vft`));
    expect(golden.length).toBeGreaterThan(20);
    const diffs = compareCalls(golden, run.calls);
    const out = readFileSync(path.join(GOLDEN_DIR, s, `${client}.${device.name}.out`), 'utf8');
    if (run.stdout !== out) diffs.push(`client output: golden ${JSON.stringify(out)}, emulated ${JSON.stringify(run.stdout)}`);
    expect(diffs).toEqual([]);
  });

  it('names the calls where two kernel releases answer differently', async () => {
    // The 6.1 golden against the emulator answering as 6.12: the disagreement
    // is reported field by field, and only where the releases differ.
    const m = readManifest('6.1');
    const device = m.devices.find((d) => d.name === 'e1000e')!;
    const run = await runEmulated('setup', device, '6.12');
    const diffs = compareCalls(decodeFile(path.join(GOLDEN_DIR, '6.1', 'setup.e1000e.vft')), run.calls);
    expect(diffs).toContain('call 9 VFIO_IOMMU_GET_INFO: out.argsz: golden 116, emulated 120');
    expect(diffs.some((d) => /^call \d+ VFIO_DEVICE_GET_IRQ_INFO: out\.flags: golden 9, emulated 1$/.test(d))).toBe(true);
    expect(diffs.every((d) => /^call \d+ VFIO_(IOMMU_GET_INFO|DEVICE_GET_IRQ_INFO): /.test(d))).toBe(true);
  }, 120_000);
});
