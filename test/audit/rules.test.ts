// One misuse per rule → exactly that finding; the clean QEMU-like sequences
// → none. Events are synthesized with the kernel's success answers.

import { describe, expect, it } from 'vitest';
import { Auditor, audit } from '../../src/audit/auditor.js';
import { RULES } from '../../src/audit/rules.js';
import type { AuditFinding } from '../../src/audit/types.js';
import { ENOTTY, Sim } from '../model/sim.js';
import * as P from './pseries.js';
import * as S from './scenarios.js';

const seqRules = (f: AuditFinding[]) => f.filter((x) => x.source === 'sequence');

function only(s: Sim): AuditFinding {
  const f = seqRules(audit(s.events));
  expect(f.map((x) => x.rule), JSON.stringify(f, null, 1)).toHaveLength(1);
  return f[0]!;
}

describe('clean sequences', () => {
  it('type1 QEMU-like setup, device, IRQs and DMA → no findings', () => {
    expect(audit(S.cleanType1().events)).toEqual([]);
  });
  it('sPAPR TCE v2 + EEH recovery → no findings', () => {
    expect(audit(S.cleanSpapr().events)).toEqual([]);
  });
});

describe('real clients: QEMU pseries + a Linux guest (pseries.ts)', () => {
  /** The one finding such a session deserves: QEMU 7.2 never asks CHECK_EXTENSION(VFIO_EEH). */
  function onlyCheckExtension(s: Sim): void {
    const f = audit(s.events);
    expect(f.map((x) => x.rule), JSON.stringify(f.slice(0, 5), null, 1)).toEqual(['eeh-without-check-extension']);
    const first = s.events.find((e) => e.kind === 'ioctl' && e.ioctl === 'VFIO_EEH_PE_OP')!;
    expect(f[0]!.seq).toBe(first.seq);
  }

  it('boot (the TCE window cleared page by page) and a recovered freeze', () => {
    onlyCheckExtension(P.pseriesSession(P.pseriesRecovery, 512));
  });

  it('a PE that never thaws: three resets, failed thaws, the permanent log', () => {
    onlyCheckExtension(P.pseriesSession(P.pseriesPermanentFailure));
  });

  it('a reset the host refuses: no deactivate, three tries, the permanent log', () => {
    onlyCheckExtension(P.pseriesSession(P.pseriesRefusedReset));
  });
});

