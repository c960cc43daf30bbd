// A signal that reaches vfiotrace before its session is running (while it
// attaches, or before the command starts) is acted on once the session
// exists: attach mode detaches and exits 0, spawn mode ends the command;
// either way the -w recording is complete. The CLI runs as a separate
// process and each test waits for an observable state (the -w file exists,
// the target's TracerPid names vfiotrace) before signalling: no sleeps.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, CLI, cliUnavailable, exitWithin, startCli, until, writersOf } from '../helpers/cli.js';
import { fixture, toFile, tracerUnavailable, waitForText } from '../helpers/trace.js';
import { leftoverPids, tmp } from './helpers.js';

const skip = tracerUnavailable() ?? cliUnavailable();
if (skip) console.warn(`skipping early-signal tests: ${skip}`);

/** Whether `pid` is traced by a thread of process `cli` (TracerPid names the tracing thread). */
function tracedBy(pid: number, cli: number): boolean {
  const t = tracerOf(pid);
  return t !== null && t !== 0 && existsSync(`/proc/${cli}/task/${t}`);
}

/** /proc/PID/status's TracerPid, or null when the process is gone. */
function tracerOf(pid: number): number | null {
  try {
    const m = /^TracerPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** /proc/PID/status's Threads, or 0 when the process is gone. */
function threadsOf(pid: number): number {
  try {
    return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Polls `cond` every millisecond (the window it watches for can be short); throws after 30 s. */
async function soon(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** `vfiotrace show --json FILE`: exit status and parsed lines. */
function show(file: string): { code: number | null; lines: Record<string, unknown>[]; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'show', '--json', file], { encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, lines, stderr: r.stderr };
}

describe.skipIf(skip !== null)('a signal before the session runs', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmp();
  });
  const children: ChildProcess[] = [];
  const leftovers = leftoverPids();
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  /** A 3-thread target making VFIO calls, once its threads all exist. */
  async function target(): Promise<number> {
    const c = spawn(fixture('loop'), ['120000', '3'], { stdio: 'ignore' });
    children.push(c);
    const pid = c.pid!;
    await until(() => threadsOf(pid) === 3, 'the target threads');
    return pid;
  }

  /** Attach mode: SIGINT once `ready(cli pid)` holds; vfiotrace detaches, exits 0, the recording is whole. */
  async function attachThenInterrupt(name: string, ready: (cli: number, rec: string, pid: number) => boolean): Promise<void> {
    const pid = await target();
    const rec = path.join(dir, `${name}.vft`);
    // The window watched for is ptrace's (the eBPF backend never becomes the target's tracer).
    const p = startCli(['--backend', 'ptrace', '-o', path.join(dir, `${name}.txt`), '-w', rec, '-p', String(pid)]);
    leftovers.push(p.child.pid!);
    await soon(() => ready(p.child.pid!, rec, pid), `${name}: the moment to signal`);
    p.child.kill('SIGINT');
    expect(await exitWithin(p, 'vfiotrace to exit')).toBe(0);
    expect(p.stderr()).toBe('');
    // The process runs on, no longer traced.
    expect(alive(pid)).toBe(true);
    expect(tracerOf(pid)).toBe(0);
    const s = show(rec);
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const end = s.lines[s.lines.length - 1]!;
    expect(end).toMatchObject({ type: 'end', reason: 'detached' });
    // Every thread it let go is in the recording.
    const detached = s.lines.filter((l) => l.type === 'detached').map((l) => l.tid);
    expect(new Set(detached).size).toBe(3);
    // The text says so: each thread attached, each let go (with [pid N] while several are traced).
    const text = readFileSync(path.join(dir, `${name}.txt`), 'utf8');
    expect(text.match(/^Process \d+ attached$/gm)).toHaveLength(3);
    expect(text).toMatch(new RegExp(`^Process ${pid} attached$`, 'm'));
    expect(text.match(/^\[pid \d+\] \+\+\+ detached \+\+\+$/gm)).toHaveLength(2);
    expect(text).toMatch(/^\+\+\+ detached \+\+\+\n$/m);
  }

  it('-p: SIGINT as soon as the -w file exists (before attaching)', async () => {
    await attachThenInterrupt('before-attach', (_cli, rec) => existsSync(rec));
  });

  it('-p: SIGINT while attaching (the target already names a vfiotrace thread as its tracer)', async () => {
    await attachThenInterrupt('attaching', (cli, _rec, pid) => tracedBy(pid, cli));
  });

  it('-- CMD: SIGINT as soon as the -w file exists ends the command; the recording is whole', async () => {
    const rec = path.join(dir, 'spawn.vft');
    const said = path.join(dir, 'spawn.out');
    const p = startCli(['-o', path.join(dir, 'spawn.txt'), '-w', rec, '--', ...toFile([fixture('loop'), '120000', '1'], said)]);
    leftovers.push(p.child.pid!);
    await soon(() => existsSync(rec), 'the -w file');
    p.child.kill('SIGINT');
    // The command dies of the SIGINT passed on to it, and says so through the exit status.
    expect(await exitWithin(p, 'vfiotrace to exit')).toBe(128 + 2);
    await until(() => writersOf(said).length === 0, 'the command to end');
    const s = show(rec);
    expect(s.code).toBe(0);
    expect(s.lines[s.lines.length - 1]).toMatchObject({ type: 'end', reason: 'killed', status: 2 });
  });

  it('audit -p: SIGINT while attaching detaches; the report and the recording are whole', async () => {
    const pid = await target();
    const rec = path.join(dir, 'audit.vft');
    const p = startCli(['audit', '--backend', 'ptrace', '--no-progress', '-o', path.join(dir, 'audit.txt'), '-w', rec, '-p', String(pid)]);
    leftovers.push(p.child.pid!);
    await soon(() => tracedBy(pid, p.child.pid!), 'the attach');
    p.child.kill('SIGINT');
    expect(await exitWithin(p, 'vfiotrace audit to exit')).toBe(0);
    expect(p.stderr()).toBe('');
    expect(readFileSync(path.join(dir, 'audit.txt'), 'utf8')).toMatch(/ in \d+ events/);
    expect(alive(pid)).toBe(true);
    expect(tracerOf(pid)).toBe(0);
    const s = show(rec);
    expect(s.code).toBe(0);
    expect(s.lines[s.lines.length - 1]).toMatchObject({ type: 'end', reason: 'detached' });
  });

  it('audit -- CMD: SIGINT ends a command that ignores it, as trace does (SIGKILL after the grace)', async () => {
    const said = path.join(dir, 'audit-stubborn.out');
    const p = startCli(['audit', '--no-progress', '-o', path.join(dir, 'audit-stubborn.txt'), '--', ...toFile([fixture('lingering'), 'stubborn'], said)]);
    leftovers.push(p.child.pid!);
    const pid = Number(/ready (\d+)/.exec(await waitForText(said, '\n', 30_000))![1]);
    leftovers.push(pid);
    p.child.kill('SIGINT');
    expect(await exitWithin(p, 'vfiotrace audit to exit')).toBe(0);
    expect(alive(pid)).toBe(false);
  });
});

