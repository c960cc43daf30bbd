// Text, JSON and -c leave out what vfiotrace's own wrapper did around a
// command it started (the sandbox's unshare and shells, their mount and
// mkdir): on a recording made that way, and live under `vfiotrace emulate`.

import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emulationUnavailable, run as emulate } from '../../src/commands/emulate.js';
import { demoClientPath } from '../../src/commands/demo.js';
import { run as exportCmd } from '../../src/commands/export.js';
import { run as show } from '../../src/commands/show.js';
import { liveSkipReason, runCli, tmp } from '../integration/helpers.js';
import { writeWrappedRecording } from '../tui/recording.js';

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rec = path.join(dir, 'wrapped.vft');
writeWrappedRecording(rec);

type Obj = Record<string, unknown>;
const jsonLines = (s: string): Obj[] => s.trimEnd().split('\n').map((l) => JSON.parse(l) as Obj);

describe("a recording of a command inside vfiotrace's own wrapper", () => {
  it('JSON starts with the exec of the command and has no event of the wrapper', async () => {
    const r = await runCli(show, ['--json', rec], dir);
    expect(r.code).toBe(0);
    const objs = jsonLines(r.stdout);
    expect(objs[0]).toMatchObject({ type: 'exec', pid: 4242, path: '/usr/bin/qemu-system-ppc64' });
    expect(objs.filter((o) => o.type === 'ioctl')).toHaveLength(11);
    expect(objs.map((o) => o.type).slice(-2)).toEqual(['exit', 'end']);
    expect(objs.filter((o) => o.type !== 'end').every((o) => o.pid === 4242)).toBe(true);
    expect(r.stdout).not.toMatch(/unshare|dash|mount|mkdir/);
  });

  it('text and -c show the command alone', async () => {
    const t = await runCli(show, [rec], dir);
    expect(t.stdout).not.toMatch(/\[pid 50\d\d\]|SIGCHLD|mount/);
    expect(t.stdout.split('\n').filter((l) => l.startsWith('ioctl('))).toHaveLength(11);
    const c = await runCli(show, ['-c', rec], dir);
    expect(c.stdout.split('\n').find((l) => l.endsWith(' total'))).toMatch(/ 11 +1 total$/);
  });
});

describe("the Perfetto export of a command inside vfiotrace's own wrapper", () => {
  it('has one process, named after the command, and no instant of the wrapper', async () => {
    const r = await runCli(exportCmd, ['--format', 'perfetto', rec], dir, 'wrapped.json');
    expect(r.code).toBe(0);
    const ev = (JSON.parse(r.stdout) as { traceEvents: Obj[] }).traceEvents;
    expect(ev.filter((e) => e.name === 'process_name').map((e) => [e.pid, (e.args as Obj).name])).toEqual([[4242, 'qemu-system-ppc64']]);
    expect(ev.filter((e) => e.ph === 'i').map((e) => e.name)).toEqual(['exec /usr/bin/qemu-system-ppc64', 'exited with 0', 'end of trace (exited)']);
  });
});

const liveSkip = liveSkipReason() ?? emulationUnavailable();
if (liveSkip) console.warn(`skipping the live emulated JSON test: ${liveSkip}`);

describe.skipIf(liveSkip !== null)('vfiotrace emulate --json', () => {
  it('prints the demo client from its exec on, and nothing of the sandbox around it', async () => {
    const w = path.join(dir, 'demo.vft');
    const r = await runCli(emulate, ['--device', 'power-eeh', '--json', '-w', w, '--', demoClientPath(), 'spapr'], dir, 'demo.jsonl');
    expect(r.code).toBe(0);
    const objs = jsonLines(r.stdout);
    const main = objs[0]?.pid;
    expect(objs[0]).toMatchObject({ type: 'exec', path: demoClientPath() });
    expect(objs.filter((o) => o.type !== 'end').every((o) => o.pid === main)).toBe(true);
    expect(objs.filter((o) => o.type === 'ioctl').length).toBeGreaterThan(20);
    // The recording keeps everything: the wrapper is left out when reading, not when tracing.
    expect(readFileSync(w).includes('vfiotrace-sandbox')).toBe(true);
    const all = await runCli(show, ['--json', w], dir, 'again.jsonl');
    expect(all.stdout).toBe(r.stdout);
  });
});