describe('setup order', () => {
  it('get-device-fd-without-container', () => {
    const s = new Sim().fd(S.G, '/dev/vfio/42', 'group');
    s.call(S.G, 'VFIO_GROUP_GET_DEVICE_FD', { in: '0000:06:0d.0', ret: -22 });
    const f = only(s);
    expect(f.rule).toBe('get-device-fd-without-container');
    expect(f.severity).toBe('error');
    expect(f.events).toEqual([0]);
  });

  it('get-device-fd-before-set-iommu', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/42', 'group');
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.G, 'VFIO_GROUP_GET_DEVICE_FD', { in: '0000:06:0d.0', ret: -22 });
    const f = only(s);
    expect(f.rule).toBe('get-device-fd-before-set-iommu');
    expect(f.events).toEqual([0, 1]);
    expect(f.notes).toEqual([]);
  });

  it('iommu-ioctl-before-set-iommu', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/42', 'group');
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 1, ret: 1 });
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0, iova: 0, size: 4096 }, ret: -22 });
    const f = only(s);
    expect(f.rule).toBe('iommu-ioctl-before-set-iommu');
    expect(f.seq).toBe(2);
  });

  it('set-iommu-without-group', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container');
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 1, ret: -22 });
    expect(only(s).rule).toBe('set-iommu-without-group');
  });

  it('set-iommu-after-check-said-no: the answer was ignored', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/42', 'group');
    s.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 3, ret: 0 });
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 3, ret: -19 });
    const f = only(s);
    expect(f.rule).toBe('set-iommu-after-check-said-no');
    expect(f.events).toEqual([0, 2]);
    expect(f.message).toContain('VFIO_TYPE1v2_IOMMU');
    // QEMU's way: ask each type, set the one answered 1.
    const t = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/42', 'group');
    t.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 3, ret: 0 });
    t.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 7, ret: 1 });
    t.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    t.call(S.C, 'VFIO_SET_IOMMU', { arg: 7 });
    // Asked of a container that has a backend, a 0 speaks for that backend only.
    t.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 3, ret: 0 });
    expect(seqRules(audit(t.events))).toEqual([]);
  });

  it('set-iommu-repeated after a successful one is an error', () => {
    const s = S.type1Setup();
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 1, ret: -22 });
    const f = only(s);
    expect(f.rule).toBe('set-iommu-repeated');
    expect(f.severity).toBe('error');
    expect(f.events).toEqual([4, 7]);
  });

  it('set-iommu-repeated after a failed one is info and says so', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/1', 'group');
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 7, ret: -19 });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 2 });
    const f = only(s);
    expect(f.rule).toBe('set-iommu-repeated');
    expect(f.severity).toBe('info');
    expect(f.notes.join()).toMatch(/failed call #1/);
  });

  it('a new SET_IOMMU after the last group left is legitimate', () => {
    const s = S.type1Setup();
    s.call(S.G, 'VFIO_GROUP_UNSET_CONTAINER');
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 1 });
    expect(seqRules(audit(s.events))).toEqual([]);
  });

  it('device-ioctl-before-bind, once per device', () => {
    const s = new Sim().fd(6, '/dev/vfio/devices/vfio0', 'device');
    s.call(6, 'VFIO_DEVICE_GET_INFO', { in: { argsz: 24, flags: 0, num_regions: 0, num_irqs: 0, cap_offset: 0 }, ret: -22 });
    s.call(6, 'VFIO_DEVICE_GET_INFO', { in: { argsz: 24, flags: 0, num_regions: 0, num_irqs: 0, cap_offset: 0 }, ret: -22 });
    const f = only(s);
    expect(f.rule).toBe('device-ioctl-before-bind');
    expect(f.seq).toBe(0);
  });

  it('a bound cdev is fine', () => {
    const s = new Sim().fd(6, '/dev/vfio/devices/vfio0', 'device').fd(7, '/dev/iommu', 'iommufd');
    s.call(6, 'VFIO_DEVICE_BIND_IOMMUFD', { in: { argsz: 24, flags: 0, iommufd: 7, out_devid: 0 }, out: { argsz: 24, flags: 0, iommufd: 7, out_devid: 1 } });
    s.call(6, 'VFIO_DEVICE_GET_INFO', { in: { argsz: 24, flags: 0, num_regions: 0, num_irqs: 0, cap_offset: 0 }, out: { argsz: 24, flags: 3, num_regions: 9, num_irqs: 5, cap_offset: 0 } });
    expect(audit(s.events)).toEqual([]);
  });
});

