// Per-call findings: each rule fires on the misuse it names and stays quiet
// on a correct call.

import { describe, expect, it } from 'vitest';
import { bytes, IOCTL_FLAG, nr, PATH, rules, session } from './helpers.js';
import { findField, fieldValue } from '../../src/decode/tree.js';

const dev = { path: PATH.device };

describe('argsz and capture', () => {
  it('argsz below minsz', () => {
    const { call } = session('ppc64le');
    const ev = call({ nr: nr(21), entry: bytes(true, [['u32', 8], ['u32', 0], ['u32', 1]]), ret: 'EINVAL' });
    expect(rules(ev)).toContain('argsz-below-minsz');
    expect(ev.ret.meaning).toMatch(/argsz < 12/);
    expect(rules(call({ nr: nr(21), entry: bytes(true, [['u32', 12], ['u32', 0], ['u32', 1]]) }))).toEqual([]);
  });

  it('argsz reaching unreadable memory, and a bad pointer', () => {
    const { call } = session();
    const e = bytes(true, [['u32', 4096], ['u32', 0], ['u32', 0], ['u32', 0]]);
    const ev = call({ nr: nr(8), ...dev, entry: e, flags: IOCTL_FLAG.IN_FAULT, inFault: 16, ret: 'EFAULT' });
    expect(rules(ev)).toContain('argsz-unreadable');
    expect(rules(call({ nr: nr(8), ...dev, entry: new Uint8Array(0), flags: IOCTL_FLAG.IN_FAULT, inFault: 0, arg: 0n }))).toContain('bad-pointer');
  });

  it('a fault past what this ioctl reads (a shared rule read more) is not reported', () => {
    const ev = session('ppc64le').call({ nr: nr(21), entry: bytes(true, [['u32', 12], ['u32', 0], ['u32', 4], ['u32', 0]]), flags: IOCTL_FLAG.IN_FAULT, inFault: 16 });
    expect(rules(ev)).toEqual([]);
  });

  it('sPAPR ioctls on a non-POWER host are noted', () => {
    const ev = session('x86_64').call({ nr: nr(21), entry: bytes(true, [['u32', 12], ['u32', 0], ['u32', 4]]), ret: 'ENOTTY' });
    expect(rules(ev)).toEqual(['ioctl-not-on-arch']);
  });

  it('truncated capture', () => {
    const ev = session().call({ nr: nr(8), ...dev, entry: bytes(true, [['u32', 32], ['u32', 0], ['u32', 0], ['u32', 0]]), flags: IOCTL_FLAG.TRUNCATED, wantLen: 32 });
    expect(rules(ev)).toContain('capture-truncated');
    expect(ev.truncated).toBe(true);
    expect(findField(ev.in, 'index')?.unreadable).toBeUndefined();
  });
});

