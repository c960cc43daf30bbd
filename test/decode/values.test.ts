// Values typed from the description: no type written twice.

import { describe, expect, expectTypeOf, it } from 'vitest';
import { decodeValues } from '../../src/decode/values.js';
import type { FieldNames } from '../../src/decode/dsl.js';
import { vfio_eeh_pe_op } from '../../decoders/eeh.js';
import { vfio_iommu_type1_dma_map } from '../../decoders/type1.js';
import { bytes } from './helpers.js';

describe('decodeValues', () => {
  it('reads every scalar by C field name, nested ones dotted', () => {
    const v = decodeValues(vfio_eeh_pe_op, bytes(false, [['u32', 40], ['u32', 0], ['u32', 9], ['u32', 0], ['u32', 1], ['u32', 4], ['u64', 16], ['u64', 255]]), false);
    expect(v).toEqual({ argsz: 40, flags: 0, op: 9, 'err.type': 1, 'err.func': 4, 'err.addr': 16, 'err.mask': 255 });
    expectTypeOf<FieldNames<typeof vfio_eeh_pe_op>>().toEqualTypeOf<'argsz' | 'flags' | 'op' | ''>();
    expectTypeOf(v.op).toEqualTypeOf<number | undefined>();
  });

  it('fields past the end are absent', () => {
    const v = decodeValues(vfio_iommu_type1_dma_map, bytes(true, [['u32', 32], ['u32', 3], ['u64', 0x1000]]), true);
    expect(v).toEqual({ argsz: 32, flags: 3, vaddr: 0x1000 });
    expectTypeOf<FieldNames<typeof vfio_iommu_type1_dma_map>>().toEqualTypeOf<'argsz' | 'flags' | 'vaddr' | 'iova' | 'size'>();
  });
});
