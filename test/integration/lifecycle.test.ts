// The CLI as a separate process, as a user or `timeout` meets it: signals sent
// to vfiotrace itself, and what becomes of the program it traces.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { alive, cliUnavailable, exitWithin, startCli, tracedCalls, until, writersOf } from '../helpers/cli.js';
import { fixture, toFile, tracerUnavailable, waitForText } from '../helpers/trace.js';
import { leftoverPids, tmp } from './helpers.js';

const skip = tracerUnavailable() ?? cliUnavailable();
if (skip) console.warn(`skipping lifecycle tests: ${skip}`);

/** Socket inodes of a process that are listening TCP sockets (an inspector port would be one). */
function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9]) inodes.add(cols[9]); // 0A: TCP_LISTEN
    }
  }
  const mine: string[] = [];
  const fdDir = `/proc/${pid}/fd`;
  for (const fd of readdirSafe(fdDir)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(path.join(fdDir, fd)));
      if (m && inodes.has(m[1]!)) mine.push(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return mine;
}

describe.skipIf(skip !== null)('vfiotrace as a process', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmp();
  });
  const leftovers = leftoverPids();

  it('SIGUSR1 opens no debugger: no inspector line, no listening socket, tracing goes on', async () => {
    const out = path.join(dir, 'usr1.txt');
    const p = startCli(['-o', out, '--', fixture('loop'), '4000', '1']);
    await until(() => tracedCalls(out) >= 5, 'the first traced calls');
    p.child.kill('SIGUSR1');
    const seen = tracedCalls(out);
    await until(() => tracedCalls(out) >= seen + 50, 'calls traced after SIGUSR1');
    expect(listeningSockets(p.child.pid!)).toEqual([]);
    expect(await p.exited).toBe(7);
    expect(p.stderr()).not.toMatch(/Debugger|inspector/i);
    expect(readFileSync(out, 'utf8')).toMatch(/\+\+\+ exited with 7 \+\+\+\n$/);
  });

  it('refuses to run with an inspector opened through NODE_OPTIONS, before tracing anything', async () => {
    const out = path.join(dir, 'inspect.txt');
    const p = startCli(['-o', out, '--', fixture('loop'), '100', '1'], { ...process.env, NODE_OPTIONS: '--inspect=127.0.0.1:0' });
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/^vfiotrace: refusing to run with the Node inspector open/m);
    expect(tracedCalls(out)).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s ends vfiotrace and the command it started, even one that ignores the signal', async (sig) => {
    const out = path.join(dir, `stubborn-${sig}.txt`);
    const said = path.join(dir, `stubborn-${sig}.out`);
    const p = startCli(['-o', out, '--', ...toFile([fixture('lingering'), 'stubborn'], said)]);
    leftovers.push(p.child.pid!);
    const pid = Number(/ready (\d+)/.exec(await waitForText(said, '\n', 30_000))![1]);
    leftovers.push(pid);
    await until(() => tracedCalls(out) >= 5, 'the first traced calls');
    p.child.kill(sig);
    // It ignores the signal: SIGKILL after the grace, and vfiotrace says so.
    expect(await p.exited).toBe(128 + 9);
    expect(alive(pid)).toBe(false);
    expect(readFileSync(out, 'utf8')).toMatch(/\+\+\+ killed by SIGKILL \+\+\+\n$/);
  });

  it('SIGTERM ends vfiotrace while an orphaned traced grandchild spins, and ends the grandchild', async () => {
    const out = path.join(dir, 'orphan.txt');
    const said = path.join(dir, 'orphan.out');
    const p = startCli(['-f', '-o', out, '--', ...toFile([fixture('lingering'), 'orphan'], said)]);
    leftovers.push(p.child.pid!);
    const child = Number(/child (\d+)/.exec(await waitForText(said, '\n', 30_000))![1]);
    leftovers.push(child);
    await until(() => readFileSync(out, 'utf8').includes('exited with 0'), 'the command to exit');
    const seen = tracedCalls(out);
    await until(() => tracedCalls(out) >= seen + 5, 'calls of the orphan');
    p.child.kill('SIGTERM');
    // The command itself exited 0: that stays vfiotrace's status.
    expect(await p.exited).toBe(0);
    expect(alive(child)).toBe(false);
  });

  it.each([
    ['-o', ['-o', '/dev/full']],
    ['-w', ['-o', '/dev/null', '-w', '/dev/full']],
  ])('a failing %s names the file, ends the command it started and exits 2 at once', async (opt, args) => {
    const said = path.join(dir, `full${opt}.out`);
    const p = startCli([...args, '--', ...toFile([fixture('lingering'), 'stubborn'], said)]);
    leftovers.push(p.child.pid!);
    expect(await exitWithin(p, 'vfiotrace to exit')).toBe(2);
    expect(p.stderr()).toBe(`vfiotrace: ${opt} /dev/full: no space left on device (ENOSPC)\n`);
    // The error can come before the command printed anything (the recording
    // fails at its header): whatever it reached, nothing of it runs on.
    await until(() => writersOf(said).length === 0, 'the command to end');
  });
});

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}