describe('fields', () => {
  it('non-zero reserved fields and unknown flag bits', () => {
    const { call } = session();
    const ioev = bytes(true, [['u32', 32], ['u32', 4 | 0x100], ['u64', 0x10], ['u64', 1], ['s32', 5], ['u32', 7]]);
    const r = rules(call({ nr: nr(16), ...dev, entry: ioev }));
    expect(r).toContain('unknown-flags');
    expect(r).toContain('reserved-nonzero');
    const ok = bytes(true, [['u32', 32], ['u32', 4], ['u64', 0x10], ['u64', 1], ['s32', 5], ['u32', 0]]);
    expect(rules(call({ nr: nr(16), ...dev, entry: ok }))).toEqual([]);
  });

  it('an enum value the header does not name is reported once (IOMMU_OPTION 7, EEH op 99); named ones pass', () => {
    const { call } = session('ppc64le');
    const op = (v: number, ret?: string) => call({ nr: nr(21), entry: bytes(true, [['u32', 12], ['u32', 0], ['u32', v]]), ...(ret ? { ret } : {}) });
    // The EEH description's own finding on op says more (the kernel's EINVAL): one finding, its.
    expect(rules(op(99, 'EINVAL'))).toEqual(['eeh-op-unknown']);
    expect(rules(op(2))).toEqual([]);
    const option = (id: number) => session().call({ nr: 0x87, path: '/dev/iommu', entry: bytes(true, [['u32', 24], ['u32', id], ['u16', 1], ['u16', 0], ['u32', 0], ['u64', 0]]) });
    const ev = option(7);
    expect(rules(ev)).toEqual(['unknown-enum']);
    expect(ev.findings[0]?.message).toBe('option_id is 7, a value the kernel does not define');
    expect(rules(option(1))).toEqual([]);
  });

  it('EEH flags != 0', () => {
    const ev = session('ppc64le').call({ nr: nr(21), entry: bytes(true, [['u32', 12], ['u32', 1], ['u32', 1]]), ret: 'EINVAL' });
    expect(rules(ev)).toEqual(['eeh-flags-nonzero']);
    expect(ev.findings[0]?.field).toBe('flags');
  });

  it('EEH err union is decoded only for INJECT_ERR', () => {
    const { call } = session('ppc64le');
    const inject = bytes(true, [['u32', 40], ['u32', 0], ['u32', 9], ['u32', 0], ['u32', 1], ['u32', 4], ['u64', 0x1000], ['u64', 0xfff]]);
    const ev = call({ nr: nr(21), entry: inject });
    expect(findField(ev.in, 'err.func')?.display).toBe('EEH_ERR_FUNC_LD_CFG_ADDR');
    expect(findField(ev.in, 'err.type')?.display).toBe('EEH_ERR_TYPE_64');
    const enable = new Uint8Array(inject);
    new DataView(enable.buffer).setUint32(8, 1, true);
    expect(findField(call({ nr: nr(21), entry: enable }).in, 'err')).toBeNull();
    const short = bytes(true, [['u32', 12], ['u32', 0], ['u32', 9]]);
    expect(rules(call({ nr: nr(21), entry: short, ret: 'EINVAL' }))).toContain('eeh-inject-argsz');
  });

  it('SET_IRQS count × element size beyond argsz − 20', () => {
    const { call } = session();
    const eventfd = 4 | 0x20;
    const short = bytes(true, [['u32', 24], ['u32', eventfd], ['u32', 2], ['u32', 0], ['u32', 2], ['s32', 10]]);
    const ev = call({ nr: nr(10), ...dev, entry: short, ret: 'EINVAL' });
    expect(rules(ev)).toContain('set-irqs-payload-short');
    const ok = bytes(true, [['u32', 28], ['u32', eventfd], ['u32', 2], ['u32', 0], ['u32', 2], ['s32', 10], ['s32', -1]]);
    const good = call({ nr: nr(10), ...dev, entry: ok });
    expect(rules(good)).toEqual([]);
    expect(findField(good.in, 'data')?.ctype).toBe('__s32[]');
    expect(fieldValue(good.in, 'data[1]')).toBe(-1n);
    expect(findField(good.in, 'index')?.display).toBe('VFIO_PCI_MSIX_IRQ_INDEX');
    const bools = bytes(true, [['u32', 23], ['u32', 2 | 0x08], ['u32', 0], ['u32', 0], ['u32', 3], ['u8', 1], ['u8', 0], ['u8', 1]]);
    expect(findField(call({ nr: nr(10), ...dev, entry: bools }).in, 'data')?.children?.map((c) => c.value)).toEqual([1n, 0n, 1n]);
  });

  it('iommufd: non-zero bytes past the struct (E2BIG)', () => {
    const { call } = session();
    const base: Parameters<typeof bytes>[1] = [['u32', 16], ['u32', 0], ['u32', 0], ['u32', 0xdead]];
    const ev = call({ nr: 0x81, path: PATH.iommufd, entry: bytes(true, [...base]), ret: 'E2BIG' });
    expect(ev.ioctl).toBe('IOMMU_IOAS_ALLOC');
    expect(rules(ev)).toContain('trailing-nonzero');
    expect(rules(call({ nr: 0x81, path: PATH.iommufd, entry: bytes(true, [['u32', 16], ['u32', 0], ['u32', 0], ['u32', 0]]) }))).toEqual([]);
    expect(rules(call({ nr: 0x81, path: PATH.iommufd, entry: bytes(true, [['u32', 8], ['u32', 0]]), ret: 'EINVAL' }))).toContain('argsz-below-minsz');
  });

  it('BIND_IOMMUFD checks the bytes beyond its 24-byte struct', () => {
    const e = bytes(true, [['u32', 32], ['u32', 0], ['s32', 4], ['u32', 0], ['u64', 0], ['u64', 1]]);
    expect(rules(session().call({ nr: nr(18), ...dev, entry: e, ret: 'E2BIG' }))).toContain('trailing-nonzero');
  });
});

