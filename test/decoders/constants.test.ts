// Every named uapi value decoders/ exports (the ones src/model, src/audit and
// src/emulate import) against the kernel headers, and the emulator's errno
// table against <errno.h>: static asserts compiled by gcc.

import { describe, expect, it } from 'vitest';
import * as cdev from '../../decoders/cdev.js';
import * as common from '../../decoders/common.js';
import * as container from '../../decoders/container.js';
import * as device from '../../decoders/device.js';
import * as eeh from '../../decoders/eeh.js';
import * as feature from '../../decoders/feature.js';
import * as group from '../../decoders/group.js';
import * as hotreset from '../../decoders/hotreset.js';
import * as iommufd from '../../decoders/iommufd.js';
import * as irqs from '../../decoders/irqs.js';
import * as migration from '../../decoders/migration.js';
import * as spapr from '../../decoders/spapr.js';
import * as type1 from '../../decoders/type1.js';
import { E } from '../../src/emulate/errno.js';
import { HOST, gccCheck, hasGcc, trixieHeaders, type HeaderSet } from './kheaders.js';

const MODULES = { cdev, common, container, device, eeh, feature, group, hotreset, iommufd, irqs, migration, spapr, type1 };

/** name → value of every exported number named like a kernel constant. */
function exportedConstants(): Map<string, number> {
  const out = new Map<string, number>();
  for (const [file, mod] of Object.entries(MODULES)) {
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== 'number' || !/^(VFIO|IOMMU)_/.test(name)) continue;
      if (out.has(name) && out.get(name) !== value) throw new Error(`${name} exported twice with different values (${file})`);
      out.set(name, value);
    }
  }
  return out;
}

// The header spells these as enumerators, which #ifdef cannot see.
const isEnumerator = (name: string): boolean => /_REGION_INDEX$|_IRQ_INDEX$|^VFIO_PCI_NUM_/.test(name);

function compile(source: string, include: string | null): void {
  expect(gccCheck(source, include ? [include] : [])).toBe('');
}

/** Newer than Debian 13's 6.12 headers: checked there only if present. */
const NEWER_THAN_TRIXIE = new Set(['VFIO_DEVICE_FEATURE_DMA_BUF']);

/** Asserts; with `all`, a name the header lacks is an error, else only names it has are checked. */
function assertsFor(consts: Map<string, number>, all: boolean, iommufdHeader: boolean): string {
  const lines = ['#include <linux/vfio.h>', ...(iommufdHeader ? ['#include <linux/iommufd.h>'] : [])];
  for (const [name, value] of consts) {
    if (name.startsWith('IOMMU_') && !iommufdHeader) continue;
    const a = `_Static_assert(${name} == ${value}, "${name}");`;
    lines.push((all && !NEWER_THAN_TRIXIE.has(name)) || isEnumerator(name) ? a : `#ifdef ${name}\n${a}\n#endif`);
  }
  return lines.join('\n') + '\n';
}

const gcc = hasGcc();
const consts = exportedConstants();

describe('exported uapi constants', () => {
  it('are exported once each and cover what the model and the emulator use', () => {
    expect(consts.size).toBeGreaterThan(90);
    for (const n of ['VFIO_TYPE1v2_IOMMU', 'VFIO_EEH_PE_INJECT_ERR', 'VFIO_PCI_NUM_IRQS', 'VFIO_DEVICE_FEATURE_PROBE', 'IOMMU_IOAS_MAP_FIXED_IOVA']) {
      expect(consts.has(n), n).toBe(true);
    }
  });

  it('name the same values as the tables the descriptions display', () => {
    const tables = [container.EXTENSIONS, eeh.EEH_OPS, eeh.EEH_STATES, device.IRQ_INDEXES, type1.DMA_MAP_FLAGS];
    for (const [name, value] of tables.flat()) expect(consts.get(name), name).toBe(value);
    device.PCI_REGION_NAMES.forEach((name, i) => expect(consts.get(name), name).toBe(i));
  });
});

describe.skipIf(!gcc)(`exported uapi constants vs the kernel headers${gcc ? '' : ' (skipped: gcc not found)'}`, () => {
  it('match the host <linux/vfio.h> for every name it has', () => {
    compile(assertsFor(consts, false, false), HOST.include);
  });

  const trixie = gcc ? trixieHeaders() : { set: null, why: 'gcc missing' };
  it.skipIf(!trixie.set)(`all exist with these values in Debian 13's vfio.h and iommufd.h${trixie.set ? '' : ` (skipped: ${trixie.why})`}`, () => {
    compile(assertsFor(consts, true, true), (trixie.set as HeaderSet).include);
  });

  it("the emulator's errno table matches <errno.h>", () => {
    compile(['#include <errno.h>', ...Object.entries(E).map(([k, v]) => `_Static_assert(${k} == ${v}, "${k}");`)].join('\n') + '\n', null);
  });
});
