// The sPAPR TCE v2 backend and VFIO_EEH_PE_OP (docs/abi.md; docs/emulation.md).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEehScript } from '../../src/emulate/eehScript.js';
import { powerEeh } from '../../src/emulate/profiles/powerEeh.js';
import { DDW_START } from '../../src/emulate/spapr.js';
import { VFIO_EEH, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_TYPE1v2_IOMMU } from '../../decoders/container.js';
import {
  VFIO_EEH_PE_CONFIGURE, VFIO_EEH_PE_ENABLE, VFIO_EEH_PE_GET_STATE, VFIO_EEH_PE_INJECT_ERR,
  VFIO_EEH_PE_RESET_DEACTIVATE, VFIO_EEH_PE_RESET_HOT, VFIO_EEH_PE_STATE_NORMAL, VFIO_EEH_PE_STATE_RESET,
  VFIO_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_STOPPED_DMA, VFIO_EEH_PE_STATE_UNAVAIL, VFIO_EEH_PE_UNFREEZE_IO,
} from '../../decoders/eeh.js';
import { VFIO_IOMMU_SPAPR_INFO_DDW } from '../../decoders/spapr.js';
import { errno, Harness } from './harness.js';

let h: Harness;
let c: number;
beforeEach(() => {
  h = new Harness(structuredClone(powerEeh));
  c = h.setup(VFIO_SPAPR_TCE_v2_IOMMU).container;
});
afterEach(() => h.dispose());

const RAM = 0x7f0000000000n;
const register = (vaddr = RAM, size = 0x100000n, flags = 0): number => h.call(c, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { vaddr, size, flags }).ret;

