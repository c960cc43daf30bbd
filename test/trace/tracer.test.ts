// The native tracer against real processes (C fixtures). Needs ptrace; the
// /dev sandbox tests also need mount namespaces. Both skip with a reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CaptureRule } from '../../src/trace/captureRule.js';
import { EndReason, IOCTL_FLAG, ProcessEventKind, RuleKind } from '../../src/trace/events.js';
import { TraceError, startTrace } from '../../src/trace/native.js';
import { readStream } from '../../src/trace/recordingStream.js';
import {
  collect,
  fixture,
  haveStrace,
  inSandbox,
  ioctls,
  processes,
  sandboxUnavailable,
  toFile,
  traceRun,
  tracerUnavailable,
  waitForText,
} from '../helpers/trace.js';

const noTracer = tracerUnavailable();
const noSandbox = noTracer ?? sandboxUnavailable();
if (noTracer) console.warn(`skipping tracer tests: ${noTracer}`);
else if (noSandbox) console.warn(`skipping sandbox tracer tests: ${noSandbox}`);

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'vft-trace-'));
const VFIO_DEVICE_GET_INFO = 0x3b6b;
const sizedRule: CaptureRule = { request: VFIO_DEVICE_GET_INFO, kind: RuleKind.Sized, size: 0, minsz: 16, cap: 4096 };