/** type1 GET_INFO reply with the kernel's packing: MIGRATION@24, DMA_AVAIL@56, IOVA_RANGE@68. */
function type1Reply(argsz: number): Uint8Array {
  const b = new Uint8Array(argsz);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, argsz, true);
  dv.setUint32(4, 3, true);
  dv.setBigUint64(8, 0xfffff000n, true);
  dv.setUint32(16, 24, true);
  dv.setUint16(24, 2, true); dv.setUint16(26, 1, true); dv.setUint32(28, 56, true);
  dv.setUint32(32, 0, true); dv.setBigUint64(40, 0x1000n, true); dv.setBigUint64(48, 1n << 20n, true);
  dv.setUint16(56, 3, true); dv.setUint16(58, 1, true); dv.setUint32(60, 68, true); dv.setUint32(64, 65535, true);
  dv.setUint16(68, 1, true); dv.setUint16(70, 1, true); dv.setUint32(72, 0, true); dv.setUint32(76, 2, true);
  dv.setBigUint64(84, 0n, true); dv.setBigUint64(92, 0xfedfffffn, true);
  dv.setBigUint64(100, 0xfef00000n, true); dv.setBigUint64(108, 0xffffffffffn, true);
  return b;
}

describe('capability chains', () => {
  const entry = (n: number) => {
    const b = new Uint8Array(n);
    new DataView(b.buffer).setUint32(0, n, true);
    return b;
  };

  it('walks unaligned, packed caps via next', () => {
    const ev = session().call({ nr: nr(12), entry: entry(116), exit: type1Reply(116) });
    expect(rules(ev)).toEqual([]);
    const caps = findField(ev.out, 'caps');
    expect(caps?.children?.map((c) => c.display)).toEqual([
      'VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION',
      'VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL',
      'VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE',
    ]);
    expect(fieldValue(ev.out, 'caps[1].avail')).toBe(65535n);
    expect(fieldValue(ev.out, 'caps[2].iova_ranges[1].start')).toBe(0xfef00000n);
    expect(findField(ev.out, 'caps[2].iova_ranges[1].end')?.offset).toBe(108);
    expect(findField(ev.out, 'flags')?.changed).toBe(true);
  });

  it('kernel asking for a bigger buffer: argsz grew, CAPS set, cap_offset 0', () => {
    const out = bytes(true, [['u32', 116], ['u32', 3], ['u64', 0xfffff000n], ['u32', 0], ['u32', 0]]);
    const ev = session().call({ nr: nr(12), entry: entry(24), exit: out });
    expect(rules(ev)).toEqual(['caps-buffer-too-small']);
    expect(ev.findings[0]?.message).toMatch(/argsz=116/);
  });

  it('iommufd compat: caps partly written, argsz raised, the rest linked past the buffer', () => {
    // DMA_AVAIL (12, padded to 16) fits at 24; IOVA_RANGE at 40 does not fit in 48 bytes.
    const out = new Uint8Array(48);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, 72, true); dv.setUint32(4, 3, true); dv.setUint32(16, 24, true);
    dv.setUint16(24, 3, true); dv.setUint16(26, 1, true); dv.setUint32(28, 48, true); dv.setUint32(32, 7, true);
    const ev = session().call({ nr: nr(12), path: PATH.iommufd, entry: entry(48), exit: out });
    expect(rules(ev)).toEqual(['cap-beyond-buffer', 'caps-buffer-too-small']);
    expect(fieldValue(ev.out, 'caps[0].avail')).toBe(7n);
  });

  it('loops, out-of-bounds and truncated chains end with a finding', () => {
    const loop = type1Reply(116);
    new DataView(loop.buffer).setUint32(72, 24, true); // IOVA_RANGE.next → MIGRATION
    expect(rules(session().call({ nr: nr(12), entry: entry(116), exit: loop }))).toContain('cap-chain-loop');
    const oob = type1Reply(116);
    new DataView(oob.buffer).setUint32(60, 5000, true);
    expect(rules(session().call({ nr: nr(12), entry: entry(116), exit: oob }))).toContain('cap-chain-out-of-bounds');
    const cut = type1Reply(116).slice(0, 60);
    const e = entry(116);
    expect(rules(session().call({ nr: nr(12), entry: e, exit: cut, flags: IOCTL_FLAG.OUT_FAULT }))).toContain('cap-chain-truncated');
    const unknown = type1Reply(116);
    new DataView(unknown.buffer).setUint16(56, 77, true);
    expect(rules(session().call({ nr: nr(12), entry: entry(116), exit: unknown }))).toContain('cap-unknown-id');
  });

  it('region info caps: sparse mmap areas and type', () => {
    const b = new Uint8Array(32 + 32 + 16);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, b.length, true); dv.setUint32(4, 0xf, true); dv.setUint32(8, 0, true); dv.setUint32(12, 32, true);
    dv.setBigUint64(16, 0x4000n, true);
    dv.setUint16(32, 1, true); dv.setUint32(36, 64, true); dv.setUint32(40, 1, true); dv.setBigUint64(48, 0x1000n, true); dv.setBigUint64(56, 0x3000n, true);
    dv.setUint16(64, 2, true); dv.setUint32(68, 0, true); dv.setUint32(72, 0x80008086, true); dv.setUint32(76, 1, true);
    const entry = bytes(true, [['u32', b.length], ['u32', 0], ['u32', 0], ['u32', 0]]);
    const ev = session().call({ nr: nr(8), ...dev, entry, exit: b });
    expect(findField(ev.in, 'index')?.display).toBe('VFIO_PCI_BAR0_REGION_INDEX');
    expect(fieldValue(ev.out, 'caps[0].areas[0].size')).toBe(0x3000n);
    expect(findField(ev.out, 'caps[1].type')?.display).toBe('VFIO_REGION_TYPE_PCI_VENDOR_TYPE|0x8086');
    expect(findField(ev.out, 'caps[1].subtype')?.display).toBe('VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION');
  });
});

