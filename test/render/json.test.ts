import { describe, expect, it } from 'vitest';
import { jsonInt, renderJson } from '../../src/render/json.js';
import { EndReason, IOCTL_FLAG, ProcessEventKind } from '../../src/trace/events.js';
import { ioctl, leaf, proc, record as plainRecord, struct } from './helpers.js';
import { createDecoder } from '../../src/decode/decoder.js';
import { IoctlEvent } from '../../src/decode/event.js';
import { header, PATH, record } from '../decode/helpers.js';
import { registry } from '../../decoders/index.js';

const REQUIRED = ['seq', 'ts', 'dur', 'pid', 'tid', 'fd', 'fd_kind', 'fd_path', 'request', 'ioctl', 'arg', 'ret', 'errno', 'in', 'out', 'findings'];

describe('JSON lines', () => {
  it('carries every required key and parses', () => {
    const line = renderJson(ioctl());
    expect(line.endsWith('\n')).toBe(true);
    const o = JSON.parse(line) as Record<string, unknown>;
    for (const k of REQUIRED) expect(o).toHaveProperty(k);
    expect(o).toMatchObject({ type: 'ioctl', seq: 1, ts: 1000, dur: 12000, fd: 3, fd_kind: 'container', ioctl: 'VFIO_CHECK_EXTENSION', ret: 1, errno: null, arg: 5, request: 0x3b65 });
  });

  it('says whether the emulator answered the call (the record\'s EMULATED flag)', () => {
    expect(JSON.parse(renderJson(ioctl()))).toMatchObject({ emulated: false });
    expect(JSON.parse(renderJson(ioctl({ record: plainRecord({ flags: IOCTL_FLAG.EMULATED }) })))).toMatchObject({ emulated: true });
  });

  it('reports failure as ret -1 plus the errno name, like ioctl(2) does', () => {
    const o = JSON.parse(renderJson(ioctl({ ret: { value: -25, errno: 'ENOTTY', meaning: '' } })));
    expect(o.ret).toBe(-1);
    expect(o.errno).toBe('ENOTTY');
  });

  it('decodes payloads into nested objects and arrays keyed by C names', () => {
    const big = leaf('iova', 0, 'in', '0xffffffffffff0000', { value: 0xffffffffffff0000n });
    const arr = struct('data', [leaf('[0]', 7, 'in'), leaf('[1]', -1, 'in')]);
    const node = struct('root', [leaf('argsz', 40, 'in'), struct('err', [leaf('type', 1, 'in')]), arr, big,
      { ...leaf('name', 0, 'in'), value: undefined, text: 'x\n"y' }, leaf('lost', 0, 'in', '?', { unreadable: true })]);
    const o = JSON.parse(renderJson(ioctl({ in: node, out: node })));
    expect(o.in).toEqual({ argsz: 40, err: { type: 1 }, data: [7, -1], iova: '0xffffffffffff0000', name: 'x\n"y', lost: null });
    expect(o.out).toEqual(o.in);
  });

  it('writes non-exact integers as hex strings', () => {
    expect(jsonInt(5n)).toBe('5');
    expect(jsonInt(-3n)).toBe('-3');
    expect(jsonInt(2n ** 53n)).toBe('"0x20000000000000"');
    expect(jsonInt(-1n << 60n)).toBe('"0xf000000000000000"');
    const o = JSON.parse(renderJson(ioctl({ record: plainRecord({ arg: 0xffffffffffffffffn }) })));
    expect(o.arg).toBe('0xffffffffffffffff');
  });

  it('process and end events are objects with a type', () => {
    expect(JSON.parse(renderJson(proc(ProcessEventKind.Exit, 7, 3)))).toMatchObject({ type: 'exit', pid: 7, tid: 7, status: 3 });
    expect(JSON.parse(renderJson(proc(ProcessEventKind.Killed, 7, 9, 1)))).toMatchObject({ type: 'killed', signal: 9, core_dumped: true });
    const end = renderJson({ kind: 'end', seq: 9, record: { type: 'end', offset: 0, reason: EndReason.Exited, status: 0, dropped: 0, events: 4n, text: '' } });
    expect(JSON.parse(end)).toEqual({ type: 'end', seq: 9, reason: 'exited', status: 0, events: 4, dropped: 0, error: null });
  });

  it('quotes any argument display exactly as JSON.stringify does', () => {
    for (const d of ['0x7fffe2a3d300', 'NULL', '"quoted"', 'back\\slash', 'tab\there', 'caf\u00e9', '\u{1f600}', '\ud800', '']) {
      expect(renderJson(ioctl({ argDisplay: d }))).toContain(',"arg_display":' + JSON.stringify(d) + ',');
    }
  });

  it('calls resolved alike share their head only while fd, path and names agree', () => {
    const dec = createDecoder(header(), { registry: registry() });
    const nr = registry().byName.get('VFIO_DEVICE_GET_IRQ_INFO')?.[0]?.nr as number;
    const calls = [[5, PATH.device], [6, '/dev/vfio/devices/vfio1'], [6, '/dev/vfio/devices/vfio1'], [5, PATH.device], [7, PATH.deviceAnon]] as const;
    const paths = calls.map(([fd, path], k) => {
      const e = new Uint8Array(16);
      e[0] = 16;
      e[8] = k; // a new index each time: no call repeats, so none is the call memo's
      const ev = dec.decode(record('x86_64', { nr, fd, path, entry: e, exit: e }));
      const line = renderJson(ev);
      expect(line).toBe(renderJson(ev instanceof IoctlEvent ? ev.toJSON() : ev));
      return [JSON.parse(line).fd, JSON.parse(line).fd_path];
    });
    expect(paths).toEqual(calls);
  });

  it('escapes control characters from the tracee', () => {
    const line = renderJson(ioctl({ fdPath: '/x\x1b\u0000' }));
    expect(line.slice(0, -1)).not.toMatch(/[\x00-\x1f]/);
    expect(JSON.parse(line).fd_path).toBe('/x\x1b\u0000');
  });
});
