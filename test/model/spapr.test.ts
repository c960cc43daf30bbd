// The sPAPR TCE state of a container, from calls decoded by the real decoder
// (raw ppc64le records): the default 32-bit window GET_INFO reports, the
// windows TCE_CREATE made and TCE_REMOVE took away, and the memory
// REGISTER_MEMORY preregistered. As drivers/vfio/vfio_iommu_spapr_tce.c
// keeps them: a failed call changes nothing, TCE_REMOVE takes the window
// holding start_addr, UNREGISTER_MEMORY needs the very vaddr and size.

import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { SessionModel } from '../../src/model/session.js';
import type { ContainerSnap } from '../../src/model/snapshot.js';
import { DDW_START, Session, spaprDdwSession as ddwSession, spaprPrefix } from '../audit/qemu.js';
import { registry } from '../../decoders/index.js';

const EINVAL = -22;
const ENOSPC = -28;
const ENOENT = -2;

function container(s: Session): ContainerSnap {
  const d = createDecoder(s.header, { registry: registry() });
  const m = new SessionModel();
  for (const r of s.traceRecords()) m.apply(d.decode(r));
  const c = m.snapshot().processes[0]?.containers[0];
  if (!c) throw new Error('no container');
  return c;
}

describe('sPAPR TCE windows and registered memory', () => {
  it('GET_INFO gives the default 32-bit window and the DDW limits; TCE_CREATE adds a window where the kernel put it', () => {
    const sp = container(ddwSession()).spapr;
    expect(sp?.info).toEqual({
      seq: 3, flags: 1, dma32_window_start: '0x0', dma32_window_size: '0x80000000',
      ddw: { pgsizes: '0x1011000', max_dynamic_windows_supported: 1, levels: 5 },
    });
    expect(sp?.windows).toEqual([
      { start_addr: '0x0', window_size: '0x80000000', page_shift: null, levels: null, seq: 3, default: true },
      { start_addr: '0x800000000000000', window_size: '0x40000000', page_shift: 16, levels: 1, seq: 7, default: false },
    ]);
    expect(sp?.registered).toEqual([
      { vaddr: '0x7f0000000000', size: '0x40000000', seq: 4 },
      { vaddr: '0x7f8000000000', size: '0x100000', seq: 5 },
    ]);
    expect(sp?.registeredBytes).toBe('0x40100000');
    expect(sp?.defaultRemoved).toBeNull();
  });

  it('a refused TCE_CREATE makes no window; TCE_REMOVE takes the window holding start_addr, the default one too', () => {
    const s = ddwSession()
      .ctr('VFIO_IOMMU_SPAPR_TCE_CREATE', { in: { argsz: 40, flags: 0, page_shift: 16, window_size: 0x40000000, levels: 1 }, ret: ENOSPC })
      // An address inside the 64-bit window names it.
      .ctr('VFIO_IOMMU_SPAPR_TCE_REMOVE', { in: { argsz: 16, flags: 0, start_addr: DDW_START + 0x10000n } })
      .ctr('VFIO_IOMMU_SPAPR_TCE_REMOVE', { in: { argsz: 16, flags: 0, start_addr: 0 } })
      // Nothing left there: refused.
      .ctr('VFIO_IOMMU_SPAPR_TCE_REMOVE', { in: { argsz: 16, flags: 0, start_addr: 0 }, ret: EINVAL });
    const sp = container(s).spapr;
    expect(sp?.windows).toEqual([]);
    expect(sp?.defaultRemoved).toBe(10);
    // What GET_INFO said stays known.
    expect(sp?.info?.dma32_window_size).toBe('0x80000000');
  });

  it('UNREGISTER_MEMORY drops the region with that very vaddr and size; a refused one keeps it', () => {
    const s = ddwSession()
      .ctr('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f8000000000n, size: 0x1000 }, ret: ENOENT })
      .ctr('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { in: { argsz: 24, flags: 0, vaddr: 0x7f0000000000n, size: 0x40000000 } });
    const sp = container(s).spapr;
    expect(sp?.registered).toEqual([{ vaddr: '0x7f8000000000', size: '0x100000', seq: 5 }]);
    expect(sp?.registeredBytes).toBe('0x100000');
  });

  it('a new SET_IOMMU is a new TCE container: nothing of the old one carries over', () => {
    const s = ddwSession()
      .grp('VFIO_GROUP_UNSET_CONTAINER')
      .grp('VFIO_GROUP_SET_CONTAINER', { fdArg: 3 })
      .ctr('VFIO_SET_IOMMU', { arg: 7 });
    expect(container(s).spapr).toBeNull();
  });

  it('a type1 container has no sPAPR state, and neither has an sPAPR one before any sPAPR call', () => {
    expect(container(spaprPrefix(new Session('ppc64le')).ctr('VFIO_GET_API_VERSION')).spapr).not.toBeNull();
    const plain = new Session('ppc64le');
    plain.ctr('VFIO_GET_API_VERSION').grp('VFIO_GROUP_SET_CONTAINER', { fdArg: 3 }).ctr('VFIO_SET_IOMMU', { arg: 7 });
    expect(container(plain).spapr).toBeNull();
  });
});
