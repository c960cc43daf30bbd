// Two runs of the same client under emulation give the same text trace,
// timestamps and pids aside: nothing of the emulator's own (its backing
// file's random directory) leaks into what is shown. The device fd reads as
// the kernel's anon_inode:[vfio-device] in text, JSON and recordings.
// Needs root and ptrace.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emulationUnavailable, runEmulated } from '../../src/commands/emulate.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { readStream } from '../../src/trace/recordingStream.js';
import { createReadStream } from 'node:fs';
import { fixture, onPath, tracerUnavailable } from '../helpers/trace.js';

const skip = emulationUnavailable() ?? tracerUnavailable() ?? (existsSync(fixture('demo_client')) ? null : 'demo client not built');
if (skip) console.warn(`skipping repeatable emulation tests: ${skip}`);
// The demo client maps DMA from an mmap: without address randomization the
// same run gets the same vaddr, so any other difference is the tracer's.
const setarch = onPath('setarch');

const dir = mkdtempSync(join(tmpdir(), 'vft-emu-repeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Timestamps (-tt) and pids are all that may differ between two runs. */
function normalize(text: string): string {
  return text
    .replace(/^\d\d:\d\d:\d\d\.\d{6} /gm, 'HH:MM:SS.uuuuuu ')
    .replace(/\[pid +\d+\]/g, '[pid N]')
    .replace(/\b(pid|PID) \d+/g, '$1 N');
}

async function textRun(profile: string, mode: string, n: number, json = false): Promise<{ text: string; recording: string }> {
  const out = join(dir, `${profile}-${n}.${json ? 'jsonl' : 'txt'}`);
  const recording = join(dir, `${profile}-${n}.vft`);
  const r = await runEmulated({
    profile: resolveProfile(profile),
    command: ['setarch', process.arch === 'x64' ? 'x86_64' : 'ppc64le', '-R', fixture('demo_client'), mode],
    output: { output: out, time: 2, fdPaths: true, findings: 'info', json },
    follow: true,
    recordTo: recording,
  });
  expect(r.code).toBe(0);
  return { text: readFileSync(out, 'utf8'), recording };
}

describe.skipIf(skip !== null || !setarch)('emulated traces are repeatable', () => {
  for (const [profile, mode] of [['x86-pci', 'type1'], ['power-eeh', 'spapr']] as const) {
    it(`${profile}: two runs of the demo client print the same text trace`, async () => {
      const a = await textRun(profile, mode, 1);
      const b = await textRun(profile, mode, 2);
      expect(a.text).toMatch(/VFIO_GROUP_GET_DEVICE_FD/);
      expect(normalize(b.text)).toBe(normalize(a.text));
      expect(a.text).toMatch(/ioctl\(\d+<anon_inode:\[vfio-device\]>, VFIO_DEVICE_GET_INFO/);
      expect(a.text).not.toMatch(/vfiotrace-emu/);
    }, 60_000);
  }

  it('the recording and JSON name the device fd anon_inode:[vfio-device] too', async () => {
    const { text, recording } = await textRun('x86-pci', 'type1', 3, true);
    expect(text).not.toMatch(/vfiotrace-emu/);
    expect(text).toMatch(/"anon_inode:\[vfio-device\]"/);
    const rec = await readStream(createReadStream(recording));
    const paths = new Set<string>();
    for await (const batch of rec.batches()) for (const r of batch) if (r.type === 'ioctl') paths.add(r.fdPath);
    expect([...paths].sort()).toEqual(['/dev/vfio/42', '/dev/vfio/vfio', 'anon_inode:[vfio-device]']);
  }, 60_000);
});