describe('DMA', () => {
  it('dma-map-overlap names the live mapping', () => {
    const s = S.type1Dma(S.type1Setup());
    const n = s.seq;
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f2000000000n, iova: 0x108000000n, size: 0x10000000 }, ret: -17 });
    const f = only(s);
    expect(f.rule).toBe('dma-map-overlap');
    expect(f.events).toEqual([n - 2, n]);
    expect(f.message).toContain('0x100000000');
  });

  it('remapping an unmapped range is fine, failed maps do not count as live', () => {
    const s = S.type1Dma(S.type1Setup());
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0, size: 0x80000000 } });
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0, iova: 0x200000000n, size: 0x1000 }, ret: -12 });
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0, iova: 0x200000000n, size: 0x1000 } });
    expect(audit(s.events)).toEqual([]);
  });

  it('dma-unmap-unmapped (double unmap)', () => {
    const s = S.type1Dma(S.type1Setup());
    s.call(S.C, 'VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova: 0, size: 0x80000000 }, out: { argsz: 24, flags: 0, iova: 0, size: 0 } });
    const f = only(s);
    expect(f.rule).toBe('dma-unmap-unmapped');
    expect(f.severity).toBe('warning');
    expect(f.notes).toEqual([]);
  });

  it('dma-unmap-unmapped notes the failed map it rests on', () => {
    const s = S.type1Setup();
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0x1000, size: 0x1000 }, ret: ENOTTY });
    s.call(S.C, 'VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova: 0x1000, size: 0x1000 }, out: { argsz: 24, flags: 0, iova: 0x1000, size: 0 } });
    const f = only(s);
    expect(f.rule).toBe('dma-unmap-unmapped');
    expect(f.events).toEqual([7, 8]);
    expect(f.notes[0]).toMatch(/MAP #7 .* failed \(ENOTTY\)/);
  });

  it('sPAPR TCE: clearing empty TCEs and overwriting live ones is how the backend works', () => {
    const s = S.spaprSetup();
    // The setup mapped [0, 1 GiB); clear two pages twice, then pages past it.
    for (const iova of [0, 0x1000, 0, 0x1000, 0x40000000, 0x40001000]) {
      s.call(S.C, 'VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova, size: 0x1000 } });
    }
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000200000n, iova: 0x2000, size: 0x1000 } });
    const a = new Auditor();
    for (const ev of s.events) a.feed(ev);
    expect(a.finish()).toEqual([]);
    // The overwritten TCE holds the new page; the model keeps one mapping per address.
    const live = a.model.get(a.model.lookup(s.pid, S.C)?.id, 'container')!.dma.live;
    expect(live.map((m) => [m.iova, m.vaddr])).toEqual([
      [0x2000n, 0x7f0000200000n],
      [0x3000n, 0x7f0000003000n],
    ]);
  });

  it('the same calls on type1 are misuse', () => {
    const s = S.type1Dma(S.type1Setup());
    s.call(S.C, 'VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova: 0x200000000n, size: 0x1000 }, out: { argsz: 24, flags: 0, iova: 0x200000000n, size: 0 } });
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000200000n, iova: 0x100002000n, size: 0x1000 }, ret: -17 });
    expect(seqRules(audit(s.events)).map((f) => f.rule)).toEqual(['dma-unmap-unmapped', 'dma-map-overlap']);
  });

  it('dma-unaligned against the GET_INFO page size', () => {
    const s = S.type1Setup();
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0x1800, size: 0x1000 }, ret: -22 });
    const f = only(s);
    expect(f.rule).toBe('dma-unaligned');
    expect(f.events).toEqual([6, 7]);
    expect(f.message).toContain('iova 0x1800');
  });

  it('no alignment finding without a GET_INFO answer', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/42', 'group');
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 3 });
    s.call(S.C, 'VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000000n, iova: 0x1800, size: 0x1000 } });
    expect(audit(s.events)).toEqual([]);
  });

  it('iommufd IOAS: overlap with FIXED_IOVA and ENOENT unmap', () => {
    const s = new Sim().fd(7, '/dev/iommu', 'iommufd');
    s.call(7, 'IOMMU_IOAS_ALLOC', { in: { size: 12, flags: 0, out_ioas_id: 0 }, out: { size: 12, flags: 0, out_ioas_id: 2 } });
    const map = { size: 40, flags: 7, ioas_id: 2, __reserved: 0, user_va: 0x7f0000000000n, length: 0x10000, iova: 0x10000 };
    s.call(7, 'IOMMU_IOAS_MAP', { in: map, out: map });
    s.call(7, 'IOMMU_IOAS_MAP', { in: { ...map, iova: 0x18000 }, ret: -17 });
    s.call(7, 'IOMMU_IOAS_UNMAP', { in: { size: 24, ioas_id: 2, iova: 0x40000, length: 0x1000 }, ret: -2 });
    const f = seqRules(audit(s.events));
    expect(f.map((x) => x.rule)).toEqual(['dma-map-overlap', 'dma-unmap-unmapped']);
  });
});

