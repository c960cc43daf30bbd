import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run as show } from '../../src/commands/show.js';
import { runCli, tmp } from '../integration/helpers.js';
import { x86Session } from './recordings.js';

let dir: string;
let bytes: Uint8Array;
let offsets: number[];
let full: string;

beforeAll(() => {
  dir = tmp();
  ({ bytes, offsets } = x86Session());
  full = path.join(dir, 'full.vft');
  writeFileSync(full, bytes);
});

describe('vfiotrace show', () => {
  it('prints one strace-style line per ioctl and the exit', async () => {
    const r = await runCli(show, [full], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').filter((l) => !l.startsWith('  ^'));
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_GET_API_VERSION, .*\) = -1 ENOTTY \(Inappropriate ioctl for device/);
    expect(lines[1]).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH\) = -1 ENOTTY/);
    expect(lines[2]).toMatch(/^ioctl\(4<\/dev\/vfio\/42>, VFIO_GROUP_GET_STATUS, \{argsz=8.*\) = -1 ENOTTY/);
    expect(lines[3]).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_EEH_PE_OP, \{argsz=16, flags=0(x0)?, op=VFIO_EEH_PE_GET_STATE\b.*\) = -1 ENOTTY/);
    expect(lines[4]).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, 0x3ba0, 0(x0)?\) = -1 ENOTTY/);
    expect(lines[5]).toBe('+++ exited with 0 +++');
  });

  it('--json lines parse and carry the required keys', async () => {
    const r = await runCli(show, ['--json', full], dir);
    expect(r.code).toBe(0);
    const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const ioctls = objs.filter((o) => o.type === 'ioctl');
    expect(ioctls).toHaveLength(5);
    for (const o of ioctls) {
      for (const k of ['seq', 'ts', 'dur', 'pid', 'tid', 'fd', 'fd_kind', 'fd_path', 'request', 'ioctl', 'arg', 'ret', 'errno', 'in', 'out', 'findings']) {
        expect(o, k).toHaveProperty(k);
      }
      expect(o).toMatchObject({ ret: -1, errno: 'ENOTTY', pid: 4242, dur: 2500 });
    }
    expect(ioctls[3]).toMatchObject({ ioctl: 'VFIO_EEH_PE_OP', fd_kind: 'container', in: { argsz: 16, flags: 0, op: 4 } });
    expect(ioctls[4]).toMatchObject({ ioctl: null, request: 0x3ba0 });
    expect(objs.map((o) => o.type)).toEqual(['start', 'ioctl', 'ioctl', 'ioctl', 'ioctl', 'ioctl', 'exit', 'end']);
  });

  it('-e and -c select and count', async () => {
    const e = await runCli(show, ['-e', 'eeh_pe_op,group', full], dir);
    expect(e.stdout.split('\n').filter((l) => l.startsWith('ioctl(')).map((l) => l.split(', ')[1])).toEqual(['VFIO_GROUP_GET_STATUS', 'VFIO_EEH_PE_OP']);
    const neg = await runCli(show, ['-e', '!container', full], dir);
    expect(neg.stdout.split('\n').filter((l) => l.startsWith('ioctl('))).toHaveLength(1);
    const c = await runCli(show, ['-c', full], dir);
    const rows = c.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^% time +seconds +usecs\/call +calls +errors ioctl$/);
    expect(rows.at(-1)).toMatch(/^100\.00 +0\.000012 +2 +5 +5 total$/);
    expect(rows.filter((l) => / VFIO_| 0x3ba0$/.test(l))).toHaveLength(5);
    const bad = await runCli(show, ['-e', 'VFIO_NO_SUCH', full], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown ioctl, family or fd kind: VFIO_NO_SUCH/);
  });

  it('a truncated recording prints every complete record, then the offset, and fails', async () => {
    const cut = offsets[4]! + 20; // inside the 4th ioctl record
    const file = path.join(dir, 'cut.vft');
    writeFileSync(file, bytes.subarray(0, cut));
    const r = await runCli(show, [file], dir, 'cut.txt');
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n').filter((l) => l.startsWith('ioctl('))).toHaveLength(3);
    expect(r.stderr).toContain(`byte ${offsets[4]!}`);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a recording without END is reported as cut short', async () => {
    const file = path.join(dir, 'noend.vft');
    writeFileSync(file, bytes.subarray(0, offsets[7]!));
    const r = await runCli(show, [file], dir, 'noend.txt');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('+++ exited with 0 +++');
    expect(r.stderr).toMatch(/without an END record/);
    expect(r.stderr).toBe(`vfiotrace: ${file}: incomplete recording: it ends at byte ${offsets[7]!} without an END record (the tracer was stopped or the file was cut short)\n`);
  });

  it('-o into a missing directory names the file and the reason', async () => {
    const r = await runCli(show, ['-o', '/nonexistent/x', full], dir, 'unused.txt');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('vfiotrace: cannot write /nonexistent/x: No such file or directory\n');
  });

  it('an empty file, /dev/null and a directory are named as such, in one line', async () => {
    const empty = path.join(dir, 'empty.vft');
    writeFileSync(empty, '');
    for (const [f, what] of [[empty, 'empty: not a vfiotrace recording'], ['/dev/null', 'empty: not a vfiotrace recording'], [dir, 'is a directory']] as const) {
      const r = await runCli(show, [f], dir, 'nothing.txt');
      expect(r.code, f).not.toBe(0);
      expect(r.stderr).toBe(`vfiotrace: ${f}: ${what}\n`);
    }
  });

  it('corrupt and missing files give one clear line', async () => {
    const junk = path.join(dir, 'junk.vft');
    writeFileSync(junk, 'this is not a recording at all');
    const j = await runCli(show, [junk], dir, 'junk.txt');
    expect(j.code).toBe(1);
    expect(j.stderr).toMatch(/^vfiotrace: .*junk\.vft: .*magic.*\n$/);
    const bad = Uint8Array.from(bytes);
    new DataView(bad.buffer).setUint32(offsets[2]! + 4, 12, true); // len not a multiple of 8
    const corrupt = path.join(dir, 'badlen.vft');
    writeFileSync(corrupt, bad);
    const c = await runCli(show, [corrupt], dir, 'badlen.txt');
    expect(c.code).toBe(1);
    expect(c.stdout.split('\n').filter((l) => l.startsWith('ioctl('))).toHaveLength(1);
    expect(c.stderr).toContain(`byte ${offsets[2]!}`);
    const missing = await runCli(show, [path.join(dir, 'nope.vft')], dir, 'nope.txt');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.vft: no such file/);
    const usage = await runCli(show, [], dir, 'usage.txt');
    expect(usage.code).toBe(2);
  });
});
