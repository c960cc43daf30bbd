// A host-wide recording (`vfiotrace --all`) read without eBPF: its header
// says so (tag 7), and every text line names its process, [pid TID comm],
// the name following START and each EXEC as the engine records them.

import { describe, expect, it } from 'vitest';
import type { DecodedProcess } from '../../src/decode/types.js';
import { TextRenderer } from '../../src/render/text.js';
import { ProcessNames } from '../../src/trace/comm.js';
import { ProcessEventKind, type ProcessRecord } from '../../src/trace/events.js';
import { parseHeader } from '../../src/trace/reader.js';
import { encodeHeader, makeHeader } from '../../src/trace/writer.js';
import { ioctl } from './helpers.js';

function proc(kind: ProcessEventKind, pid: number, text = '', value = 0): DecodedProcess {
  const record: ProcessRecord = { type: 'process', offset: 0, kind, pid, tid: pid, ts: 0n, value, other: 0, text };
  return { kind: 'process', seq: 1, ts: 0, pid, tid: pid, record };
}

describe('host-wide recordings', () => {
  it('the header says host-wide (tag 7) and reads back so; other headers do not', () => {
    const back = (hostWide: boolean) => parseHeader(encodeHeader(makeHeader({ hostWide })))?.header.hostWide;
    expect(back(true)).toBe(true);
    expect(back(false)).toBe(false);
  });

  it('every line names its process, even the only one, and the name follows exec', () => {
    const t = new TextRenderer(makeHeader({ hostWide: true }));
    const out = [
      t.render(proc(ProcessEventKind.Start, 100, 'qemu-system-x86')),
      t.render(ioctl({ pid: 100, tid: 104 })),
      t.render(proc(ProcessEventKind.Exec, 100, '/usr/local/bin/a-program-with-a-long-name')),
      t.render(ioctl({ pid: 100, tid: 100 })),
      t.render(proc(ProcessEventKind.Exit, 100, '', 0)),
    ].join('');
    expect(out).toBe([
      '[pid 104 qemu-system-x86] ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '[pid 100 a-program-with-] ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '[pid 100 a-program-with-] +++ exited with 0 +++',
      '',
    ].join('\n'));
  });

  it('a name with a space, quote or ] is quoted, so the prefix stays readable', () => {
    const t = new TextRenderer(makeHeader({ hostWide: true }));
    t.render(proc(ProcessEventKind.Start, 100, 'tmux: server'));
    t.render(proc(ProcessEventKind.Start, 101, 'a]"b'));
    expect(t.render(ioctl({ pid: 100, tid: 100 }))).toMatch(/^\[pid 100 "tmux: server"\] ioctl\(/);
    expect(t.render(ioctl({ pid: 101, tid: 101 }))).toMatch(/^\[pid 101 "a\]\\"b"\] ioctl\(/);
  });

  it('a session that is not host-wide keeps the strace prefix rules', () => {
    const t = new TextRenderer(makeHeader({}));
    t.render(proc(ProcessEventKind.Start, 100, 'client'));
    expect(t.render(ioctl({ pid: 100, tid: 100 }))).toMatch(/^ioctl\(/);
  });

  it('ProcessNames: START names, EXEC renames after the program, a reused pid gets its new START', () => {
    const n = new ProcessNames();
    n.note(proc(ProcessEventKind.Start, 7, 'sh').record);
    expect(n.get(7)).toBe('sh');
    n.note(proc(ProcessEventKind.Exec, 7, '/usr/bin/dpdk-testpmd').record);
    expect(n.get(7)).toBe('dpdk-testpmd');
    n.note(proc(ProcessEventKind.Exit, 7).record);
    expect(n.get(7)).toBe('dpdk-testpmd');
    n.note(proc(ProcessEventKind.Start, 7, 'qemu').record);
    expect(n.get(7)).toBe('qemu');
    expect(n.get(8)).toBeUndefined();
  });
});