describe('sPAPR TCE v2', () => {
  it('answers CHECK_EXTENSION like a POWER host with EEH', () => {
    const ext = (e: number): number => h.call(c, 'VFIO_CHECK_EXTENSION', BigInt(e)).ret;
    expect([VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_EEH, VFIO_TYPE1v2_IOMMU].map(ext)).toEqual([1, 1, 1, 0]);
  });

  it('GET_INFO: 16 bytes for a short argsz, the DDW part when argsz covers it', () => {
    const short = h.call(c, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', {}, { size: 16 });
    expect(short.verdict.action === 'return' && short.verdict.writes[0]!.bytes.length).toBe(16);
    const full = h.call(c, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO');
    expect(full.out!.num('flags')).toBe(VFIO_IOMMU_SPAPR_INFO_DDW);
    expect(full.out!.get('dma32_window_size')).toBeGreaterThan(0n);
    expect(full.out!.get('ddw.pgsizes') & (1n << 16n)).toBe(1n << 16n);
    expect(h.call(c, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', {}, { size: 8 }).ret).toBe(errno('EINVAL'));
  });

  it('MAP_DMA is EPERM until memory is registered, then needs a window and registered memory', () => {
    const map = (iova: bigint, size = 0x1000n, vaddr = RAM, flags = 3): number => h.call(c, 'VFIO_IOMMU_MAP_DMA', { iova, size, vaddr, flags }).ret;
    expect(map(0n)).toBe(errno('EPERM'));
    expect(register(RAM, 0x100000n, 1)).toBe(errno('EINVAL'));
    expect(register(RAM + 1n)).toBe(errno('EINVAL'));
    expect(register()).toBe(0);
    expect(register()).toBe(errno('EBUSY'));
    expect(register(RAM + 0x1000n)).toBe(errno('EINVAL'));
    expect(map(0n)).toBe(0);
    expect(map(0n, 0x1000n, RAM, 4)).toBe(errno('EINVAL'));
    expect(map(0n, 0x1000n, RAM + 0x200000n)).toBe(errno('EINVAL'));
    expect(map(1n << 40n)).toBe(errno('ENXIO'));
    expect(h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { iova: 0, size: 0x1000, flags: 1 }).ret).toBe(errno('EINVAL'));
    const un = h.call(c, 'VFIO_IOMMU_UNMAP_DMA', { iova: 0, size: 0x1000 });
    expect(un.ret).toBe(0);
    expect(un.verdict.action === 'return' && un.verdict.writes).toEqual([]); // nothing written back
    expect(h.call(c, 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { vaddr: RAM + 0x100000n, size: 0x1000 }).ret).toBe(errno('ENOENT'));
    expect(h.call(c, 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { vaddr: RAM, size: 0x100000 }).ret).toBe(0);
  });

  it('TCE_CREATE/REMOVE: QEMU’s sequence, start addresses, ENOSPC, EINVAL', () => {
    expect(h.call(c, 'VFIO_IOMMU_SPAPR_TCE_REMOVE', { start_addr: 0 }).ret).toBe(0);
    expect(h.call(c, 'VFIO_IOMMU_SPAPR_TCE_REMOVE', { start_addr: 0 }).ret).toBe(errno('EINVAL'));
    const create = (page_shift = 16, window_size = 1n << 30n, levels = 1, flags = 0) =>
      h.call(c, 'VFIO_IOMMU_SPAPR_TCE_CREATE', { page_shift, window_size, levels, flags });
    expect(create(13).ret).toBe(errno('EINVAL'));
    expect(create(16, 3n << 30n).ret).toBe(errno('EINVAL'));
    expect(create(16, 1n << 30n, 9).ret).toBe(errno('EINVAL'));
    expect(create(16, 1n << 30n, 1, 1).ret).toBe(errno('EINVAL'));
    const a = create();
    expect([a.ret, a.out!.get('start_addr')]).toEqual([0, 0n]);
    const b = create(24, 1n << 40n);
    expect([b.ret, b.out!.get('start_addr')]).toEqual([0, DDW_START]);
    expect(create().ret).toBe(errno('ENOSPC'));
  });

  it('v1-only ioctls are ENOTTY on v2', () => {
    expect(h.call(c, 'VFIO_IOMMU_ENABLE').ret).toBe(errno('ENOTTY'));
  });
});

describe('VFIO_EEH_PE_OP', () => {
  const op = (o: number, extra: Record<string, number> = {}, size?: number) =>
    h.call(c, 'VFIO_EEH_PE_OP', { op: o, ...extra }, size !== undefined ? { size } : {});

  it('checks argsz, flags, op and INJECT_ERR’s err, and writes nothing back', () => {
    expect(op(VFIO_EEH_PE_ENABLE, {}, 8).ret).toBe(errno('EINVAL'));
    expect(op(VFIO_EEH_PE_ENABLE, {}, 12).ret).toBe(0);
    expect(op(VFIO_EEH_PE_ENABLE, { flags: 1 }).ret).toBe(errno('EINVAL'));
    expect(op(10).ret).toBe(errno('EINVAL'));
    expect(op(VFIO_EEH_PE_INJECT_ERR, {}, 12).ret).toBe(errno('EINVAL'));
    expect(op(VFIO_EEH_PE_INJECT_ERR, { 'err.type': 2 }).ret).toBe(errno('EINVAL'));
    expect(op(VFIO_EEH_PE_INJECT_ERR, { 'err.func': 20 }).ret).toBe(errno('EINVAL'));
    const r = op(VFIO_EEH_PE_GET_STATE);
    expect(r.ret).toBe(VFIO_EEH_PE_STATE_NORMAL);
    expect(r.verdict.action === 'return' && r.verdict.writes).toEqual([]);
  });

  it('inject → STOPPED; recovery by reset returns to NORMAL; GET_STATE is the return value', () => {
    expect(op(VFIO_EEH_PE_INJECT_ERR, { 'err.type': 0, 'err.func': 4 }).ret).toBe(0);
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(VFIO_EEH_PE_STATE_STOPPED);
    op(VFIO_EEH_PE_UNFREEZE_IO);
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(VFIO_EEH_PE_STATE_STOPPED_DMA);
    op(VFIO_EEH_PE_RESET_HOT);
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(VFIO_EEH_PE_STATE_RESET);
    op(VFIO_EEH_PE_RESET_DEACTIVATE);
    op(VFIO_EEH_PE_CONFIGURE);
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(VFIO_EEH_PE_STATE_NORMAL);
  });

  it('is ENODEV without EEH and ENOTTY on a type1 container', () => {
    const p = structuredClone(powerEeh);
    p.eeh = false;
    const n = new Harness(p);
    try {
      const { container } = n.setup(VFIO_SPAPR_TCE_v2_IOMMU);
      expect(n.call(container, 'VFIO_EEH_PE_OP', { op: 1 }).ret).toBe(errno('ENODEV'));
      expect(n.call(container, 'VFIO_CHECK_EXTENSION', BigInt(VFIO_EEH)).ret).toBe(0);
    } finally {
      n.dispose();
    }
  });

  it('follows a fault script: after the 2nd ENABLE, STOPPED until RESET_HOT, RESET_DEACTIVATE, CONFIGURE', () => {
    h.dispose();
    h = new Harness(structuredClone(powerEeh), parseEehScript('after 2 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE'));
    c = h.setup(VFIO_SPAPR_TCE_v2_IOMMU).container;
    const state = (): number => op(VFIO_EEH_PE_GET_STATE).ret;
    op(VFIO_EEH_PE_ENABLE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_NORMAL);
    op(VFIO_EEH_PE_ENABLE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_STOPPED);
    op(VFIO_EEH_PE_UNFREEZE_IO); // does not help: the script holds the freeze
    op(VFIO_EEH_PE_ENABLE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_STOPPED);
    op(VFIO_EEH_PE_RESET_HOT);
    expect(state()).toBe(VFIO_EEH_PE_STATE_RESET);
    op(VFIO_EEH_PE_RESET_DEACTIVATE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_STOPPED);
    op(VFIO_EEH_PE_CONFIGURE);
    expect(state()).toBe(VFIO_EEH_PE_STATE_NORMAL);
    expect(h.k.pe.history.map((x) => x.state)).toEqual([VFIO_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_RESET, VFIO_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_NORMAL]);
  });

  it('fail scripts and the live flip', () => {
    h.dispose();
    h = new Harness(structuredClone(powerEeh), parseEehScript('after 1 GET_STATE: fail EIO once'));
    c = h.setup(VFIO_SPAPR_TCE_v2_IOMMU).container;
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(0);
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(errno('EIO'));
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(0);
    const seen: number[] = [];
    h.k.pe.onChange((x) => seen.push(x.state));
    h.k.setPeState(VFIO_EEH_PE_STATE_UNAVAIL);
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(VFIO_EEH_PE_STATE_UNAVAIL);
    h.k.setPeState(VFIO_EEH_PE_STATE_STOPPED);
    op(VFIO_EEH_PE_ENABLE); // QEMU's PHB reset clears a freeze
    expect(op(VFIO_EEH_PE_GET_STATE).ret).toBe(VFIO_EEH_PE_STATE_NORMAL);
    expect(seen).toEqual([VFIO_EEH_PE_STATE_UNAVAIL, VFIO_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_NORMAL]);
  });
});

describe('EEH script language', () => {
  it('parses rules and names what is wrong', () => {
    expect(parseEehScript('after 3 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE; now: fail EIO once')).toEqual([
      { after: { count: 3, op: 1 }, action: { kind: 'state', state: 2, until: [6, 5, 8] }, text: 'after 3 ENABLE: state STOPPED until RESET_HOT,RESET_DEACTIVATE,CONFIGURE' },
      { after: null, action: { kind: 'fail', errno: 'EIO', once: true }, text: 'now: fail EIO once' },
    ]);
    expect(() => parseEehScript('after 3 ENABLE state STOPPED')).toThrow(/TRIGGER: ACTION/);
    expect(() => parseEehScript('after 0 ENABLE: state STOPPED')).toThrow(/after N OP/);
    expect(() => parseEehScript('after 1 FREEZE: state STOPPED')).toThrow(/unknown EEH op "FREEZE"/);
    expect(() => parseEehScript('now: state FROZEN')).toThrow(/unknown state/);
    expect(() => parseEehScript('now: fail EWHAT')).toThrow(/unknown errno/);
  });
});
