// SIGINT/SIGTERM/SIGHUP handling of a live trace: attach mode detaches and
// leaves the process running; spawn mode forwards the signal to the command.
// The handlers are driven with process.emit, so the test process itself is
// never signalled.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run as trace } from '../../src/commands/trace.js';
import { packageRoot } from '../../src/trace/native.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { liveSkipReason, runCli, tmp } from './helpers.js';

const fixtures = path.join(packageRoot(), 'test', 'fixtures', 'build');
const skip = liveSkipReason() ?? (existsSync(path.join(fixtures, 'loop')) ? null : 'C fixtures not built (make -C test/fixtures)');
if (skip) console.warn(`skipping signal tests: ${skip}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `file` holds at least `n` lines starting with `ioctl(` or `[pid`. */
async function waitForCalls(file: string, n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text.split('\n').filter((l) => /^(\[pid +\d+\] )?ioctl\(/.test(l)).length >= n) return;
    await sleep(20);
  }
  throw new Error(`no ${n} traced calls in ${file}`);
}

describe.skipIf(skip !== null)('signals during a live trace', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmp();
  });

  it('attach mode: SIGINT detaches, the process runs on and exits normally', async () => {
    // Started through a shell that exits at once, so the target is not our
    // child: a tracer sharing a parent with its tracee would see its stops
    // reaped by Node's own child handling.
    const argv = sandboxArgv([path.join(fixtures, 'loop'), '1500', '2']);
    const log = path.join(dir, 'loop.log');
    const sh = spawnSync('sh', ['-c', 'log=$1; shift; "$@" > "$log" 2>&1 & echo $!', 'sh', log, ...argv], { encoding: 'utf8' });
    const pid = Number(sh.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    for (let i = 0; i < 500 && !(existsSync(log) && readFileSync(log, 'utf8').includes('ready')); i++) await sleep(20);
    const file = path.join(dir, 'attach.txt');
    const running = runCli(trace, ['-p', String(pid)], dir, 'attach.txt');
    await waitForCalls(file, 5);
    process.emit('SIGINT', 'SIGINT');
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/VFIO_GET_API_VERSION, 0\) = -1 ENOTTY/);
    expect(r.stdout).toMatch(/\+\+\+ detached \+\+\+\n$/);
    // The loop runs on untraced and finishes on its own.
    for (let i = 0; i < 500 && existsSync(`/proc/${pid}`); i++) await sleep(20);
    expect(readFileSync(log, 'utf8')).toMatch(/done \d+/);
  });

  it('spawn mode: SIGTERM is forwarded and the status says so', async () => {
    const file = path.join(dir, 'spawn.txt');
    const running = runCli(trace, ['--', ...sandboxArgv([path.join(fixtures, 'signals'), 'wait', '1000'])], dir, 'spawn.txt');
    await waitForCalls(file, 3);
    process.emit('SIGTERM', 'SIGTERM');
    const r = await running;
    expect(r.code).toBe(128 + 15);
    expect(r.stdout).toMatch(/\+\+\+ killed by SIGTERM \+\+\+\n$/);
  });
});
