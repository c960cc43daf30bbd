// How emulated calls are answered (docs/emulation.md, "How calls are
// answered"): through the engine's seccomp listener by default, at ptrace
// stops where no listener can be had. Either way a client sees the same
// kernel and the trace reads the same, run after run. Runs the compiled CLI
// as users do; needs root and ptrace.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { CLI, cliUnavailable } from '../helpers/cli.js';
import { fixture, maskAddresses, tracerUnavailable } from '../helpers/trace.js';
import { tmp } from '../integration/helpers.js';

const skip = emulationUnavailable() ?? tracerUnavailable() ?? cliUnavailable() ?? (existsSync(fixture('nolistener')) ? null : 'fixtures not built');
if (skip) console.warn(`skipping emulation path tests: ${skip}`);

interface Run {
  code: number;
  stderr: string;
  /** The text trace (-o), addresses that vary under ASLR masked. */
  trace: string[];
}

let dir = '';
let runs = 0;

/** `vfiotrace emulate ARGS -o FILE -- demo_client MODE`, optionally under the nolistener fixture. */
async function emulate(args: string[], mode: 'spapr' | 'type1', noListener = false): Promise<Run> {
  const out = path.join(dir, `trace-${runs++}.txt`);
  const argv = [CLI, 'emulate', ...args, '-o', out, '--', fixture('demo_client'), mode];
  const [cmd, ...rest] = noListener ? [fixture('nolistener'), process.execPath, ...argv] : [process.execPath, ...argv];
  const child = spawn(cmd!, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const trace = existsSync(out) ? readFileSync(out, 'utf8').trimEnd().split('\n').map(maskAddresses) : [];
  return { code, stderr, trace };
}

describe.skipIf(skip !== null)('answering emulated calls', () => {
  beforeAll(() => {
    dir = tmp();
  });

  it.each([
    ['power-eeh', 'spapr'],
    ['x86-pci', 'type1'],
  ] as const)('%s: the same text trace run after run, through the listener or at ptrace stops', async (device, mode) => {
    const args = ['--device', device];
    const first = await emulate(args, mode);
    const second = await emulate(args, mode);
    const ptrace = await emulate([...args, '--answer-via', 'ptrace'], mode);
    for (const r of [first, second, ptrace]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    // Every call answered by the emulated kernel, not by the sandbox's plain files.
    expect(first.trace.filter((l) => l.startsWith('ioctl(')).length).toBeGreaterThan(15);
    expect(first.trace.filter((l) => /ENOTTY/.test(l))).toEqual([]);
    expect(second.trace).toEqual(first.trace);
    expect(ptrace.trace).toEqual(first.trace);
  });

  it('where no listener can be had, calls are answered at ptrace stops, and it says so', async () => {
    const r = await emulate(['--device', 'x86-pci'], 'type1', true);
    expect(r.stderr).toMatch(/^vfiotrace emulate: no seccomp listener: .*Operation not permitted; answering at ptrace stops instead \(slower\)\n$/);
    expect(r.code).toBe(0);
    expect(r.trace).toContain('ioctl(3</dev/vfio/vfio>, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) = 0 (success)');
  });

  it('--answer-via notify where no listener can be had: one line, status 2', async () => {
    const r = await emulate(['--device', 'x86-pci', '--answer-via', 'notify'], 'type1', true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vfiotrace: no seccomp listener: .*Operation not permitted\n$/);
  });
});
