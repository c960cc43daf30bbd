import { describe, expect, it } from 'vitest';
import { TextRenderer } from '../../src/render/text.js';
import { ProcessEventKind } from '../../src/trace/events.js';
import { makeHeader } from '../../src/trace/writer.js';
import { ioctl, leaf, proc, struct } from './helpers.js';

const header = null;

describe('text renderer', () => {
  it('prints an integer-argument call strace-style', () => {
    const t = new TextRenderer(header);
    expect(t.render(ioctl())).toBe('ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)\n');
  });

  it('omits the fd path without -y and adds -T duration', () => {
    const t = new TextRenderer(header, { fdPaths: false, duration: true });
    expect(t.render(ioctl({ dur: 1_234_567_891 }))).toBe('ioctl(3, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported) <1.234567>\n');
  });

  it('shows entry fields and kernel-written fields after =>', () => {
    const inNode = struct('vfio_group_status', [leaf('argsz', 8, 'in'), leaf('flags', 0, 'out')]);
    const outNode = struct('vfio_group_status', [leaf('argsz', 8, 'in'), leaf('flags', 1, 'out', 'VFIO_GROUP_FLAGS_VIABLE', { changed: true })]);
    const t = new TextRenderer(header);
    const line = t.render(ioctl({ ioctl: 'VFIO_GROUP_GET_STATUS', in: inNode, out: outNode, ret: { value: 0, errno: null, meaning: '' }, fd: 4, fdPath: '/dev/vfio/42' }));
    expect(line).toBe('ioctl(4</dev/vfio/42>, VFIO_GROUP_GET_STATUS, {argsz=8} => {flags=VFIO_GROUP_FLAGS_VIABLE}) = 0\n');
  });

  it('--all-ioctls: common terminal and fd ioctls are named per architecture, others stay hex', () => {
    const other = (request: number, arch: string) =>
      new TextRenderer(makeHeader({ arch })).render(ioctl({ ioctl: null, family: null, resolution: 'unknown', request, fd: 0, fdPath: '/dev/pts/0', argDisplay: '0x7ffd0000', ret: { value: 0, errno: null, meaning: '' } }));
    expect(other(0x5401, 'x86_64')).toMatch(/^ioctl\(0<\/dev\/pts\/0>, TCGETS, 0x7ffd0000\) = 0\n$/);
    expect(other(0x5413, 'aarch64')).toContain(', TIOCGWINSZ, ');
    expect(other(0x541b, 'x86_64')).toContain(', FIONREAD, ');
    expect(other(0x5451, 'x86_64')).toContain(', FIOCLEX, ');
    expect(other(0x402c7413, 'ppc64le')).toContain(', TCGETS, ');
    expect(other(0x40087468, 'ppc64')).toContain(', TIOCGWINSZ, ');
    expect(other(0x5401, 'ppc64le')).toContain(', 0x5401, ');
    expect(other(0x1234, 'x86_64')).toContain(', 0x1234, ');
  });

  it('on failure shows only fields the kernel changed', () => {
    const inNode = struct('s', [leaf('argsz', 4, 'in'), leaf('flags', 0, 'out')]);
    const outNode = struct('s', [leaf('argsz', 4, 'in'), leaf('flags', 0, 'out')]);
    const t = new TextRenderer(header);
    const line = t.render(ioctl({ ioctl: 'VFIO_GROUP_GET_STATUS', in: inNode, out: outNode, ret: { value: -22, errno: 'EINVAL', meaning: 'argsz < minsz (8)' } }));
    expect(line).toBe('ioctl(3</dev/vfio/vfio>, VFIO_GROUP_GET_STATUS, {argsz=4}) = -1 EINVAL (Invalid argument: argsz < minsz (8))\n');
  });

  it('renders nested structs and arrays in C-initializer style', () => {
    const arr = { ...struct('data', [leaf('[0]', 7, 'in'), leaf('[1]', 9, 'in')]), ctype: '__s32[]' };
    const node = struct('vfio_irq_set', [leaf('argsz', 28, 'in'), struct('err', [leaf('type', 1, 'in'), leaf('func', 2, 'in')], 'in'), arr]);
    const t = new TextRenderer(header);
    const line = t.render(ioctl({ ioctl: 'VFIO_DEVICE_SET_IRQS', in: node, ret: { value: 0, errno: null, meaning: '' } }));
    expect(line).toContain(', {argsz=28, err={type=1, func=2}, data=[7, 9]}) = 0\n');
  });

  it('wraps a pointed-to integer in brackets like strace', () => {
    const t = new TextRenderer(header);
    const line = t.render(ioctl({ ioctl: 'VFIO_GROUP_SET_CONTAINER', in: leaf('', 3, 'in'), ret: { value: 0, errno: null, meaning: '' } }));
    expect(line).toContain(', VFIO_GROUP_SET_CONTAINER, [3]) = 0');
  });

  it('marks ambiguous and unknown requests by number', () => {
    const t = new TextRenderer(header);
    const amb = t.render(ioctl({ ioctl: null, request: 0x3b70, resolution: 'ambiguous', candidates: ['VFIO_IOMMU_GET_INFO', 'VFIO_IOMMU_SPAPR_TCE_GET_INFO'], argDisplay: '0x7ffc0000', ret: { value: -25, errno: 'ENOTTY', meaning: '' } }));
    expect(amb).toBe('ioctl(3</dev/vfio/vfio>, 0x3b70 /* ambiguous: VFIO_IOMMU_GET_INFO or VFIO_IOMMU_SPAPR_TCE_GET_INFO */, 0x7ffc0000) = -1 ENOTTY (Inappropriate ioctl for device)\n');
    const unk = t.render(ioctl({ ioctl: null, request: 0x3b99, resolution: 'unknown', argDisplay: '0', ret: { value: -25, errno: 'ENOTTY', meaning: '' } }));
    expect(unk).toContain(', 0x3b99, 0) = -1 ENOTTY');
  });

  it('prints ? for a call that never returned', () => {
    const t = new TextRenderer(header, { duration: true });
    expect(t.render(ioctl({ incomplete: true, dur: null }))).toBe('ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = ?\n');
  });

  it('prints findings under the line, filtered by severity', () => {
    const findings = [
      { rule: 'argsz-below-minsz', severity: 'warning' as const, message: 'argsz 4 < minsz 8', field: 'argsz' },
      { rule: 'note', severity: 'info' as const, message: 'just so you know' },
    ];
    const all = new TextRenderer(header).render(ioctl({ findings }));
    expect(all.split('\n')).toEqual([
      'ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '  ^ warning argsz-below-minsz: argsz 4 < minsz 8',
      '  ^ info note: just so you know',
      '',
    ]);
    expect(new TextRenderer(header, { findings: 'warning' }).render(ioctl({ findings })).split('\n')).toHaveLength(3);
    expect(new TextRenderer(header, { findings: 'none' }).render(ioctl({ findings })).split('\n')).toHaveLength(2);
  });

  it('never lets control characters from the tracee reach the output', () => {
    const t = new TextRenderer(header);
    const s = t.render(ioctl({
      fdPath: '/tmp/\x1b[2Jevil\nname\\x',
      in: { ...leaf('', 0, 'in'), value: undefined, text: 'a\x07b', display: '"a\x07b\u202e"' },
      ret: { value: -25, errno: 'ENOTTY', meaning: 'bad\rthing' },
    }));
    expect(s.slice(0, -1)).not.toMatch(/[\x00-\x1f\x7f\u202e]/);
    expect(s).toContain('3</tmp/\\x1b[2Jevil\\nname\\\\x>');
    expect(s).toContain('"a\\x07b\\u202e"');
  });

  it('prints process events and the [pid N] prefix while several tids are traced', () => {
    const t = new TextRenderer(header);
    const out = [
      t.render(proc(ProcessEventKind.Start, 100)),
      t.render(ioctl({ tid: 100, pid: 100 })),
      t.render(proc(ProcessEventKind.Start, 101)),
      t.render(ioctl({ tid: 101, pid: 101 })),
      t.render(proc(ProcessEventKind.Signal, 101, 10)),
      t.render(proc(ProcessEventKind.Signal, 101, 17)), // SIGCHLD: not shown
      t.render(proc(ProcessEventKind.Killed, 101, 9)),
      t.render(ioctl({ tid: 100, pid: 100 })),
      t.render(proc(ProcessEventKind.Exit, 100, 3)),
    ].join('');
    expect(out).toBe([
      'ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '[pid 101] ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '[pid 101] --- SIGUSR1 ---',
      '[pid 101] +++ killed by SIGKILL +++',
      'ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '+++ exited with 3 +++',
      '',
    ].join('\n'));
  });

  it('stays silent about processes that made no VFIO call', () => {
    const t = new TextRenderer(header);
    const out = [
      t.render(proc(ProcessEventKind.Start, 100, 0, 1)), // the spawned command (its parent is the tracer)
      t.render(proc(ProcessEventKind.Start, 200, 0, 100)), // a helper it forks
      t.render(proc(ProcessEventKind.Signal, 200, 10)),
      t.render(proc(ProcessEventKind.Exit, 200, 0)),
      t.render(proc(ProcessEventKind.Start, 300, 0, 100)), // a child that does VFIO
      t.render(ioctl({ pid: 300, tid: 300 })),
      t.render(proc(ProcessEventKind.Exit, 300, 4)),
      t.render(proc(ProcessEventKind.Signal, 100, 10)),
      t.render(proc(ProcessEventKind.Exit, 100, 0)),
    ].join('');
    expect(out).toBe([
      '[pid 300] ioctl(3</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH) = 1 (supported)',
      '[pid 300] +++ exited with 4 +++',
      '--- SIGUSR1 ---',
      '+++ exited with 0 +++',
      '',
    ].join('\n'));
  });

  it('-t/-tt/-ttt print the wall-clock time of day with microseconds', () => {
    // 2026-01-02 03:04:05.5 UTC plus 1.000123 s into the trace.
    const startRealtimeNs = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5, 500)) * 1_000_000n;
    const hdr = { startRealtimeNs } as unknown as import('../../src/trace/events.js').RecordingHeader;
    const t = new TextRenderer(hdr, { time: 2 });
    const line = t.render(ioctl({ ts: 1_000_123_999 }));
    expect(new TextRenderer(hdr, { time: 3 }).render(ioctl({ ts: 1_000_123_999 }))).toMatch(/^1767323046\.500123 ioctl\(/);
    expect(new TextRenderer(hdr, { time: 1 }).render(ioctl({ ts: 1_000_123_999 }))).toMatch(/^\d\d:\d\d:06 ioctl\(/);
    const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 6, 500));
    const p = (n: number): string => String(n).padStart(2, '0');
    expect(line.startsWith(`${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.500123 ioctl(`)).toBe(true);
  });
});
