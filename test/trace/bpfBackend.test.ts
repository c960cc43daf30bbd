// The eBPF capture backend against the ptrace one: the same programs give
// the same decoded trace (names, payloads in and out, returns, fd paths,
// process events), losses are counted and reported, pages that are mapped
// but not resident are flagged rather than invented or blamed on the
// caller, an attached target is never harmed, and `auto` falls back to
// ptrace where BPF cannot load.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EndReason, IOCTL_FLAG } from '../../src/trace/events.js';
import { startTrace } from '../../src/trace/native.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { liveCaptureRules } from '../../src/session/pipeline.js';
import { bpfUnavailable, CLI, cliUnavailable, startCli, until } from '../helpers/cli.js';
import { collect, fixture, ioctls, maskAddresses, waitForText } from '../helpers/trace.js';

const skip = bpfUnavailable();
if (skip) console.warn(`skipping eBPF backend tests: ${skip}`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI, run to its end (the target's own stdout goes to a file, the trace to stdout). */
function cli(args: string[], env: NodeJS.ProcessEnv = process.env, prefix: string[] = []): Run {
  const r = spawnSync(prefix[0] ?? process.execPath, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), CLI, ...args], {
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fixture in the /dev sandbox, its own output kept off the trace. */
function sandboxed(name: string, ...args: string[]): string[] {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'vft-bpf-')), `${name}.out`);
  return sandboxArgv(['sh', '-c', 'exec "$@" > "$0"', out, fixture(name), ...args]);
}

/** The trace with what differs between any two runs masked: pids and mapping addresses. */
function normalized(text: string): string[] {
  return text
    .split('\n')
    .map((l) => maskAddresses(l).replace(/\[pid +\d+\]/g, '[pid]').replace(/pid \d+/g, 'pid N'))
    .filter((l) => l.length > 0);
}

function traceWith(backend: 'bpf' | 'ptrace', command: string[], more: string[] = []): Run {
  return cli(['--backend', backend, '-o', '-', ...more, '--', ...command]);
}

