// vfiotrace's own wrapper around a spawned command (the sandbox's unshare and
// shells, the emulation's sysfs shell, the TUI's redirecting shell): told
// from the user's command by the recorded argv, and every event it causes
// told apart from the command's.

import { describe, expect, it } from 'vitest';
import { targetArgv } from '../../src/commands/tui.js';
import { resolveProfile } from '../../src/emulate/profiles/index.js';
import { emulationArgv } from '../../src/emulate/sandbox.js';
import { ProcessEventKind, type ProcessRecord, type TraceRecord } from '../../src/trace/events.js';
import { sandboxArgv } from '../../src/trace/sandbox.js';
import { OwnProcesses, unwrapCommand } from '../../src/trace/wrapper.js';
import { makeHeader } from '../../src/trace/writer.js';

const USER = ['/usr/bin/qemu-system-ppc64', '-M', 'pseries', '-device', 'vfio-pci,host=0000:01:00.0'];

describe('unwrapCommand', () => {
  it('finds the user command and counts the wrapper execs before it', () => {
    for (const userNamespace of [true, false]) {
      // unshare execs sh, sh execs the command.
      expect(unwrapCommand(sandboxArgv(USER, { userNamespace }))).toEqual({ command: USER, wrapperExecs: 2 });
    }
    const p = resolveProfile('power-eeh');
    // emulate: unshare, the sandbox's sh, the sysfs sh.
    expect(unwrapCommand(emulationArgv(USER, p, '/dev/shm/stage'))).toEqual({ command: USER, wrapperExecs: 3 });
    // tui --emulate: the redirecting shell on top.
    expect(unwrapCommand(emulationArgv(targetArgv(USER, '/tmp/out file'), p, '/dev/shm/stage'))).toEqual({ command: USER, wrapperExecs: 4 });
    // tui without emulation: only the redirecting shell.
    expect(unwrapCommand(targetArgv(USER, '/tmp/out'))).toEqual({ command: USER, wrapperExecs: 1 });
  });

  it('leaves a command vfiotrace did not wrap alone, shells and unshare included', () => {
    for (const argv of [USER, ['sh', '-c', 'exec "$@"', 'x', 'true'], ['unshare', '-m', 'sh', '-c', 'true'], [], ['sh', '-c', 'x', 'vfiotrace-sandbox', 'notanumber', 'true']]) {
      expect(unwrapCommand(argv)).toEqual({ command: argv, wrapperExecs: 0 });
    }
  });

  it('counts only whole layers when the recorded command line was cut short', () => {
    const argv = emulationArgv(USER, resolveProfile('x86-pci'), '/dev/shm/stage');
    // Cut inside the sysfs layer: the sandbox layer (2 execs) is whole, the rest is not known.
    const cut = argv.slice(0, argv.indexOf('vfiotrace-emulate') + 1);
    expect(unwrapCommand(cut).wrapperExecs).toBe(2);
  });
});

const MAIN = 500;
const TRACER = 400;
let ts = 0n;
function proc(kind: ProcessEventKind, pid: number, o: { other?: number; value?: number; text?: string } = {}): ProcessRecord {
  return { type: 'process', offset: 0, kind, pid, tid: pid, ts: ts++, value: o.value ?? 0, other: o.other ?? 0, text: o.text ?? '' };
}
function ioctl(pid: number): TraceRecord {
  return {
    type: 'ioctl', offset: 0, flags: 0, pid, tid: pid, tEntry: 0n, tExit: 0n, fd: 3n, request: 0x3b64n, arg: 0n, ret: 0n, wantLen: 0,
    inFault: null, outFault: null, ruleKind: 0, fdPath: '/dev/vfio/vfio', entry: new Uint8Array(), exit: new Uint8Array(),
  };
}

