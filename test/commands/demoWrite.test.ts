// `vfiotrace demo -w FILE` records the session like any live trace, and
// `vfiotrace show FILE` prints the same calls again.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoClientPath, run as demo } from '../../src/commands/demo.js';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { run as show } from '../../src/commands/show.js';
import { liveSkipReason, runCli, tmp } from '../integration/helpers.js';

const skip = liveSkipReason() ?? emulationUnavailable() ?? (existsSync(demoClientPath()) ? null : 'demo client not built (make -C test/fixtures)');
if (skip) console.warn(`skipping demo -w test: ${skip}`);

const calls = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('ioctl('));

describe.skipIf(skip !== null)('vfiotrace demo -w', () => {
  it('records the emulated demo; show prints the same calls, the EEH freeze included', async () => {
    const dir = tmp();
    const rec = path.join(dir, 'demo.vft');
    const live = await runCli(demo, ['-w', rec], dir, 'live.txt');
    expect(live.code).toBe(0);
    expect(existsSync(rec)).toBe(true);
    const again = await runCli(show, [rec], dir, 'show.txt');
    expect(again.code).toBe(0);
    expect(calls(again.stdout).length).toBeGreaterThan(10);
    expect(calls(again.stdout)).toEqual(calls(live.stdout));
    expect(again.stdout).toMatch(/VFIO_EEH_PE_GET_STATE\}\) = 2 \(PE state VFIO_EEH_PE_STATE_STOPPED\)/);
  });
});
