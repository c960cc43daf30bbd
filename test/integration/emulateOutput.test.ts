// An output error under `vfiotrace emulate`, as a separate process: the same
// manners as a plain trace (one line naming the file, the command ended,
// exit 2), although the stream passes through the emulator's tap.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emulationUnavailable } from '../../src/commands/emulate.js';
import { cliUnavailable, exitWithin, startCli, writersOf } from '../helpers/cli.js';
import { fixture, toFile, tracerUnavailable } from '../helpers/trace.js';
import { leftoverPids, tmp } from './helpers.js';

const skip = tracerUnavailable() ?? emulationUnavailable() ?? cliUnavailable();
if (skip) console.warn(`skipping emulate output tests: ${skip}`);

describe.skipIf(skip !== null)('vfiotrace emulate with a failing output', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmp();
  });
  const leftovers = leftoverPids();

  it.each([
    ['-o', ['-o', '/dev/full']],
    ['-w', ['-o', '/dev/null', '-w', '/dev/full']],
  ])('a failing %s names the file, ends the command and exits 2', async (opt, args) => {
    const said = path.join(dir, `emu-full${opt}.out`);
    const p = startCli(['emulate', '--device', 'x86-pci', ...args, '--', ...toFile([fixture('lingering'), 'stubborn'], said)]);
    leftovers.push(p.child.pid!);
    expect(await exitWithin(p, 'vfiotrace to exit')).toBe(2);
    expect(p.stderr()).toBe(`vfiotrace: ${opt} /dev/full: no space left on device (ENOSPC)\n`);
    // The error may come before the command got far: whatever it reached, nothing of it runs on.
    expect(writersOf(said)).toEqual([]);
  });
});

