// vfiotrace-record on this machine: it traces fixtures in the /dev sandbox,
// and `vfiotrace show` of its recording prints exactly what the live tracer
// printed for the same program. The two runs are separate processes, so ASLR
// is switched off (setarch -R) to make pointer arguments repeat, and pids and
// times, which differ between any two runs, are compared by role.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run as show } from '../../src/commands/show.js';
import { run as trace } from '../../src/commands/trace.js';
import { EndReason } from '../../src/trace/events.js';
import { parseRecording } from '../../src/trace/reader.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { fixture } from '../helpers/trace.js';
import { liveSkipReason, runCli, tmp } from '../integration/helpers.js';
import { RECORDER, recorderUnavailable } from './build.js';

const skip = liveSkipReason() ?? recorderUnavailable() ?? (existsSync(fixture('demo_client')) ? null : 'test fixtures are not built');
const why = skip ? ` (skipped: ${skip})` : '';
const itLive = it.skipIf(skip !== null);

function record(args: string[], file: string) {
  const r = spawnSync(RECORDER, ['-o', file, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}

/** Same ASLR-free command line for both tracers. */
const inSandbox = (cmd: string[]): string[] => sandboxArgv(['setarch', '-R', ...cmd]);

/** Pids in order of first appearance become P1, P2, … ("[pid 1234]", "pid":1234). */
function normalizePids(text: string): string {
  const seen = new Map<string, string>();
  const name = (p: string) => {
    if (!seen.has(p)) seen.set(p, `P${seen.size + 1}`);
    return seen.get(p) as string;
  };
  return text
    .replace(/\[pid (\d+)\]/g, (_, p: string) => `[pid ${name(p)}]`)
    .replace(/"(pid|tid|parent)":(\d+)/g, (_, k: string, p: string) => `"${k}":"${name(p)}"`);
}

/** JSON lines without the per-run times. */
const untimed = (jsonl: string): string => jsonl.replace(/"(ts|dur)":\d+/g, '"$1":0');

async function compare(cmd: string[], flags: string[] = []) {
  const dir = tmp();
  const file = path.join(dir, 'rec.vft');
  const rec = record([...flags, '--', ...cmd], file);
  expect(rec.stderr).toBe('');
  const shown = await runCli(show, [file], dir, 'show.txt');
  const shownJson = await runCli(show, ['--json', file], dir, 'show.jsonl');
  const live = await runCli(trace, [...flags, '--', ...cmd], dir, 'live.txt');
  const liveJson = await runCli(trace, ['--json', ...flags, '--', ...cmd], dir, 'live.jsonl');
  for (const r of [shown, shownJson, live, liveJson]) expect(r.stderr).toBe('');
  expect(shown.code).toBe(0);
  expect(shownJson.code).toBe(0);
  return { rec, file, shown, shownJson, live, liveJson };
}

describe('vfiotrace-record against the live tracer', () => {
  beforeAll(() => {
    if (skip) process.stderr.write(`test/power/recorder: skipped: ${skip}\n`);
  });

  itLive.each([[[] as string[]], [['spapr']]])(`demo_client %j: show prints what the live trace printed${why}`, async (mode) => {
    const r = await compare(inSandbox([fixture('demo_client'), ...mode]));
    expect(r.rec.code).toBe(0);
    expect(r.live.code).toBe(0);
    expect(r.shown.stdout.split('\n').filter((l) => l.startsWith('ioctl(')).length).toBeGreaterThan(20);
    expect(r.shown.stdout).toBe(r.live.stdout);
    expect(normalizePids(untimed(r.shownJson.stdout))).toBe(normalizePids(untimed(r.liveJson.stdout)));
    const { header } = parseRecording(new Uint8Array(readFileSync(r.file)));
    expect(header).toMatchObject({ arch: 'x86_64', byteOrder: 'le', producer: 'vfiotrace-record 0.1.0' });
  });

  itLive(`-f across fork and exec: same lines per process, and the command's exit status${why}`, async () => {
    const r = await compare(inSandbox([fixture('forkexec'), '3']), ['-f']);
    // forkexec exits with its child's status (3) + 10
    expect(r.rec.code).toBe(13);
    expect(r.live.code).toBe(13);
    expect(r.shown.stdout).toMatch(/^\[pid \d+\] ioctl\(3<\/dev\/vfio\/42>, VFIO_GET_API_VERSION, 0\) = -1 ENOTTY/m);
    expect(r.shown.stdout).toMatch(/^\[pid \d+\] \+\+\+ exited with 3 \+\+\+$/m);
    expect(r.shown.stdout).toMatch(/^\+\+\+ exited with 13 \+\+\+$/m);
    expect(normalizePids(r.shown.stdout)).toBe(normalizePids(r.live.stdout));
    expect(normalizePids(untimed(r.shownJson.stdout))).toBe(normalizePids(untimed(r.liveJson.stdout)));
  });

  itLive(`-s caps payloads as the live tracer does${why}`, async () => {
    const r = await compare(inSandbox([fixture('demo_client'), 'type1']), ['-s', '8']);
    expect(r.shown.stdout).toBe(r.live.stdout);
    expect(r.shown.stdout).toContain('info capture-truncated: captured 8 of 24 bytes');
  });
});

/** Starts a program, resolves once it printed `ready` on stdout. */
function startReady(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${String(code)}) before it was ready`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, ready, exited };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the recording holds more than its header (some events arrived). */
async function grows(file: string, min = 512): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(file) && statSync(file).size > min) return;
    await sleep(25);
  }
  throw new Error(`${file} did not grow past ${min} bytes`);
}

describe('vfiotrace-record signals', () => {
  itLive(`spawn mode: SIGTERM goes to the command, whose death is the exit status${why}`, async () => {
    const file = path.join(tmp(), 'term.vft');
    const p = startReady(RECORDER, ['-o', file, '--', fixture('signals'), 'wait', '1000']);
    await p.ready;
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(128 + 15);
    const { records } = parseRecording(new Uint8Array(readFileSync(file)));
    const end = records.at(-1);
    expect(end?.type === 'end' && [end.reason, end.status]).toEqual([EndReason.Killed, 15]);
  });

  itLive(`attach mode: SIGINT detaches, the target runs on untraced${why}`, async () => {
    const file = path.join(tmp(), 'attach.vft');
    const target = startReady(fixture('loop'), ['20000']);
    try {
      await target.ready;
      const pid = target.child.pid as number;
      const rec = spawn(RECORDER, ['-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
      const recExit = new Promise<number | null>((resolve) => rec.once('exit', (c) => resolve(c)));
      await grows(file);
      rec.kill('SIGINT');
      expect(await recExit).toBe(0);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^TracerPid:\s+0$/m);
      expect(status).not.toMatch(/^State:\s+[tT]/m);
      const { header, records } = parseRecording(new Uint8Array(readFileSync(file)));
      expect(header.attachedPids).toEqual([pid]);
      expect(records.filter((x) => x.type === 'ioctl').length).toBeGreaterThan(0);
      const end = records.at(-1);
      expect(end?.type === 'end' && end.reason).toBe(EndReason.Detached);
    } finally {
      target.child.kill('SIGKILL');
      await target.exited;
    }
  });
});

describe('vfiotrace-record errors', () => {
  const noRec = recorderUnavailable();
  const itRec = it.skipIf(noRec !== null);
  const run = (args: string[]) => spawnSync(RECORDER, args, { encoding: 'utf8', timeout: 30_000 });

  itRec(`one clear line and status 2 for bad usage${noRec ? ` (skipped: ${noRec})` : ''}`, () => {
    const cases: [string[], string][] = [
      [['--', 'true'], '-o FILE is required'],
      [['-o', '/dev/null'], 'must have COMMAND [ARGS] or -p PID'],
      [['-o', '/dev/null', '-p', '1', '--', 'true'], 'give either COMMAND [ARGS] or -p PID, not both'],
      [['-o', '/dev/null', '-p', '0'], "invalid process id: '0'"],
      [['-o', '/dev/null', '-s', '99999999999', 'true'], "invalid -s value: '99999999999'"],
      [['-o', '/dev/null', '-s', '67108865', 'true'], "invalid -s value: '67108865' (bytes, 0 to 64 MiB)"],
      [['--bogus'], "unknown option or missing argument: '--bogus'"],
      [['-o', path.join(tmp(), 'no', 'such', 'dir'), 'true'], 'cannot write'],
    ];
    for (const [args, msg] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toContain(msg);
    }
  });

  itLive(`a full disk: the command still runs to its end, the recorder says the file is incomplete${why}`, () => {
    const r = spawnSync(RECORDER, ['-o', '/dev/full', '--', fixture('burst'), '2', '500'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.match(/^tid \d+ 500$/gm)).toHaveLength(2);
    expect(r.stderr).toBe('vfiotrace-record: writing /dev/full: No space left on device (the recording is incomplete)\n');
    expect(r.status).toBe(2);
  });

  itLive(`a command that cannot run: status 127 and why, in the recording too${why}`, () => {
    const file = path.join(tmp(), 'enoent.vft');
    const r = run(['-o', file, '--', 'no-such-command-here']);
    expect(r.status).toBe(127);
    expect(r.stderr).toBe('vfiotrace-record: exec no-such-command-here: No such file or directory\n');
    const end = parseRecording(new Uint8Array(readFileSync(file))).records.at(-1);
    expect(end?.type === 'end' && [end.reason, end.status, end.text]).toEqual([EndReason.Exited, 127, 'exec no-such-command-here: No such file or directory']);
  });
});
