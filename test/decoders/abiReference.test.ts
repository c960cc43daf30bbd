// docs/abi.md is generated from the descriptions: it must say what they say
// now, and what it says must agree with the facts tests rely on.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { families } from '../../decoders/index.js';
import { abiReference } from '../../src/decode/abiReference.js';

const page = abiReference(families);

describe('docs/abi.md', () => {
  it('is what the descriptions say now (regenerate: npm run build && node scripts/gen-abi.mjs)', () => {
    expect(readFileSync(new URL('../../docs/abi.md', import.meta.url), 'utf8')).toBe(page);
  });

  it('lists every ioctl once per family, with its request number, and every struct it carries', () => {
    for (const f of families) {
      for (const d of f.ioctls) {
        expect(page).toContain(`| \`${d.name}\` | 0x${(0x3b00 | d.nr).toString(16)} (`);
        if (d.arg.kind === 'struct') expect(page).toContain(`### struct ${d.arg.type.name}\n`);
      }
    }
    // A known layout, as the uapi header has it.
    expect(page).toMatch(/### struct vfio_iommu_type1_dma_map\n\nsizeof 32, align 8\n/);
    expect(page).toContain('| 24 | `size` | __u64 | 8 | in |');
  });
});
