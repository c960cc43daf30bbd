// Live tracing through the CLI: exit status, live == show, -e/-c on a real
// run, and a cross-check against strace on the same fixture. Needs root (or
// user namespaces), ptrace and the native tracer; skipped with the reason
// otherwise.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run as show } from '../../src/commands/show.js';
import { run as trace } from '../../src/commands/trace.js';
import { main } from '../../src/cli.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { buildFixture, hasStrace, liveSkipReason, runCli, tmp } from './helpers.js';

const skip = liveSkipReason();
if (skip) console.warn(`skipping live CLI tests: ${skip}`);

describe.skipIf(skip !== null)('vfiotrace (live)', () => {
  let dir: string;
  let fixture: string;
  const sandboxed = (...args: string[]): string[] => sandboxArgv([fixture, ...args]);

  beforeAll(() => {
    dir = tmp();
    fixture = buildFixture('vfio_calls', dir);
  });

  it('exits with the traced command status, 128+N when killed', async () => {
    const ok = await runCli(trace, ['--', ...sandboxed('7')], dir, 'a.txt');
    expect(ok.code).toBe(7);
    expect(ok.stdout.trimEnd().split('\n').at(-1)).toBe('+++ exited with 7 +++');
    const killed = await runCli(trace, ['--', ...sandboxed('0', 'kill')], dir, 'b.txt');
    expect(killed.code).toBe(128 + 9);
    expect(killed.stdout).toContain('+++ killed by SIGKILL +++');
  });

  it('the CLI dispatcher returns the traced status too, with or without --', async () => {
    expect((await runCli(main, ['--', ...sandboxed('3')], dir, 'm1.txt')).code).toBe(3);
    const r = await runCli(main, sandboxed('4'), dir, 'm2.txt'); // options end at the command
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/VFIO_GET_API_VERSION/);
  });

  it('-s cuts payloads and marks them', async () => {
    const r = await runCli(trace, ['-s', '12', '--', ...sandboxed()], dir, 's.txt');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_IOMMU_MAP_DMA, \{argsz=32, flags=[^,]*, .*\.\.\.\}\) = -1 ENOTTY/m);
    const j = await runCli(trace, ['--json', '-s', '12', '--', ...sandboxed()], dir, 's.json');
    const map = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { ioctl?: string; truncated?: boolean }).find((o) => o.ioctl === 'VFIO_IOMMU_MAP_DMA');
    expect(map?.truncated).toBe(true);
  });

  it('gives one-line errors with exit 2 for bad invocations', async () => {
    const none = await runCli(trace, [], dir, 'c.txt');
    expect(none).toMatchObject({ code: 2 });
    expect(none.stderr).toMatch(/^vfiotrace: must have COMMAND/);
    const missing = await runCli(trace, ['--', '/nonexistent/prog'], dir, 'd.txt');
    expect(missing.code).toBe(2);
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
    const nopid = await runCli(trace, ['-p', '999999999'], dir, 'e.txt');
    expect(nopid.code).toBe(2);
    expect(nopid.stderr.trimEnd().split('\n')).toHaveLength(1);
    const badpid = await runCli(trace, ['-p', 'abc'], dir, 'f.txt');
    expect(badpid.code).toBe(2);
  });

  it('prints the same thing live and from the -w recording (text and JSON)', async () => {
    const rec = path.join(dir, 'run.vft');
    const live = await runCli(trace, ['-f', '-T', '-tt', '-w', rec, '--', ...sandboxed('0', 'fork')], dir, 'live.txt');
    expect(live.code).toBe(0);
    expect(live.stdout.split('\n').filter((l) => /^(\[pid +\d+\] )?([\d:.]+ )?ioctl\(/.test(l)).length).toBe(22);
    expect(live.stdout).toMatch(/^\[pid +\d+\] /m); // two processes: prefixes appear
    const replay = await runCli(show, ['-T', '-tt', rec], dir, 'replay.txt');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toBe(live.stdout);
    const json = await runCli(show, ['--json', rec], dir, 'replay.json');
    const objs = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(objs.filter((o) => o.type === 'ioctl')).toHaveLength(22);
    expect(objs.at(-1)).toMatchObject({ type: 'end', reason: 'exited', status: 0 });
  });

  it('-e and -c work on a live run', async () => {
    const e = await runCli(trace, ['-e', 'VFIO_CHECK_EXTENSION', '--', ...sandboxed()], dir, 'g.txt');
    expect(e.code).toBe(0);
    expect(e.stdout.split('\n').filter((l) => l.startsWith('ioctl('))).toHaveLength(2);
    const c = await runCli(trace, ['-c', '--', ...sandboxed()], dir, 'h.txt');
    expect(c.stdout).toMatch(/^ +\S+ +\S+ +\d+ +2 +2 VFIO_CHECK_EXTENSION$/m);
    expect(c.stdout).toMatch(/ 11 +11 total\n$/);
    const all = await runCli(trace, ['--all-ioctls', '--', ...sandboxed()], dir, 'i.txt');
    expect(all.stdout).toMatch(/^ioctl\(1<[^>]*>, TCGETS, /m);
  });

  it.skipIf(!hasStrace())('agrees with strace on the VFIO calls of the same program', async () => {
    const sout = path.join(dir, 'strace.txt');
    const st = spawnSync('strace', ['-f', '-qq', '-y', '-e', 'trace=ioctl', '-e', 'signal=none', '-o', sout, '--', ...sandboxed('0', 'fork')], { stdio: 'ignore' });
    expect(st.status).toBe(0);
    // strace -y: `ioctl(3</dev/vfio/vfio>, REQ, ARG) = -1 ENOTTY (...)`, one line per call with -f prefixes.
    const theirs = readFileSync(sout, 'utf8').split('\n')
      .map((l) => /ioctl\((\d+)<(\/dev\/(?:vfio\/[^>]*|iommu))>, .* = (-?\d+)(?: (E[A-Z0-9]+))?/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]} ${m[2]} ${m[3]} ${m[4] ?? ''}`);
    const ours = await runCli(trace, ['--json', '-f', '--', ...sandboxed('0', 'fork')], dir, 'ours.json');
    const mine = ours.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; fd: number; fd_path: string; ret: number; errno: string | null })
      .filter((o) => o.type === 'ioctl')
      .map((o) => `${o.fd} ${o.fd_path} ${o.ret} ${o.errno ?? ''}`);
    expect(theirs.length).toBe(22);
    expect(mine).toEqual(theirs);
  });
});