/** The start of an emulated session as the tracer records it (seen in `vfiotrace emulate --json`), then the user's command. */
function emulatedSession(): { rec: TraceRecord; own: boolean }[] {
  const S = ProcessEventKind;
  const helper = (pid: number, parent: number, exe: string) => [
    { rec: proc(S.Start, pid, { other: parent, text: 'sh' }), own: true },
    { rec: proc(S.Exec, pid, { text: exe }), own: true },
    { rec: proc(S.Exit, pid), own: true },
    { rec: proc(S.Signal, parent, { value: 17 }), own: true },
  ];
  return [
    { rec: proc(S.Start, MAIN, { other: TRACER, text: 'unshare' }), own: true },
    { rec: proc(S.Exec, MAIN, { text: '/usr/bin/unshare' }), own: true },
    { rec: proc(S.Exec, MAIN, { text: '/usr/bin/dash' }), own: true },
    ...helper(501, MAIN, '/usr/bin/mount'),
    ...helper(502, MAIN, '/usr/bin/mkdir'),
    { rec: proc(S.Exec, MAIN, { text: '/usr/bin/dash' }), own: true },
    ...helper(503, MAIN, '/usr/bin/mount'),
    // A helper's own child (a pipeline inside a helper) is the wrapper's too.
    { rec: proc(S.Start, 504, { other: 503, text: 'mount' }), own: true },
    { rec: proc(S.Exit, 504), own: true },
    // The user's command: its exec, its calls, its children (one reusing a helper's pid).
    { rec: proc(S.Exec, MAIN, { text: USER[0] }), own: false },
    { rec: ioctl(MAIN), own: false },
    { rec: proc(S.Start, 502, { other: MAIN, text: 'qemu-system-ppc64' }), own: false },
    { rec: ioctl(502), own: false },
    { rec: proc(S.Exit, 502), own: false },
    { rec: proc(S.Signal, MAIN, { value: 17 }), own: false },
    { rec: proc(S.Exit, MAIN), own: false },
    { rec: { type: 'end', offset: 0, reason: 1, status: 0, dropped: 0, events: 2n, text: '' }, own: false },
  ];
}

describe('OwnProcesses', () => {
  it('marks the wrapper processes and the traced pid before the user exec as vfiotrace\'s own', () => {
    const header = makeHeader({ argv: emulationArgv(USER, resolveProfile('power-eeh'), '/dev/shm/stage') });
    const own = OwnProcesses.forHeader(header);
    const events = emulatedSession();
    expect(events.map((e) => own.isOwn(e.rec))).toEqual(events.map((e) => e.own));
  });

  it('hides a helper whose exec is reported before its start, even when the start comes after the user exec', () => {
    const S = ProcessEventKind;
    const header = makeHeader({ argv: emulationArgv(USER, resolveProfile('power-eeh'), '/dev/shm/stage') });
    const own = OwnProcesses.forHeader(header);
    // Under load the child's first stop (its exec) can come before the parent's fork event.
    const events: { rec: TraceRecord; own: boolean }[] = [
      { rec: proc(S.Start, MAIN, { other: TRACER, text: 'unshare' }), own: true },
      { rec: proc(S.Exec, MAIN, { text: '/usr/bin/unshare' }), own: true },
      { rec: proc(S.Exec, MAIN, { text: '/usr/bin/dash' }), own: true },
      { rec: proc(S.Exec, 601, { text: '/usr/bin/mount' }), own: true },
      { rec: proc(S.Exec, MAIN, { text: '/usr/bin/dash' }), own: true },
      { rec: proc(S.Exec, MAIN, { text: USER[0] }), own: false },
      { rec: proc(S.Start, 601, { other: MAIN, text: 'sh' }), own: true },
      { rec: proc(S.Exit, 601), own: true },
      { rec: ioctl(MAIN), own: false },
      // A child of the user's command, its start reported first as usual.
      { rec: proc(S.Start, 602, { other: MAIN, text: 'client' }), own: false },
      { rec: ioctl(602), own: false },
    ];
    expect(events.map((e) => own.isOwn(e.rec))).toEqual(events.map((e) => e.own));
  });

  it('keeps the end of the traced process, whoever ran in it: a command that never started still ends', () => {
    const own = OwnProcesses.forHeader(makeHeader({ argv: sandboxArgv(['/nonexistent']) }));
    expect(own.isOwn(proc(ProcessEventKind.Start, MAIN, { other: TRACER }))).toBe(true);
    expect(own.isOwn(proc(ProcessEventKind.Exec, MAIN, { text: '/usr/bin/unshare' }))).toBe(true);
    expect(own.isOwn(proc(ProcessEventKind.Exec, MAIN, { text: '/usr/bin/dash' }))).toBe(true);
    expect(own.isOwn(proc(ProcessEventKind.Exit, MAIN, { value: 127 }))).toBe(false);
  });

  it('marks nothing in a command vfiotrace did not wrap, nor in attached processes', () => {
    const plain = OwnProcesses.forHeader(makeHeader({ argv: ['sh', '-c', 'true'] }));
    const attached = OwnProcesses.forHeader(makeHeader({ argv: [], attachedPids: [MAIN] }));
    for (const o of [plain, attached]) {
      expect(o.active).toBe(false);
      for (const e of emulatedSession()) expect(o.isOwn(e.rec)).toBe(false);
    }
  });
});
