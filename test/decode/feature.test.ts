// DEVICE_FEATURE: the payload follows the feature index in the low 16 bits.

import { describe, expect, it } from 'vitest';
import { findField, fieldValue } from '../../src/decode/tree.js';
import { bytes, nr, PATH, rules, session } from './helpers.js';

const GET = 1 << 16;
const SET = 1 << 17;
const PROBE = 1 << 18;

function feature(flags: number, payload: number[]) {
  const e = new Uint8Array(8 + payload.length);
  const dv = new DataView(e.buffer);
  dv.setUint32(0, e.length, true);
  dv.setUint32(4, flags, true);
  e.set(payload, 8);
  return e;
}

describe('VFIO_DEVICE_FEATURE payloads', () => {
  const cases: [number, number, string, number][] = [
    [0, SET, '__u8[16]', 16],
    [1, GET, 'struct vfio_device_feature_migration', 8],
    [2, SET, 'struct vfio_device_feature_mig_state', 8],
    [4, SET, 'struct vfio_device_low_power_entry_with_wakeup', 8],
    [6, SET, 'struct vfio_device_feature_dma_logging_control', 24],
    [8, GET, 'struct vfio_device_feature_dma_logging_report', 32],
    [9, GET, 'struct vfio_device_feature_mig_data_size', 8],
    [10, SET, 'struct vfio_device_feature_bus_master', 4],
    [11, GET, 'struct vfio_device_feature_dma_buf', 16],
  ];
  it.each(cases)('feature %i', (idx, op, ctype, size) => {
    const ev = session().call({ nr: nr(17), path: PATH.device, entry: feature(idx | op, new Array(size).fill(0)) });
    expect(findField(ev.in, 'data')?.ctype).toBe(ctype);
    expect(rules(ev)).toEqual([]);
  });

  it('features without payload, PROBE, and unknown features', () => {
    const { call } = session();
    for (const idx of [3, 5, 7]) expect(findField(call({ nr: nr(17), path: PATH.device, entry: feature(idx | SET, []) }).in, 'data')).toBeNull();
    const probe = call({ nr: nr(17), path: PATH.device, entry: feature(2 | SET | PROBE, [0, 0, 0, 0, 0, 0, 0, 0]) });
    expect(findField(probe.in, 'data')).toBeNull();
    expect(probe.ret.meaning).toBe('VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE supported');
    const unknown = call({ nr: nr(17), path: PATH.device, entry: feature(40 | GET, [1, 2, 3]) });
    expect(findField(unknown.in, 'flags')?.display).toBe('40|VFIO_DEVICE_FEATURE_GET');
    expect(findField(unknown.in, 'data')?.children?.map((c) => c.display)).toEqual(['0x1', '0x2', '0x3']);
  });

  it('flags misuse and short payloads', () => {
    const { call } = session();
    expect(rules(call({ nr: nr(17), path: PATH.device, entry: feature(2 | GET | SET, new Array(8).fill(0)), ret: 'EINVAL' }))).toContain('feature-get-and-set');
    expect(rules(call({ nr: nr(17), path: PATH.device, entry: feature(2, new Array(8).fill(0)), ret: 'EINVAL' }))).toContain('feature-no-op');
    expect(rules(call({ nr: nr(17), path: PATH.device, entry: feature(2 | SET, [0, 0, 0, 0]), ret: 'EINVAL' }))).toContain('feature-payload-short');
    expect(rules(call({ nr: nr(17), path: PATH.device, entry: feature(2 | SET | (1 << 20), new Array(8).fill(0)), ret: 'EINVAL' }))).toContain('unknown-flags');
  });

  it('DMA_BUF ranges and the dma-buf fd it returns', () => {
    const e = bytes(true, [['u32', 56], ['u32', 11 | GET], ['u32', 2], ['u32', 2], ['u32', 0], ['u32', 2], ['u64', 0], ['u64', 0x1000], ['u64', 0x2000], ['u64', 0x1000]]);
    const ev = session().call({ nr: nr(17), path: PATH.device, entry: e, ret: 12 });
    expect(fieldValue(ev.in, 'data.dma_ranges[1].offset')).toBe(0x2000n);
    expect(ev.ret.newFd).toEqual({ fd: 12, kind: 'dmabuf' });
  });
});
