// Which backend a session starts on (src/trace/backend.ts), with a stand-in
// for the engine: auto prefers bpf and falls back on an eBPF failure only;
// emulation always runs on ptrace.

import { afterEach, describe, expect, it } from 'vitest';
import { NO_BPF_ENV, startCapture } from '../../src/trace/backend.js';
import { TraceError, type TraceOptions, type TraceSession } from '../../src/trace/native.js';

const base: TraceOptions = { command: ['true'], rules: [] };

/** An engine stand-in that records what it was asked for and fails as told. */
function engine(fail: (o: TraceOptions) => TraceError | null = () => null) {
  const asked: (string | undefined)[] = [];
  const start = (o: TraceOptions): TraceSession => {
    asked.push(o.backend);
    const e = fail(o);
    if (e) throw e;
    return {} as TraceSession;
  };
  return { asked, plain: { start, emulating: false }, emulator: { start, emulating: true } };
}

const noBpf = (o: TraceOptions) => (o.backend === 'bpf' ? new TraceError('cannot load the eBPF capture program: Operation not permitted', 'EBPF') : null);

afterEach(() => {
  delete process.env[NO_BPF_ENV];
});

describe('startCapture', () => {
  it('auto takes bpf when it loads', () => {
    const e = engine();
    expect(startCapture('auto', base, e.plain)).toMatchObject({ backend: 'bpf', why: 'auto, eBPF loaded: the traced processes never stop' });
    expect(e.asked).toEqual(['bpf']);
  });

  it('auto falls back to ptrace on an eBPF failure, with its reason', () => {
    const e = engine(noBpf);
    const r = startCapture('auto', base, e.plain);
    expect(r).toMatchObject({ backend: 'ptrace', why: 'auto, eBPF unavailable: cannot load the eBPF capture program: Operation not permitted' });
    expect(e.asked).toEqual(['bpf', 'ptrace']);
  });

  it('any other failure is the session\'s, not a reason to fall back', () => {
    const e = engine(() => new TraceError('cannot attach to 42: No such process', 'ESRCH'));
    expect(() => startCapture('auto', { pids: [42], rules: [] }, e.plain)).toThrow(/No such process/);
    expect(e.asked).toEqual(['bpf']);
  });

  it('an explicit bpf fails rather than falls back', () => {
    const e = engine(noBpf);
    expect(() => startCapture('bpf', base, e.plain)).toThrow(/Operation not permitted/);
    expect(e.asked).toEqual(['bpf']);
  });

  it('an emulator gets ptrace under auto, and an explicit bpf is refused before anything starts', () => {
    const e = engine();
    expect(startCapture('auto', base, e.emulator)).toMatchObject({ backend: 'ptrace', why: 'auto, as emulation changes call results, which only ptrace can' });
    expect(() => startCapture('bpf', base, e.emulator)).toThrow(/emulation needs the ptrace backend/);
    expect(startCapture('auto', { ...base, verdictFd: 5 }, e.plain).backend).toBe('ptrace');
    expect(e.asked).toEqual(['ptrace', 'ptrace']);
  });

  it(`${NO_BPF_ENV}=1 makes auto behave as if BPF could not load, and refuses bpf`, () => {
    process.env[NO_BPF_ENV] = '1';
    const e = engine();
    expect(startCapture('auto', base, e.plain)).toMatchObject({ backend: 'ptrace', why: `auto, eBPF disabled by ${NO_BPF_ENV}=1` });
    expect(() => startCapture('bpf', base, e.plain)).toThrow(/disabled by/);
    expect(e.asked).toEqual(['ptrace']);
  });
});