describe('caps, IRQs', () => {
  it('caps-reply-not-retried', () => {
    const s = S.type1Setup();
    s.fd(S.D, 'anon_inode:[vfio-device]', 'device');
    s.call(S.G, 'VFIO_GROUP_GET_DEVICE_FD', { in: '0000:06:0d.0', ret: S.D, newFd: { fd: S.D, kind: 'device' } });
    s.call(S.D, 'VFIO_DEVICE_GET_REGION_INFO', {
      in: { argsz: 32, flags: 0, index: 2, cap_offset: 0, size: 0, offset: 0 },
      out: { argsz: 80, flags: 0xf, index: 2, cap_offset: 0, size: 0x4000, offset: 0 },
    });
    // A retry of another index does not count.
    s.call(S.D, 'VFIO_DEVICE_GET_REGION_INFO', {
      in: { argsz: 80, flags: 0, index: 3, cap_offset: 0, size: 0, offset: 0 },
      out: { argsz: 80, flags: 7, index: 3, cap_offset: 0, size: 0x4000, offset: 0 },
    });
    const f = only(s);
    expect(f.rule).toBe('caps-reply-not-retried');
    expect(f.seq).toBe(8);
    expect(f.message).toContain('index 2');
  });

  it('set-irqs-unsupported: count 0, no EVENTFD, range', () => {
    for (const [info, set] of [
      [{ flags: 1, count: 0 }, { flags: 0x24, start: 0, count: 1 }],
      [{ flags: 0, count: 4 }, { flags: 0x24, start: 0, count: 1 }],
      [{ flags: 9, count: 4 }, { flags: 0x24, start: 2, count: 3 }],
    ] as const) {
      const s = getDeviceSim();
      s.call(S.D, 'VFIO_DEVICE_GET_IRQ_INFO', { in: { argsz: 16, flags: 0, index: 3, count: 0 }, out: { argsz: 16, index: 3, ...info } });
      s.call(S.D, 'VFIO_DEVICE_SET_IRQS', { in: { argsz: 40, index: 3, ...set, data: [9, 9, 9] }, ret: -22 });
      const f = only(s);
      expect(f.rule).toBe('set-irqs-unsupported');
      expect(f.events).toHaveLength(2);
    }
  });
});

function getDeviceSim(): Sim {
  return S.getDevice(S.type1Setup());
}