describe.skipIf(noTracer !== null)('native tracer', () => {
  it('reports every ioctl of a 16-thread x 10,000-call burst exactly once, with the right tid', async () => {
    const out = path.join(tmp(), 'burst.out');
    const { records, result } = await traceRun(toFile([fixture('burst'), '16', '10000'], out));
    expect(result).toMatchObject({ reason: EndReason.Exited, status: 0 });
    const calls = ioctls(records);
    expect(calls.length).toBe(160_000);
    expect(result.events).toBe(160_000n);
    const perTid = new Map<number, number>();
    for (const c of calls) {
      expect(c.request).toBe(0x3b64n);
      expect(c.flags).toBe(0);
      perTid.set(c.tid, (perTid.get(c.tid) ?? 0) + 1);
    }
    // the fixture prints "tid T N" from each thread: the tids it really had
    const printed = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[1]));
    expect(printed.length).toBe(16);
    expect([...perTid.keys()].sort()).toEqual([...printed].sort());
    for (const n of perTid.values()) expect(n).toBe(10_000);
    // each worker thread was announced
    const threads = processes(records).filter((p) => p.kind === ProcessEventKind.Thread);
    expect(threads.map((t) => t.tid).sort()).toEqual([...printed].sort());
  });

  it('applies back-pressure: a paused reader holds the tracee, nothing is lost', async () => {
    const s = startTrace({ command: [fixture('burst'), '1', '60000'], rules: [] });
    s.stream.pause();
    // Held means: the worker sits in a ptrace stop ('t') and no thread makes
    // progress (context-switch counts stay still) while nobody reads.
    const sample = (): string =>
      readdirSync(`/proc/${s.pid}/task`)
        .map((t) => {
          const state = readFileSync(`/proc/${s.pid}/task/${t}/stat`, 'utf8').split(') ')[1]?.[0];
          const sw = /voluntary_ctxt_switches:\s+(\d+)\nnonvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${s.pid}/task/${t}/status`, 'utf8'));
          return `${t}:${state}:${sw?.[1]}:${sw?.[2]}`;
        })
        .join(' ');
    const deadline = Date.now() + 30_000;
    let held = false;
    while (!held && Date.now() < deadline) {
      const a = sample();
      await new Promise((r) => setTimeout(r, 200));
      held = a === sample() && a.split(' ').some((t) => t.split(':')[1] === 't');
    }
    expect(held).toBe(true);
    const { records, result } = await collect(s);
    expect(ioctls(records).length).toBe(60_000);
    expect(result).toMatchObject({ reason: EndReason.Exited, status: 0, events: 60_000n });
  });

  it('stops only on VFIO ioctls by default, on every ioctl with ioctlType -1', async () => {
    const onlyVfio = ioctls((await traceRun([fixture('mixed'), '5'])).records);
    expect(onlyVfio.length).toBe(10);
    expect(onlyVfio.every((c) => ((c.request >> 8n) & 0xffn) === 0x3bn)).toBe(true);
    const all = ioctls((await traceRun([fixture('mixed'), '5'], { ioctlType: -1 })).records);
    const kinds = new Set(all.map((c) => Number(c.request)));
    for (const r of [0x5401 /* TCGETS */, 0x541b /* FIONREAD */, 0x5421 /* FIONBIO */, 0x3b64, 0x3b65]) {
      expect(kinds.has(r)).toBe(true);
    }
    expect(all.filter((c) => c.request === 0x5401n).length).toBeGreaterThanOrEqual(5);
  });

  it('propagates exit codes and death by signal', async () => {
    const exited = await traceRun([fixture('loop'), '20', '1']);
    expect(exited.result).toMatchObject({ reason: EndReason.Exited, status: 7 });
    const end = exited.records[exited.records.length - 1];
    expect(end).toMatchObject({ type: 'end', reason: EndReason.Exited, status: 7 });
    const killed = await traceRun([fixture('signals'), 'abort']);
    expect(killed.result).toMatchObject({ reason: EndReason.Killed, status: 6 });
    const k = processes(killed.records).find((p) => p.kind === ProcessEventKind.Killed);
    expect(k?.value).toBe(6);
  });

  it('re-injects signals: a self-signalling tracee sees every one', async () => {
    const { records, result } = await traceRun([fixture('signals'), 'self', '20']);
    expect(result).toMatchObject({ reason: EndReason.Exited, status: 20 });
    const sigs = processes(records).filter((p) => p.kind === ProcessEventKind.Signal && p.value === 10);
    expect(sigs.length).toBe(20);
  });

  it('forwards signals to the spawned child (session.signal)', async () => {
    const s = startTrace({ command: [fixture('signals'), 'wait', '3'], rules: [] });
    const rec = await readStream(s.stream);
    let sent = 0;
    let seen = 0;
    let calls = 0;
    for await (const r of rec.records()) {
      if (r.type === 'ioctl' && ++calls === 5) {
        s.signal('SIGUSR1');
        sent++;
      }
      if (r.type === 'process' && r.kind === ProcessEventKind.Signal && r.value === 10) {
        seen++;
        if (sent < 3) {
          s.signal('SIGUSR1');
          sent++;
        }
      }
    }
    expect(seen).toBe(3);
    expect(await s.done).toMatchObject({ reason: EndReason.Exited, status: 3 });
    const t = startTrace({ command: [fixture('signals'), 'wait', '3'], rules: [] });
    const r2 = await readStream(t.stream);
    for await (const r of r2.records()) if (r.type === 'ioctl') t.signal('SIGTERM');
    expect(await t.done).toMatchObject({ reason: EndReason.Killed, status: 15 });
  });

  it('keeps job control working: SIGSTOP stops the tracee, SIGCONT resumes it', async () => {
    const s = startTrace({ command: [fixture('signals'), 'wait', '1'], rules: [] });
    const rec = await readStream(s.stream);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let calls = 0;
    const script = (async () => {
      while (calls < 3) await sleep(5);
      s.signal('SIGSTOP');
      await sleep(100);
      const during = calls;
      await sleep(200);
      const afterStop = calls;
      s.signal('SIGCONT');
      while (calls < afterStop + 3) await sleep(5);
      s.signal('SIGUSR1');
      return afterStop - during;
    })();
    const kinds: number[] = [];
    for await (const r of rec.records()) {
      if (r.type === 'ioctl') calls++;
      else if (r.type === 'process' && r.kind === ProcessEventKind.Signal) kinds.push(r.value);
    }
    expect(await script).toBe(0); // no calls while stopped
    expect(kinds).toEqual([19, 18, 10]); // SIGSTOP, SIGCONT, SIGUSR1 all delivered
    expect(await s.done).toMatchObject({ reason: EndReason.Exited, status: 1 });
  });

  it('follows fork+exec with follow, keeps the child traced but silent without', async () => {
    const f = await traceRun([fixture('forkexec'), '4'], { follow: true });
    expect(f.result).toMatchObject({ reason: EndReason.Exited, status: 13 });
    const calls = ioctls(f.records);
    const pids = [...new Set(calls.map((c) => c.pid))];
    expect(pids.length).toBe(2);
    const [parent, child] = pids as [number, number];
    expect(calls.filter((c) => c.pid === parent).length).toBe(5);
    expect(calls.filter((c) => c.pid === child).length).toBe(4);
    const ps = processes(f.records);
    expect(ps.find((p) => p.kind === ProcessEventKind.Start && p.pid === child)?.other).toBe(parent);
    expect(ps.some((p) => p.kind === ProcessEventKind.Exec && p.pid === child && p.text.endsWith('forkexec'))).toBe(true);
    expect(ps.find((p) => p.kind === ProcessEventKind.Exit && p.pid === child)?.value).toBe(3);

    const nf = await traceRun([fixture('forkexec'), '4']);
    // the child still ran its calls (no ENOSYS from an untraced filter) and exited 3
    expect(nf.result).toMatchObject({ reason: EndReason.Exited, status: 13 });
    expect(ioctls(nf.records).length).toBe(5);
    expect(processes(nf.records).every((p) => p.pid === ioctls(nf.records)[0]?.pid)).toBe(true);
  });

  it('follows vfork children, and a non-leader thread that execs', async () => {
    const v = await traceRun([fixture('forkexec'), '2', 'vfork'], { follow: true });
    expect(v.result).toMatchObject({ reason: EndReason.Exited, status: 13 });
    expect(new Set(ioctls(v.records).map((c) => c.pid)).size).toBe(2);
    expect(ioctls(v.records).length).toBe(5);

    const t = await traceRun([fixture('forkexec'), '2', 'thread']);
    expect(t.result).toMatchObject({ reason: EndReason.Exited, status: 3 });
    const calls = ioctls(t.records);
    expect(calls.length).toBe(4);
    const pid = calls[0]?.pid as number;
    // after the exec the program runs as the leader again, same pid
    expect(calls.every((c) => c.pid === pid)).toBe(true);
    expect(calls.slice(2).every((c) => c.tid === pid && c.fdPath !== '')).toBe(true);
    const execs = processes(t.records).filter((p) => p.kind === ProcessEventKind.Exec);
    const last = execs[execs.length - 1];
    expect(last?.tid).toBe(pid);
    expect(last?.other).not.toBe(0); // the former tid of the exec'ing thread
    expect(last?.other).not.toBe(pid);
  });

  it('records faults and truncation for bad pointers and hostile argsz, without dying', async () => {
    const { records, result } = await traceRun([fixture('badptr')], { rules: [sizedRule] });
    expect(result).toMatchObject({ reason: EndReason.Exited, status: 0 });
    const [unmapped, edge, hostile] = ioctls(records);
    expect(unmapped).toMatchObject({ flags: IOCTL_FLAG.IN_FAULT, inFault: 0, wantLen: 16, ruleKind: RuleKind.Sized });
    expect(unmapped?.entry.length).toBe(0);
    expect(edge).toMatchObject({ wantLen: 64, inFault: 16 });
    expect(edge?.flags).toBe(IOCTL_FLAG.IN_FAULT);
    expect(edge?.entry.length).toBe(16);
    expect(new DataView(edge!.entry.buffer, edge!.entry.byteOffset).getUint32(0, true)).toBe(64);
    expect(edge?.exit.length).toBe(16);
    expect(hostile).toMatchObject({ flags: IOCTL_FLAG.TRUNCATED, wantLen: 0xffffffff, inFault: null });
    expect(hostile?.entry.length).toBe(4096);
    expect(hostile?.exit.length).toBe(4096);
    // the global cap (-s) bounds it further
    const small = ioctls((await traceRun([fixture('badptr')], { rules: [sizedRule], payloadCap: 100 })).records);
    expect(small[2]?.entry.length).toBe(100);
    expect(small[2]?.flags).toBe(IOCTL_FLAG.TRUNCATED);
    const none = ioctls((await traceRun([fixture('badptr')], { rules: [sizedRule], payloadCap: 0 })).records);
    expect(none[2]).toMatchObject({ flags: IOCTL_FLAG.TRUNCATED, wantLen: 0xffffffff });
    expect(none[2]?.entry.length).toBe(0);
  });

  it('reports an exec failure like strace, with status 127', async () => {
    const { records, result } = await traceRun(['/nonexistent/prog']);
    expect(result).toMatchObject({ reason: EndReason.Exited, status: 127 });
    expect(result.error).toBe('exec /nonexistent/prog: No such file or directory');
    expect(records[records.length - 1]).toMatchObject({ type: 'end', status: 127 });
  });

  it('spawns with the given environment and working directory', async () => {
    const dir = tmp();
    const out = path.join(dir, 'env.out');
    const { result } = await traceRun(['sh', '-c', 'echo "$PWD $VFT_X ${HOME:-nohome}" > "$0"', out], {
      env: { VFT_X: 'yes', PATH: process.env.PATH },
      cwd: dir,
    });
    expect(result).toMatchObject({ reason: EndReason.Exited, status: 0 });
    expect(readFileSync(out, 'utf8').trim()).toBe(`${dir} yes nohome`);
    const bad = await traceRun(['true'], { cwd: '/nonexistent-dir' });
    expect(bad.result).toMatchObject({ status: 127, error: 'chdir /nonexistent-dir: No such file or directory' });
  });

  it('refuses bad attach targets with clear errors', () => {
    expect(() => startTrace({ pids: [0x3fffffff], rules: [] })).toThrow(/cannot attach to \d+: No such process/);
    // a thread of our own process: the kernel refuses (EPERM)
    let err: unknown;
    try {
      startTrace({ pids: [process.pid], rules: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceError);
    expect((err as TraceError).code).toBe('EPERM');
    expect((err as Error).message).toMatch(/cannot attach to \d+: Operation not permitted/);
    expect(() => startTrace({ rules: [] })).toThrow(/give one of: a command/);
  });

  it('records a call whose thread died inside it as NO_EXIT', async () => {
    const out = path.join(tmp(), 'stuck.out');
    const FIONBIO = 0x5421; // 'T' type: stop on that byte instead of VFIO's
    const s = startTrace({ command: toFile([fixture('stuck')], out), rules: [], ioctlType: 0x54 });
    const rec = await readStream(s.stream);
    const killer = (async () => {
      try {
        await waitForText(out, 'blocking');
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        s.signal('SIGKILL'); // never leave the session hanging
      }
    })();
    const records = [];
    for await (const r of rec.records()) records.push(r);
    await killer;
    const calls = ioctls(records).filter((c) => c.request === BigInt(FIONBIO));
    expect(calls.length).toBe(1);
    expect(calls[0]?.flags).toBe(IOCTL_FLAG.NO_EXIT);
    expect(calls[0]?.tExit).toBe(0n);
    expect(await s.done).toMatchObject({ reason: EndReason.Killed, status: 9 });
  });

  it('detach gives up on a thread that cannot stop, and still lets it go', async () => {
    const dir = tmp();
    const out = path.join(dir, 'stuck.out');
    const pid = Number(execFileSync('sh', ['-c', `${fixture('stuck')} > ${out} 2>&1 & echo $!`]).toString());
    try {
      await waitForText(out, 'blocking');
      await new Promise((r) => setTimeout(r, 50));
      const s = startTrace({ pids: [pid], rules: [], ioctlType: 0x54 });
      const rec = await readStream(s.stream);
      setTimeout(() => s.detach(), 100);
      const records = [];
      for await (const r of rec.records()) records.push(r);
      expect(await s.done).toMatchObject({ reason: EndReason.Detached });
      expect(processes(records).filter((p) => p.kind === ProcessEventKind.Detached).length).toBe(2);
      expect(existsSync(`/proc/${pid}`)).toBe(true); // still alive, no longer traced
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/TracerPid:\s+0\n/);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('attaches to a running multi-threaded process and detaches leaving it to finish', async () => {
    const dir = tmp();
    const out = path.join(dir, 'loop.out');
    // started through a shell so it is not Node's own child (libuv would reap its stops)
    const pid = Number(
      execFileSync('sh', [
        '-c',
        `(${fixture('loop')} 1500 3 > ${out} & echo $! > ${dir}/pid; wait $!; echo "exit $?" >> ${out}) >/dev/null 2>&1 & sleep 0.05; cat ${dir}/pid`,
      ]).toString(),
    );
    await waitForText(out, 'ready');
    const s = startTrace({ pids: [pid], rules: [] });
    const rec = await readStream(s.stream);
    expect(rec.header.attachedPids).toEqual([pid]);
    let calls = 0;
    const tids = new Set<number>();
    const records = [];
    for await (const r of rec.records()) {
      records.push(r);
      if (r.type === 'ioctl') {
        tids.add(r.tid);
        if (++calls === 60) s.detach();
      }
    }
    const result = await s.done;
    expect(result.reason).toBe(EndReason.Detached);
    expect(calls).toBeGreaterThanOrEqual(60);
    expect(tids.size).toBe(3);
    const detached = processes(records).filter((p) => p.kind === ProcessEventKind.Detached);
    expect(detached.length).toBe(3);
    for (let i = 0; i < 400 && !readFileSync(out, 'utf8').includes('exit'); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/done \d+/);
    expect(text).toMatch(/exit 7/);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

describe.skipIf(noSandbox !== null)('native tracer in the /dev sandbox', () => {
  it('records fd paths of the VFIO nodes', async () => {
    const { records, result } = await traceRun(inSandbox([fixture('demo_client')]), { rules: [sizedRule] });
    expect(result.status).toBe(0);
    const calls = ioctls(records);
    const paths = new Set(calls.map((c) => c.fdPath));
    expect(paths).toEqual(new Set(['/dev/vfio/vfio', '/dev/vfio/42', '/dev/vfio/devices/vfio0']));
    expect(calls.every((c) => c.ret === -25n)).toBe(true); // ENOTTY on regular files
    const info = calls.find((c) => Number(c.request) === VFIO_DEVICE_GET_INFO);
    // a sized rule reads exactly argsz (the client's sizeof(struct vfio_device_info))
    const argsz = new DataView(info!.entry.buffer, info!.entry.byteOffset).getUint32(0, true);
    expect(argsz).toBeGreaterThanOrEqual(16);
    expect(info?.entry.length).toBe(argsz);
    expect(info?.exit.length).toBe(argsz);
  });

  it.skipIf(!haveStrace())('agrees with strace on the same program: count, fds, requests, errno', async () => {
    const dir = tmp();
    const st = path.join(dir, 'strace.out');
    const argv = inSandbox([fixture('demo_client')]);
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=ioctl', '-e', 'raw=ioctl', '-o', st, ...argv], {
      stdio: 'ignore',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    const theirs = readFileSync(st, 'utf8')
      .split('\n')
      .map((l) => /ioctl\((0x[0-9a-f]+), (0x[0-9a-f]+), [^)]*\)\s+= (-?\d+)(?: (E[A-Z]+))?/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && ((Number(m[2]) >> 8) & 0xff) === 0x3b)
      .map((m) => `${Number(m[1])} ${Number(m[2]).toString(16)} ${m[4] ?? m[3]}`);
    const { records } = await traceRun(argv);
    const errnoName: Record<string, string> = { '-25': 'ENOTTY', '-22': 'EINVAL', '-9': 'EBADF', '-14': 'EFAULT' };
    const ours = ioctls(records).map(
      (c) => `${Number(c.fd)} ${Number(c.request).toString(16)} ${c.ret < 0n ? errnoName[String(c.ret)] : String(c.ret)}`,
    );
    expect(theirs.length).toBeGreaterThan(30);
    expect(ours).toEqual(theirs);
  });
});