describe('what the kernel writes', () => {
  it('nothing on failure; hot reset info ENOSPC writes count but no devices', () => {
    const { call } = session();
    const e = bytes(true, [['u32', 12], ['u32', 0], ['u32', 0]]);
    const x = bytes(true, [['u32', 12], ['u32', 0], ['u32', 3]]);
    const ev = call({ nr: nr(12), ...dev, entry: e, exit: x, ret: 'ENOSPC' });
    expect(fieldValue(ev.out, 'count')).toBe(3n);
    expect(findField(ev.out, 'devices')).toBeNull();
    expect(ev.ret.meaning).toMatch(/too small/);
    expect(call({ nr: nr(9), ...dev, entry: bytes(true, [['u32', 16], ['u32', 0], ['u32', 9], ['u32', 0]]), ret: 'EINVAL' }).out).toBeNull();
  });

  it('hot reset info devices on success (group ids vs devids by flag)', () => {
    const x = bytes(true, [['u32', 28], ['u32', 3], ['u32', 2], ['u32', 0], ['u16', 0], ['u8', 6], ['u8', 0x68], ['u32', 0xffffffff], ['u16', 1], ['u8', 7], ['u8', 1]]);
    const e = new Uint8Array(28);
    new DataView(e.buffer).setUint32(0, 28, true);
    const ev = session().call({ nr: nr(12), ...dev, entry: e, exit: x });
    expect(findField(ev.out, 'devices[0].devid')?.display).toBe('VFIO_PCI_DEVID_OWNED');
    expect(findField(ev.out, 'devices[1].devid')?.display).toBe('VFIO_PCI_DEVID_NOT_OWNED');
    expect(findField(ev.out, 'devices[0].devfn')?.display).toMatch(/13\.0/);
    expect(findField(ev.out, 'devices[0].group_id')).toBeNull();
  });
});

describe('robustness', () => {
  it('a throwing description does not lose the event', async () => {
    const { buildRegistry } = await import('../../src/decode/registry.js');
    const { createDecoder } = await import('../../src/decode/decoder.js');
    const { custom, i, struct, u32 } = await import('../../src/decode/dsl.js');
    const { ioctl, vfio } = await import('../../src/decode/ioctlDesc.js');
    const { header, record } = await import('./helpers.js');
    const bad = struct('vfio_bad', [i('argsz', u32), i('x', u32, custom(() => { throw new Error('boom'); }))]);
    const reg = buildRegistry([{ name: 'bad', structs: [], ioctls: [ioctl('bad', { name: 'VFIO_BAD', nr: vfio(40), fdKinds: ['device'], arg: { kind: 'struct', type: bad } })] }]);
    const dec = createDecoder(header(), { registry: reg });
    const a = dec.decode(record('x86_64', { nr: vfio(40), path: PATH.device, entry: bytes(true, [['u32', 8], ['u32', 1]]), ret: 'EINVAL' }));
    const b = dec.decode(record('x86_64', { nr: vfio(40), path: PATH.device, entry: bytes(true, [['u32', 8], ['u32', 1]]) }));
    expect(a.kind === 'ioctl' && a.findings.map((f) => f.rule)).toEqual(['decoder-error']);
    expect(a.kind === 'ioctl' && a.ret.errno).toBe('EINVAL');
    expect([a.seq, b.seq]).toEqual([0, 1]);
  });

  it('a string that runs into unreadable memory', () => {
    const ev = session().call({ nr: nr(6), path: PATH.group, entry: new TextEncoder().encode('0000:0'), flags: IOCTL_FLAG.IN_FAULT, inFault: 6, ret: 'EFAULT' });
    expect(rules(ev)).toEqual(['string-unreadable']);
  });
});