describe.skipIf(skip !== null)('eBPF backend', () => {
  it.each([
    ['mixed', [] as string[]],
    ['forkexec', []],
    ['signals', []],
    ['badptr', []],
  ])('%s: the same decoded trace as ptrace, with -f', (name, args) => {
    const command = sandboxed(name, ...args);
    const viaPtrace = traceWith('ptrace', command, ['-f']);
    const viaBpf = traceWith('bpf', command, ['-f']);
    expect(viaBpf.code).toBe(viaPtrace.code);
    expect(normalized(viaPtrace.stdout).filter((l) => l.includes('ioctl(')).length).toBeGreaterThan(0);
    // badptr's third call reads a .bss page the program never touched: a
    // limit of eBPF (it cannot fault pages in), shown as such (below).
    const comparable = (lines: string[]): string[] =>
      name === 'badptr' ? lines.filter((l) => !/capture-truncated|payload-unavailable/.test(l)) : lines;
    expect(comparable(normalized(viaBpf.stdout))).toEqual(comparable(normalized(viaPtrace.stdout)));
  });

  it('threads: the same calls per thread as ptrace (their interleaving is the scheduler\'s)', () => {
    const command = sandboxed('burst', '3', '400');
    const perThread = (r: Run): string[] => normalized(r.stdout).sort();
    const viaPtrace = traceWith('ptrace', command);
    const viaBpf = traceWith('bpf', command);
    expect(viaBpf.code).toBe(0);
    expect(perThread(viaBpf)).toEqual(perThread(viaPtrace));
    expect(perThread(viaBpf).filter((l) => l.includes('VFIO_GET_API_VERSION'))).toHaveLength(1200);
  });

  it('flags a page that is mapped but not resident, and still blames a pointer into a hole', async () => {
    const got = await collect(startTrace({ command: sandboxed('unresident'), rules: liveCaptureRules(), backend: 'bpf' }));
    const [unresident, hole] = ioctls(got.records);
    expect(unresident?.inFault).toBe(16);
    expect((unresident?.flags ?? 0) & IOCTL_FLAG.IN_UNAVAILABLE).toBe(IOCTL_FLAG.IN_UNAVAILABLE);
    // Nothing invented: only the 16 bytes that could be read are in the record.
    expect(unresident?.entry.length).toBe(16);
    expect(hole?.inFault).toBe(16);
    expect((hole?.flags ?? 0) & IOCTL_FLAG.IN_UNAVAILABLE).toBe(0);

    const text = traceWith('bpf', sandboxed('unresident')).stdout;
    const [first, second] = text.split(/^(?=ioctl\()/m).filter((c) => c.startsWith('ioctl('));
    expect(first).toContain('warning payload-unavailable: bytes from offset 16 were in a page not resident at entry');
    expect(first).not.toContain('argsz-unreadable');
    expect(second).toContain('error argsz-unreadable: argsz reaches unreadable memory at offset 16');
  });

  it('counts the calls a full ring loses, and says so (END, stderr, -c)', async () => {
    const calls = 2 * 5000;
    const got = await collect(startTrace({ command: [fixture('burst'), '2', '5000'], rules: liveCaptureRules(), backend: 'bpf', bpfSmallRing: true }));
    const end = got.records.find((r) => r.type === 'end');
    expect(end?.type === 'end' && end.reason).toBe(EndReason.Exited);
    const dropped = end?.type === 'end' ? end.dropped : 0;
    const kept = ioctls(got.records).length;
    expect(dropped).toBeGreaterThan(0);
    expect(kept).toBeLessThan(calls);
    // Every call is either in the recording or counted (a lost fork or exit counts too).
    expect(kept + dropped).toBeGreaterThanOrEqual(calls);

    const summary = cli(['--backend', 'bpf', '-c', '-o', '-', '--', fixture('burst'), '2', '5000'], { ...process.env, VFIOTRACE_BPF_SMALL_RING: '1' });
    expect(summary.code).toBe(0);
    expect(summary.stderr).toMatch(/vfiotrace: \d+ events were lost/);
    expect(summary.stdout).toMatch(/\(\d+ events lost by the tracer are not counted\)/);
  });

  it('attaches without stopping the target, and detaches leaving it to finish with its own status', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vft-bpf-attach-'));
    const out = path.join(dir, 'loop.out');
    const trace = path.join(dir, 'trace.txt');
    // Through a shell, so the target is not this process's child; its pid and status land in files.
    const pidFile = path.join(dir, 'loop.pid');
    execFileSync('sh', ['-c', `(${fixture('loop')} 4000 2 > ${out} 2>&1 & echo $! > ${pidFile}; wait $!; echo "status $?" >> ${out}) > /dev/null 2>&1 &`]);
    await waitForText(out, 'ready');
    const loopPid = Number(readFileSync(pidFile, 'utf8').trim());
    const tracer = startCli(['--backend', 'bpf', '-v', '-o', trace, '-p', String(loopPid)]);
    await until(() => (readFileSync(trace, { encoding: 'utf8', flag: 'a+' }).match(/VFIO_GET_API_VERSION/g) ?? []).length >= 20, 'calls traced from the attached process');
    // Never stopped: no ptrace stop state, no tracer.
    expect(readFileSync(`/proc/${loopPid}/status`, 'utf8')).toMatch(/^TracerPid:\s+0$/m);
    tracer.child.kill('SIGINT');
    expect(await tracer.exited).toBe(0);
    expect(tracer.stderr()).toContain('capture backend: bpf, chosen with --backend bpf');
    expect(readFileSync(trace, 'utf8')).toContain('+++ detached +++');
    const text = await waitForText(out, 'status', 60_000);
    expect(text).toMatch(/done \d+/);
    expect(text).toContain('status 7');
  });

  it('says a process is attached at once, before it makes any call', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vft-bpf-idle-'));
    const trace = path.join(dir, 'trace.txt');
    const pidFile = path.join(dir, 'sleep.pid');
    // An idle target, not this process's child: it makes no VFIO call at all.
    execFileSync('sh', ['-c', `(sleep 120 & echo $! > ${pidFile}) > /dev/null 2>&1 &`]);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0, 'the idle target to start');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      const tracer = startCli(['--backend', 'bpf', '-o', trace, '-p', String(pid)]);
      await until(() => readFileSync(trace, { encoding: 'utf8', flag: 'a+' }).includes(`Process ${pid} attached`), 'the attach line while the target is idle', 60_000);
      tracer.child.kill('SIGINT');
      expect(await tracer.exited).toBe(0);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  }, 120_000);

  it('auto falls back to ptrace with the reason when BPF cannot load (capabilities dropped)', () => {
    const drop = ['setpriv', '--inh-caps=-bpf,-sys_admin,-perfmon', '--bounding-set=-bpf,-sys_admin,-perfmon'];
    const fallback = cli(['-v', '-o', '-', '--', fixture('mixed')], process.env, drop);
    expect(fallback.stderr).toMatch(/^vfiotrace: capture backend: ptrace, auto, eBPF unavailable: cannot load the eBPF capture program: Operation not permitted/m);
    expect(fallback.code).toBe(0);
    expect(fallback.stdout.match(/^ioctl\(/gm)?.length).toBe(20);

    const refused = cli(['--backend', 'bpf', '--', fixture('mixed')], process.env, drop);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual(['vfiotrace: cannot load the eBPF capture program: Operation not permitted (needs root, or CAP_BPF with CAP_PERFMON)']);
  });

  it('outside the host\'s pid namespace, bpf is refused (its pids are the host\'s) and auto falls back', () => {
    const ns = ['unshare', '--pid', '--fork', '--mount-proc'];
    const refused = cli(['--backend', 'bpf', '--', fixture('mixed')], process.env, ns);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual(["vfiotrace: cannot use the eBPF backend: it sees the host's pids, and this is not the host's pid namespace"]);
    const fallback = cli(['-v', '-o', '-', '--', fixture('mixed')], process.env, ns);
    expect(fallback.stderr).toMatch(/^vfiotrace: capture backend: ptrace, auto, eBPF unavailable: cannot use the eBPF backend/m);
    expect(fallback.code).toBe(0);
    expect(fallback.stdout.match(/^ioctl\(/gm)?.length).toBe(20);
  });

  it('auto takes bpf where it loads, and falls back on the simulated failure', () => {
    expect(cli(['-v', '--', 'true']).stderr).toContain('capture backend: bpf, auto, eBPF loaded');
    const simulated = cli(['-v', '-o', '-', '--', fixture('mixed')], { ...process.env, VFIOTRACE_NO_BPF: '1' });
    expect(simulated.stderr).toContain('capture backend: ptrace, auto, eBPF disabled by VFIOTRACE_NO_BPF=1');
    expect(simulated.stdout.match(/^ioctl\(/gm)?.length).toBe(20);
  });
});
