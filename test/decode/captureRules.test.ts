// Capture rules derived from the descriptions: one rule per number, shared
// numbers merged so every candidate gets the bytes it needs.

import { describe, expect, it } from 'vitest';
import { captureRules } from '../../src/decode/captureRules.js';
import { RuleKind } from '../../src/trace/events.js';
import { registry } from '../../decoders/index.js';

const byReq = (arch: string) => new Map(captureRules(arch, registry()).map((r) => [r.request, r]));

describe('captureRules', () => {
  it('one rule per number, with the architecture encoding', () => {
    const x86 = captureRules('x86_64', registry());
    const ppc = captureRules('ppc64', registry());
    const nrs = new Set(registry().ioctls.map((d) => d.nr));
    expect(x86.length).toBe(nrs.size);
    expect(new Set(x86.map((r) => r.request)).size).toBe(x86.length);
    expect(x86.map((r) => r.request + 0x20000000)).toEqual(ppc.map((r) => r.request));
    expect(byReq('ppc64le').get(0x20003b79)?.kind).toBe(RuleKind.Sized);
  });

  it('shared numbers: a struct beats none, minsz and cap are the largest', () => {
    const m = byReq('x86_64');
    // 0x3B79: EEH (minsz 12) and MIG_GET_PRECOPY_INFO (24).
    expect(m.get(0x3b79)).toMatchObject({ kind: RuleKind.Sized, minsz: 24 });
    // 0x3B73: sPAPR IOMMU_DISABLE (none) and GET_GFX_DMABUF (u32 pointer) → fixed 4 bytes.
    expect(m.get(0x3b73)).toMatchObject({ kind: RuleKind.Fixed, size: 4 });
    // 0x3B70: type1/sPAPR GET_INFO (16) and GET_PCI_HOT_RESET_INFO (12, devices[]).
    expect(m.get(0x3b70)).toMatchObject({ kind: RuleKind.Sized, minsz: 16, cap: 65536 });
    expect(m.get(0x3b64)?.kind).toBe(RuleKind.None);
    expect(m.get(0x3b65)?.kind).toBe(RuleKind.Integer);
    expect(m.get(0x3b68)?.kind).toBe(RuleKind.Fixed);
    expect(m.get(0x3b6a)).toMatchObject({ kind: RuleKind.CString, cap: 4096 });
    // iommufd uses the same sized rule (`size` is the first u32).
    expect(m.get(0x3b85)).toMatchObject({ kind: RuleKind.Sized, minsz: 40 });
  });

  it('rules for caps chains and flexible arrays allow 64 KiB', () => {
    const m = byReq('x86_64');
    for (const req of [0x3b6b, 0x3b6c, 0x3b6e, 0x3b75]) expect(m.get(req)?.cap).toBe(65536);
  });
});
