// `vfiotrace --all` (eBPF): every process on the host that makes a VFIO or
// iommufd ioctl is traced from its first call, each line naming it; a
// process that makes none is never introduced. The live text, the
// recording read back, the TUI and the refusals where eBPF is not there.
//
// Other test files run fixtures at the same time, so the host-wide trace
// holds their calls too: this file runs copies of the fixtures under names
// of its own and looks only at those.

import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { isatty } from 'node:tty';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProcessEventKind, type ProcessRecord } from '../../src/trace/events.js';
import { startTrace } from '../../src/trace/native.js';
import { liveCaptureRules } from '../../src/session/pipeline.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { bpfUnavailable, CLI, cliUnavailable, startCli, until, type CliProcess } from '../helpers/cli.js';
import { collect, fixture, maskAddresses } from '../helpers/trace.js';
import { Tmux, tmuxSkipReason } from '../tui/tmux.js';

const skip = bpfUnavailable();
if (skip) console.warn(`skipping host-wide tests: ${skip}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'vft-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let running: CliProcess[] = [];
afterEach(() => {
  for (const p of running) p.child.kill('SIGKILL');
  running = [];
});

/** A copy of a program under a name (its comm) no other test uses. */
function renamed(program: string): { exe: string; comm: string } {
  const comm = `hw${path.basename(program).slice(0, 5)}${Math.random().toString(36).slice(2, 10)}`.slice(0, 15);
  const exe = path.join(dir, comm);
  copyFileSync(program, exe);
  return { exe, comm };
}

/** Runs argv in the /dev sandbox to its end, its own output kept off the trace. */
function runSandboxed(argv: string[]): number {
  const out = path.join(dir, `${path.basename(argv[0] ?? 'x')}.out`);
  const cmd = sandboxArgv(['sh', '-c', 'exec "$@" > "$0"', out, ...argv]);
  return spawnSync(cmd[0] as string, cmd.slice(1), { stdio: 'ignore', timeout: 60_000 }).status ?? -1;
}

/** runSandboxed without blocking this process's event loop (it may be reading a trace meanwhile). */
function runSandboxedAsync(argv: string[]): Promise<number> {
  const out = path.join(dir, `${path.basename(argv[0] ?? 'x')}.out`);
  const cmd = sandboxArgv(['sh', '-c', 'exec "$@" > "$0"', out, ...argv]);
  return new Promise((resolve) => spawn(cmd[0] as string, cmd.slice(1), { stdio: 'ignore' }).on('close', (code) => resolve(code ?? -1)));
}

function text(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The lines of one process (by comm) with the `[pid TID comm] ` prefix taken off, addresses masked. */
function linesOf(trace: string, comm: string): string[] {
  const prefix = new RegExp(`^\\[pid \\d+ ${comm}\\] `);
  return trace
    .split('\n')
    .filter((l) => prefix.test(l))
    .map((l) => maskAddresses(l.replace(prefix, '')));
}

/** Starts `vfiotrace --all` and waits until it says it is tracing. */
async function startAll(args: string[]): Promise<CliProcess> {
  const p = startCli(['--all', ...args]);
  running.push(p);
  await until(() => /tracing every process on this host/.test(p.stderr()) || p.child.exitCode !== null, 'the host-wide trace to start', 60_000);
  expect(p.stderr()).toContain('tracing every process on this host');
  return p;
}

describe.skipIf(skip !== null)('vfiotrace --all', () => {
  it('traces a process it never started from its first VFIO call, naming it, and only processes that make one', async () => {
    const out = path.join(dir, 'all.txt');
    const rec = path.join(dir, 'all.vft');
    const p = await startAll(['-o', out, '-w', rec]);
    const vfio = renamed(fixture('mixed'));
    const quiet = renamed('/bin/true'); // no ioctl at all
    expect(runSandboxed([vfio.exe])).toBe(0);
    expect(runSandboxed([quiet.exe])).toBe(0);
    await until(() => linesOf(text(out), vfio.comm).some((l) => l.startsWith('+++ exited with 0')), 'the VFIO client to be traced to its exit', 60_000);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);

    // The same calls, the same decoding, as tracing the command itself.
    const alone = spawnSync(process.execPath, [CLI, '--backend', 'ptrace', '-o', '-', '--', ...sandboxArgv(['sh', '-c', 'exec "$@" > /dev/null', 'sh', vfio.exe])], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const expected = alone.stdout.split('\n').filter((l) => l.startsWith('ioctl(')).map(maskAddresses);
    const seen = linesOf(text(out), vfio.comm);
    expect(expected.length).toBeGreaterThan(0);
    expect(seen.filter((l) => l.startsWith('ioctl('))).toEqual(expected);
    // A process without VFIO calls is never introduced.
    expect(text(out)).not.toContain(quiet.comm);

    // The recording says it is host-wide and reads back to the same lines.
    const big = { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 << 20 } as const; // other tests' processes are in it too
    const shown = spawnSync(process.execPath, [CLI, 'show', rec], big);
    expect(shown.status).toBe(0);
    expect(linesOf(shown.stdout, vfio.comm)).toEqual(seen);
    const json = spawnSync(process.execPath, [CLI, 'show', '--json', rec], big);
    const starts = json.stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.type === 'start');
    expect(starts.some((e) => JSON.stringify(e).includes(vfio.comm))).toBe(true);
  });

  it('meets a forked child at its own first call, under the name its exec gave it', async () => {
    const out = path.join(dir, 'forks.txt');
    const p = await startAll(['-o', out]);
    const client = renamed(fixture('forkexec'));
    // N calls in the parent, then a child that execs /proc/self/exe (so the
    // kernel names it "exe") and makes N more, then one more in the parent;
    // no other test uses this N.
    const n = 23;
    expect(runSandboxed([client.exe, String(n), 'fork'])).toBe(13); // the child's 3, plus 10
    const lanes = (): Map<string, { comm: string; calls: number; exit?: string }> => {
      const byPid = new Map<string, { comm: string; calls: number; exit?: string }>();
      for (const l of text(out).split('\n')) {
        const m = /^\[pid (\d+) (\S+)\] (.*)$/.exec(l);
        if (!m || (m[2] !== client.comm && m[2] !== 'exe')) continue;
        const lane = byPid.get(m[1]!) ?? { comm: m[2]!, calls: 0 };
        if (m[3]!.startsWith('ioctl(')) lane.calls++;
        if (m[3]!.startsWith('+++')) lane.exit = m[3];
        byPid.set(m[1]!, lane);
      }
      return byPid;
    };
    const ours = () => [...lanes().values()].filter((l) => (l.comm === 'exe' ? l.calls === n : l.comm === client.comm) && l.exit !== undefined);
    await until(() => ours().length === 2, 'parent and child to be traced to their exits', 60_000);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    expect(ours().sort((a, b) => a.comm.localeCompare(b.comm))).toEqual([
      { comm: 'exe', calls: n, exit: '+++ exited with 3 +++' },
      { comm: client.comm, calls: n + 1, exit: '+++ exited with 13 +++' },
    ]);
  });

  it("meets a process whose first calls race on several CPUs from named threads: every call, one START, the process's name", async () => {
    const session = startTrace({ allProcesses: true, rules: liveCaptureRules(), backend: 'bpf' });
    const collected = collect(session);
    const client = renamed(fixture('vcpus'));
    const runs = 20;
    const threads = 8;
    for (let i = 0; i < runs; i++) expect(await runSandboxedAsync([client.exe, String(threads)])).toBe(0);
    session.detach();
    const { records } = await collected;
    const starts = records.filter((r): r is ProcessRecord => r.type === 'process' && r.kind === ProcessEventKind.Start && r.text === client.comm);
    expect(starts).toHaveLength(runs);
    const pids = new Set(starts.map((r) => r.pid));
    expect(pids.size).toBe(runs);
    // No process of ours came in under a thread's name.
    expect(records.some((r) => r.type === 'process' && r.kind === ProcessEventKind.Start && pids.has(r.pid) && r.text !== client.comm)).toBe(false);
    const calls = records.filter((r) => r.type === 'ioctl' && pids.has(r.pid));
    expect(calls).toHaveLength(runs * (threads + 1));
  });

  it('leaves the tracer itself out, even with --all-ioctls', async () => {
    const session = startTrace({ allProcesses: true, ioctlType: -1, rules: liveCaptureRules(), backend: 'bpf' });
    const collected = collect(session);
    // The tracing process makes an ioctl of its own (isatty: TCGETS) while the session runs...
    const devNull = openSync('/dev/null', 'r');
    try {
      expect(isatty(devNull)).toBe(false);
    } finally {
      closeSync(devNull);
    }
    // ...and so does a client, which must be met.
    const vfio = renamed(fixture('mixed'));
    expect(await runSandboxedAsync([vfio.exe])).toBe(0);
    session.detach();
    const { records } = await collected;
    const starts = records.filter((r): r is ProcessRecord => r.type === 'process' && r.kind === ProcessEventKind.Start);
    expect(starts.some((r) => r.text === vfio.comm)).toBe(true);
    expect(starts.filter((r) => r.pid === process.pid)).toEqual([]);
    expect(records.filter((r) => r.type === 'ioctl' && r.pid === process.pid)).toEqual([]);
  });

  const tmuxSkip = tmuxSkipReason();
  it.skipIf(tmuxSkip !== null)('in the TUI: the header names the processes most recently active, and q stops', async () => {
    const tmux = new Tmux(160, 40);
    // A client that keeps calling (one VFIO ioctl a millisecond, deaf to
    // SIGINT/SIGTERM): whatever else the host runs, it stays among the most
    // recently active.
    const client = renamed(fixture('lingering'));
    const out = path.join(dir, 'lingering.out');
    const cmd = sandboxArgv(['sh', '-c', 'exec "$@" > "$0"', out, client.exe, 'stubborn']);
    const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: 'ignore' });
    let pid = 0;
    try {
      tmux.start([process.execPath, CLI, 'tui', '--all'], { TMPDIR: dir });
      await tmux.waitFor((s) => s.includes('every process on this host'), 'the host-wide TUI');
      await until(() => /^ready (\d+)/m.test(text(out)), 'the client to start');
      pid = Number(/^ready (\d+)/m.exec(text(out))?.[1]);
      await tmux.waitFor((s) => s.includes(`${pid} ${client.comm}`), 'the client named in the header');
      tmux.keys('q');
      await tmux.waitFor((s) => s.includes('[exit status 0]'), 'the TUI to exit');
    } finally {
      tmux.kill();
      if (pid > 0) process.kill(pid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });
});

describe.skipIf(cliUnavailable() !== null)('vfiotrace --all refusals', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 60_000 });

  it.each([
    [['--all', '--backend', 'ptrace'], {}, 'cannot trace every process: it needs the eBPF backend'],
    [['--all'], { VFIOTRACE_NO_BPF: '1' }, 'cannot trace every process: eBPF disabled by VFIOTRACE_NO_BPF=1'],
    [['--all', '-p', '1'], {}, 'give one of COMMAND [ARGS], -p PID or --all'],
    [['--all', '--', 'true'], {}, 'give one of COMMAND [ARGS], -p PID or --all'],
    [['--all', '-f'], {}, '-f has no meaning with --all'],
  ] as [string[], Record<string, string>, string][])('%j: one line, status 2', (args, env, msg) => {
    const r = run(args, { ...process.env, ...env });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`vfiotrace: ${msg}`);
  });
});
