// The audit on events produced by the real decoder from raw records: QEMU-like
// clean sessions, and the rules that need the kernel's success answers.

import { describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import type { AuditFinding } from '../../src/audit/types.js';
import { createDecoder } from '../../src/decode/decoder.js';
import type { DecodedEvent } from '../../src/decode/types.js';
import { CFD, DFD, Session, spaprPrefix, spaprSession, type1Prefix, type1Session } from './qemu.js';
import { registry } from '../../decoders/index.js';

function decode(s: Session): DecodedEvent[] {
  const d = createDecoder(s.header, { registry: registry() });
  return s.traceRecords().map((r) => d.decode(r));
}

function run(s: Session): { findings: AuditFinding[]; events: DecodedEvent[]; a: Auditor } {
  const events = decode(s);
  const a = new Auditor();
  for (const ev of events) a.feed(ev);
  return { findings: a.finish(), events, a };
}

const seqOnly = (f: AuditFinding[]) => f.filter((x) => x.source === 'sequence').map((x) => x.rule);

describe('through the real decoder', () => {
  it('the session is decoded as intended (names, no unknowns)', () => {
    const evs = decode(type1Session().exit());
    const names = evs.flatMap((e) => (e.kind === 'ioctl' ? [e.ioctl] : []));
    expect(names).not.toContain(null);
    expect(names).toContain('VFIO_IOMMU_GET_INFO');
  });

  it('clean type1 session → zero findings', () => {
    const { findings, a } = run(type1Session().exit());
    expect(findings).toEqual([]);
    const c = a.snapshot().processes[0]!.containers[0]!;
    expect(c.pgsizes).toBe('0xfffffffffffff000');
    expect(c.dma.mappings.map((m) => m.iova)).toEqual(['0x100000000']);
    const d = a.snapshot().processes[0]!.devices[0]!;
    expect(d.name).toBe('0000:06:0d.0');
    expect(d.irqs[0]!.eventfds).toEqual([{ vector: 0, fd: 10 }, { vector: 1, fd: 11 }]);
  });

  it('clean sPAPR v2 + EEH session (ppc64le recording) → zero findings', () => {
    const { findings, a } = run(spaprSession().exit());
    expect(findings).toEqual([]);
    const c = a.snapshot().processes[0]!.containers[0]!;
    expect(c.eeh.ops.map((o) => o.state ?? o.op)).toContain('STOPPED');
  });

  it('dma-map-overlap', () => {
    const s = type1Session();
    s.ctr('VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f2000000000n, iova: 0x10000000n, size: 0x100000000n }, ret: -17 });
    expect(seqOnly(run(s).findings)).toEqual(['dma-map-overlap']);
  });

  it('dma-unaligned', () => {
    const s = type1Prefix();
    s.ctr('VFIO_IOMMU_UNMAP_DMA', { in: { argsz: 24, flags: 0, iova: 0x800, size: 0x1000 }, ret: -22 });
    expect(seqOnly(run(s).findings)).toEqual(['dma-unaligned', 'dma-unmap-unmapped']);
    const t = type1Prefix();
    t.ctr('VFIO_IOMMU_MAP_DMA', { in: { argsz: 32, flags: 3, vaddr: 0x7f0000000800n, iova: 0, size: 0x1000 }, ret: -22 });
    expect(seqOnly(run(t).findings)).toEqual(['dma-unaligned']);
  });

  it('caps-reply-not-retried', () => {
    const s = type1Prefix();
    s.dev('VFIO_DEVICE_GET_REGION_INFO', { in: { argsz: 32, index: 2 }, out: { argsz: 88, flags: 0xf, size: 0x4000, offset: 0, cap_offset: 0 } });
    const { findings } = run(s);
    expect(seqOnly(findings)).toEqual(['caps-reply-not-retried']);
  });

  it('set-irqs-unsupported', () => {
    const s = type1Prefix();
    s.dev('VFIO_DEVICE_GET_IRQ_INFO', { in: { argsz: 16, index: 3 }, out: { flags: 1, count: 0 } })
      .dev('VFIO_DEVICE_SET_IRQS', { in: { argsz: 24, flags: 0x24, index: 3, start: 0, count: 1 }, data: [9], ret: -22 });
    expect(seqOnly(run(s).findings)).toEqual(['set-irqs-unsupported']);
  });

  it('eeh-unfreeze-when-normal', () => {
    const s = spaprPrefix();
    s.eeh(1).eeh(4, 0).eeh(2);
    expect(seqOnly(run(s).findings)).toEqual(['eeh-unfreeze-when-normal']);
  });

  it('eeh-access-while-stopped', () => {
    const s = spaprPrefix();
    s.eeh(1).eeh(4, 2);
    s.call(DFD, 'anon_inode:[vfio-device]', 'device', 'VFIO_DEVICE_GET_REGION_INFO', { in: { argsz: 32, index: 0 }, out: { flags: 7, size: 0x1000 } });
    expect(seqOnly(run(s).findings)).toEqual(['eeh-access-while-stopped']);
  });

  it('eeh-after-check-said-no', () => {
    const s = spaprPrefix(new (spaprPrefix().constructor as typeof Session)('ppc64le'));
    s.ctr('VFIO_CHECK_EXTENSION', { arg: 5, ret: 0 });
    s.eeh(1, -5);
    expect(seqOnly(run(s).findings)).toEqual(['eeh-after-check-said-no']);
  });
});

describe('decoder findings in the audit', () => {
  it('resolved-by-failed-set-iommu is a note on naming, counted as info (a failed SET_IOMMU left every later call named by it)', () => {
    const s = new Session('ppc64le');
    s.groupPath = '/dev/vfio/1';
    s.ctr('VFIO_GET_API_VERSION')
      .grp('VFIO_GROUP_SET_CONTAINER', { fdArg: CFD })
      .ctr('VFIO_SET_IOMMU', { arg: 7, ret: -19 })
      .ctr('VFIO_IOMMU_SPAPR_TCE_GET_INFO', { in: { argsz: 32 }, ret: -22 })
      .ctr('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f0000000000n, size: 0x1000 }, ret: -22 });
    const { findings } = run(s.exit());
    const notes = findings.filter((f) => f.rule === 'resolved-by-failed-set-iommu');
    expect(notes).toHaveLength(2);
    expect(notes.every((f) => f.severity === 'info' && f.source === 'decoder')).toBe(true);
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });
});
