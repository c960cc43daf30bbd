// `-w FILE` that cannot be created: one line naming the file and the OS's
// reason, exit 2, and nothing started (the command never runs).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run as audit } from '../../src/commands/audit.js';
import { run as demo } from '../../src/commands/demo.js';
import { emulationUnavailable, run as emulate } from '../../src/commands/emulate.js';
import { run as trace } from '../../src/commands/trace.js';
import { runCli, tmp } from '../integration/helpers.js';
import { tracerUnavailable } from '../helpers/trace.js';

const skip = tracerUnavailable();
if (skip) console.warn(`skipping -w tests: ${skip}`);
const BAD = '/nonexistent/dir/x.vft';
const WHY = `cannot write ${BAD}: No such file or directory`;

describe.skipIf(skip !== null)('-w to a file that cannot be created', () => {
  let dir: string;
  let marker: string;
  beforeAll(() => {
    dir = tmp();
    marker = path.join(dir, 'ran');
  });
  const touch = (): string[] => ['sh', '-c', 'touch "$1"', 'sh', marker];

  it('trace: one line, exit 2, the command never starts', async () => {
    const r = await runCli(trace, ['-w', BAD, '--', ...touch()], dir, 'trace.txt');
    expect(r.stderr).toBe(`vfiotrace: ${WHY}\n`);
    expect(r.code).toBe(2);
    expect(existsSync(marker)).toBe(false);
  });

  it('audit: one line, exit 2, the command never starts', async () => {
    const r = await runCli(audit, ['-w', BAD, '--', ...touch()], dir, 'audit.txt');
    expect(r.stderr).toBe(`vfiotrace audit: ${WHY}\n`);
    expect(r.code).toBe(2);
    expect(existsSync(marker)).toBe(false);
  });

  it.skipIf(emulationUnavailable() !== null)('emulate: one line, exit 2, the command never starts', async () => {
    const r = await runCli(emulate, ['--device', 'x86-pci', '-w', BAD, '--', ...touch()], dir, 'emulate.txt');
    expect(r.stderr).toBe(`vfiotrace: ${WHY}\n`);
    expect(r.code).toBe(2);
    expect(existsSync(marker)).toBe(false);
  });

  it('demo: one line, exit 2', async () => {
    const r = await runCli(demo, ['--device', 'none', '-w', BAD], dir, 'demo.txt');
    expect(r.stderr).toBe(`vfiotrace: ${WHY}\n`);
    expect(r.code).toBe(2);
  });
});