describe('EEH', () => {
  it('eeh-without-check-extension, once per container', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/1', 'group');
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 7 });
    S.eeh(s, 1);
    S.eeh(s, 4, 0);
    const f = only(s);
    expect(f.rule).toBe('eeh-without-check-extension');
    expect(f.seq).toBe(2);
  });

  it('eeh-after-check-said-no', () => {
    const s = new Sim().fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/1', 'group');
    s.call(S.G, 'VFIO_GROUP_SET_CONTAINER', { in: S.C });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 7 });
    s.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 5, ret: 0 });
    S.eeh(s, 1, -5);
    expect(only(s).rule).toBe('eeh-after-check-said-no');
  });

  it('eeh-on-non-spapr-container', () => {
    const s = S.type1Setup();
    s.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 5, ret: 0 });
    // Asked, answered 0 → also eeh-after-check-said-no; ask on a fresh process instead to isolate the rule.
    const t = S.type1Setup(new Sim(200));
    t.call(S.C, 'VFIO_CHECK_EXTENSION', { arg: 5, ret: 1 });
    S.eeh(t, 1, ENOTTY);
    const f = only(t);
    expect(f.rule).toBe('eeh-on-non-spapr-container');
    expect(f.message).toContain('VFIO_TYPE1v2_IOMMU');
  });

  it('eeh-reset-not-deactivated: next op, and end of trace', () => {
    const s = S.spaprSetup();
    S.eeh(s, 1);
    S.eeh(s, 6);
    S.eeh(s, 4, 1); // GET_STATE is fine during reset
    S.eeh(s, 8); // CONFIGURE with the reset still asserted
    const f = only(s);
    expect(f.rule).toBe('eeh-reset-not-deactivated');
    expect(f.events).toEqual([s.seq - 3, s.seq - 1]);

    const t = S.spaprSetup();
    S.eeh(t, 1);
    S.eeh(t, 7);
    const g = only(t);
    expect(g.rule).toBe('eeh-reset-not-deactivated');
    expect(g.message).toContain('never followed');
  });

  it('eeh-configure-without-reset', () => {
    const s = S.spaprSetup();
    S.eeh(s, 1);
    S.eeh(s, 8);
    const f = only(s);
    expect(f.rule).toBe('eeh-configure-without-reset');
    expect(f.severity).toBe('info');
    // A second CONFIGURE straight after the recovery's: no state read, no reset in between.
    const t = S.spaprSetup();
    S.eeh(t, 1);
    S.eeh(t, 4, 2);
    S.eeh(t, 6);
    S.eeh(t, 5);
    S.eeh(t, 8);
    S.eeh(t, 8);
    expect(only(t).events).toEqual([t.seq - 2, t.seq - 1]);
    // Linux's error-log collection configures before any reset, after reading the state: fine.
    const u = S.spaprSetup();
    S.eeh(u, 1);
    S.eeh(u, 4, 2);
    S.eeh(u, 2);
    S.eeh(u, 8);
    expect(seqRules(audit(u.events))).toEqual([]);
  });

  it('eeh-deactivate-after-failed-reset, and a retry or the permanent log after it is fine', () => {
    const s = S.spaprSetup();
    S.eeh(s, 1);
    S.eeh(s, 4, 2);
    S.eeh(s, 6, -5);
    S.eeh(s, 5);
    const f = only(s);
    expect(f.rule).toBe('eeh-deactivate-after-failed-reset');
    expect(f.events).toEqual([s.seq - 2, s.seq - 1]);
    const t = S.spaprSetup();
    S.eeh(t, 1);
    S.eeh(t, 6, -5);
    S.eeh(t, 6);
    S.eeh(t, 5);
    expect(seqRules(audit(t.events))).toEqual([]);
    // Where no EEH op ever succeeds the failure says nothing: judged on intent, as before.
    const u = S.spaprSetup();
    S.eeh(u, 1, -25);
    S.eeh(u, 6, -25);
    S.eeh(u, 5, -25);
    expect(seqRules(audit(u.events))).toEqual([]);
  });

  it('eeh-unfreeze-when-normal', () => {
    const s = S.spaprSetup();
    S.eeh(s, 1);
    S.eeh(s, 4, 0);
    S.eeh(s, 2);
    const f = only(s);
    expect(f.rule).toBe('eeh-unfreeze-when-normal');
    expect(f.events).toEqual([s.seq - 2, s.seq - 1]);
  });

  it('UNFREEZE after a reset cycle is recovery, not a misread NORMAL', () => {
    const s = S.spaprSetup();
    S.eeh(s, 1);
    S.eeh(s, 4, 0);
    S.eeh(s, 6);
    S.eeh(s, 5);
    S.eeh(s, 8);
    S.eeh(s, 2);
    S.eeh(s, 3);
    expect(seqRules(audit(s.events))).toEqual([]);
  });

  it('eeh-access-while-stopped, and not after recovery', () => {
    const region = (s: Sim) =>
      s.call(S.D, 'VFIO_DEVICE_GET_REGION_INFO', {
        in: { argsz: 32, flags: 0, index: 0, cap_offset: 0, size: 0, offset: 0 },
        out: { argsz: 32, flags: 7, index: 0, cap_offset: 0, size: 0x4000, offset: 0 },
      });
    const s = S.spaprSetup();
    S.eeh(s, 1);
    S.eeh(s, 4, 2);
    region(s);
    region(s);
    const f = only(s);
    expect(f.rule).toBe('eeh-access-while-stopped');
    expect(f.message).toContain('STOPPED');

    const t = S.spaprSetup();
    S.eeh(t, 1);
    S.eeh(t, 4, 2);
    S.eeh(t, 2); // UNFREEZE_IO
    region(t);
    expect(seqRules(audit(t.events))).toEqual([]);
  });
});

