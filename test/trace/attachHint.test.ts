// EPERM on attach gets its likely cause, read from /proc: another tracer
// (named), a kernel thread, Yama's ptrace_scope, another user's process.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachHint, type AttachFacts } from '../../src/trace/attachHint.js';
import { startTrace, TraceError } from '../../src/trace/native.js';
import { CLI, cliUnavailable } from '../helpers/cli.js';
import { fixture, tracerUnavailable, waitForText } from '../helpers/trace.js';

const base: AttachFacts = {
  pid: 1234, tracerTid: 0, tracerPid: null, tracerComm: null, kernelThread: false, uid: 0,
  selfPid: 99, selfUid: 0, selfCanPtrace: true, ptraceScope: 1,
};

describe('attachHint', () => {
  it('names the tracer a process already has', () => {
    expect(attachHint({ ...base, tracerTid: 4501, tracerPid: 4500, tracerComm: 'gdb' }))
      .toBe('already traced by process 4500 (gdb), and a process can have only one tracer (TracerPid in /proc/1234/status)');
    expect(attachHint({ ...base, tracerTid: 100, tracerPid: 99 })).toMatch(/^already traced by this vfiotrace,/);
  });

  it('says a kernel thread cannot be traced, and vfiotrace cannot trace itself', () => {
    expect(attachHint({ ...base, kernelThread: true })).toBe('1234 is a kernel thread, which cannot be traced');
    expect(attachHint({ ...base, pid: 99 })).toBe('that is vfiotrace itself');
  });

  it('explains Yama: 3 for everyone, 1 and 2 only without CAP_SYS_PTRACE', () => {
    expect(attachHint({ ...base, ptraceScope: 3 })).toMatch(/^kernel\.yama\.ptrace_scope is 3: attaching is disabled until reboot$/);
    const user = { ...base, selfUid: 1000, uid: 1000, selfCanPtrace: false };
    expect(attachHint({ ...user, ptraceScope: 2 })).toMatch(/^kernel\.yama\.ptrace_scope is 2: only a process with CAP_SYS_PTRACE/);
    expect(attachHint({ ...user, ptraceScope: 1 })).toMatch(/^kernel\.yama\.ptrace_scope is 1: without CAP_SYS_PTRACE only an ancestor may attach/);
    expect(attachHint({ ...user, uid: 0, ptraceScope: 0 })).toBe('it runs as uid 0: run vfiotrace as root or as that user');
  });
});

const skip = tracerUnavailable() ?? cliUnavailable();
if (skip) console.warn(`skipping live EPERM tests: ${skip}`);

describe.skipIf(skip !== null)('attaching to a process that already has a tracer', () => {
  it('fails with one line naming the tracer, exit 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vft-eperm-'));
    const out = path.join(dir, 'loop.out');
    // Through a shell, so the target is not this process's child (libuv would reap its stops).
    const pid = Number(execFileSync('sh', ['-c', `${fixture('loop')} 60000 1 > ${out} 2>&1 & echo $!`]).toString().trim());
    try {
      await waitForText(out, 'ready');
      const first = startTrace({ pids: [pid], rules: [] });
      first.stream.resume();
      try {
        expect(readFileSync(`/proc/${pid}/status`, 'utf8')).not.toMatch(/TracerPid:\s+0\n/);
        // In-process, the cause is this very process.
        expect(() => startTrace({ pids: [pid], rules: [] })).toThrow(TraceError);
        expect(() => startTrace({ pids: [pid], rules: [] })).toThrow(`cannot attach to ${pid}: Operation not permitted; already traced by this vfiotrace`);
        // From the command line, the cause is this process, named.
        // Only ptrace needs to be the tracer (the eBPF backend attaches beside another one).
        const r = spawnSync(process.execPath, [CLI, '--backend', 'ptrace', '-p', String(pid)], { encoding: 'utf8', timeout: 60_000 });
        expect(r.status).toBe(2);
        expect(r.stderr).toBe(
          `vfiotrace: cannot attach to ${pid}: Operation not permitted; already traced by process ${process.pid} (${readFileSync('/proc/self/comm', 'utf8').trim()}), ` +
            `and a process can have only one tracer (TracerPid in /proc/${pid}/status)\n`,
        );
      } finally {
        first.detach();
        await first.done;
      }
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});
