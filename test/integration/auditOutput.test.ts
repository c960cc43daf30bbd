// `vfiotrace audit` with a failing -w, as a separate process: capture stops
// as in a plain trace (the command it started is ended), the error names the
// file, exit 2 — rather than tracing a command that never ends, for nothing.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliUnavailable, exitWithin, startCli, writersOf } from '../helpers/cli.js';
import { fixture, toFile, tracerUnavailable } from '../helpers/trace.js';
import { leftoverPids, tmp } from './helpers.js';

const skip = tracerUnavailable() ?? cliUnavailable();
if (skip) console.warn(`skipping audit output tests: ${skip}`);

describe.skipIf(skip !== null)('vfiotrace audit with a failing -w', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmp();
  });
  const leftovers = leftoverPids();

  it('names the file, ends the command it started and exits 2', async () => {
    const said = path.join(dir, 'stubborn.out');
    const p = startCli(['audit', '--no-progress', '-o', path.join(dir, 'report.txt'), '-w', '/dev/full', '--', ...toFile([fixture('lingering'), 'stubborn'], said)]);
    leftovers.push(p.child.pid!);
    expect(await exitWithin(p, 'vfiotrace audit to exit')).toBe(2);
    expect(p.stderr()).toMatch(/^vfiotrace audit: .*-w \/dev\/full: no space left on device \(ENOSPC\)\n$/);
    expect(writersOf(said)).toEqual([]);
  });
});