describe('attached mid-session', () => {
  /** Calls from a process that was running before the trace met it. */
  const sim = (): Sim => {
    const s = new Sim().fd(6, '/dev/vfio/devices/vfio0', 'device').fd(S.C, '/dev/vfio/vfio', 'container').fd(S.G, '/dev/vfio/42', 'group');
    s.call(6, 'VFIO_DEVICE_GET_INFO', { in: { argsz: 24 }, out: { argsz: 24, flags: 3, num_regions: 9, num_irqs: 5 } });
    s.call(S.C, 'VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova: 0, size: 0x1000 }, out: { argsz: 24, flags: 0, iova: 0, size: 0x1000 } });
    S.eeh(s, 4, 0);
    S.eeh(s, 8);
    s.call(S.G, 'VFIO_GROUP_GET_DEVICE_FD', { in: '0000:06:0d.0', ret: 9, newFd: { fd: 9, kind: 'device' } });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 3 });
    s.call(S.C, 'VFIO_SET_IOMMU', { arg: 3, ret: -22 });
    return s;
  };

  it('"never issued" rules stay silent; rules on what was seen still apply', () => {
    const s = sim();
    const a = new Auditor();
    a.markMidSession({ attachedPids: [s.pid], hostWide: false });
    for (const ev of s.events) a.feed(ev);
    expect(seqRules(a.finish()).map((f) => f.rule)).toEqual(['set-iommu-repeated']);
    // The same calls from a process seen from its start.
    expect(seqRules(audit(s.events)).map((f) => f.rule).sort()).toEqual([
      'device-ioctl-before-bind',
      'dma-unmap-unmapped',
      'eeh-without-check-extension',
      'get-device-fd-without-container',
      'iommu-ioctl-before-set-iommu',
      'iommu-ioctl-before-set-iommu',
      'iommu-ioctl-before-set-iommu',
      'set-iommu-repeated',
      'set-iommu-without-group',
      'set-iommu-without-group',
    ]);
  });

  it('host-wide (--all): a process met at a call of its own (START, parent 0) is judged the same way', () => {
    const s = sim();
    const met = new Sim(s.pid);
    met.startFrom(0);
    const a = new Auditor();
    a.markMidSession({ attachedPids: [], hostWide: true });
    for (const ev of [...met.events, ...s.events]) a.feed(ev);
    expect(seqRules(a.finish()).map((f) => f.rule)).toEqual(['set-iommu-repeated']);
    // Not host-wide, the same START is a process seen from its start.
    const b = new Auditor();
    b.markMidSession({ attachedPids: [], hostWide: false });
    for (const ev of [...met.events, ...s.events]) b.feed(ev);
    expect(seqRules(b.finish()).map((f) => f.rule)).toContain('iommu-ioctl-before-set-iommu');
  });
});

describe('decoder findings', () => {
  it('are passed through with their event', () => {
    const s = S.type1Setup();
    s.call(S.C, 'VFIO_IOMMU_GET_INFO', {
      in: { argsz: 8, flags: 0, iova_pgsizes: 0, cap_offset: 0 },
      ret: -22,
      findings: [{ rule: 'argsz-below-minsz', severity: 'error', message: 'argsz 8 < minsz 16', field: 'argsz' }],
    });
    const f = audit(s.events);
    expect(f).toEqual([
      expect.objectContaining({ rule: 'argsz-below-minsz', source: 'decoder', seq: 7, events: [7], field: 'argsz' }),
    ]);
  });
});

it('every rule has an explanation paragraph and a test here', () => {
  for (const r of RULES) {
    expect(r.explanation.length).toBeGreaterThan(100);
  }
});

it('onFinding reports each finding as it is found (the TUI shows them live)', () => {
  const s = S.type1Setup();
  s.call(S.C, 'VFIO_SET_IOMMU', { arg: 1, ret: -22 });
  const a = new Auditor();
  const seen: Array<[string, number]> = [];
  a.onFinding = (f) => seen.push([f.rule, a.model.lastSeq]);
  for (const ev of s.events) a.feed(ev);
  // Reported while the offending event is fed, before the model moved on.
  expect(seen).toEqual([['set-iommu-repeated', 6]]);
  expect(a.finish()).toHaveLength(1);
});
