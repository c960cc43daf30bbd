import { describe, expect, it } from 'vitest';
import { demoClientPath, run as demo } from '../../src/commands/demo.js';
import { liveSkipReason, runCli, tmp } from '../integration/helpers.js';
import { existsSync } from 'node:fs';

const skip = liveSkipReason() ?? (existsSync(demoClientPath()) ? null : 'demo client not built (make -C test/fixtures)');
if (skip) console.warn(`skipping demo test: ${skip}`);

describe.skipIf(skip !== null)('vfiotrace demo', () => {
  it('traces the demo client in the sandbox and says what it showed', async () => {
    const r = await runCli(demo, ['--device', 'none'], tmp());
    expect(r.code).toBe(0);
    const calls = r.stdout.split('\n').filter((l) => l.startsWith('ioctl('));
    expect(calls.length).toBeGreaterThan(10);
    // No VFIO hardware: the sandbox's plain files make the kernel answer ENOTTY.
    for (const l of calls) expect(l).toMatch(/^ioctl\(\d+<\/dev\/(vfio\/|iommu)[^>]*>, VFIO_[A-Z0-9_]+, .*\) = -1 ENOTTY \(/);
    expect(r.stdout).toMatch(/\+\+\+ exited with 0 \+\+\+\n$/);
    // With -o the closing note goes to stderr, keeping the file clean.
    expect(r.stderr).toBe(`${calls.length} VFIO ioctls traced (no VFIO hardware here, so the kernel answers ENOTTY); run \`vfiotrace --help\` for more\n`);
  });
});
