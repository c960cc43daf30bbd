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
import { HOST, gccCheck, hasGcc, headerText, trixieHeaders, type HeaderSet } from './kheaders.js';

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

function compile(source: string, include: string | null): void {
  expect(gccCheck(source, include ? [include] : [])).toBe('');
}

/**
 * Static asserts for every name the headers spell (macro or enumerator);
 * the names they do not spell at all are newer than them, and are returned
 * so the run can list them. A name spelled with another value fails.
 */
function assertsFor(consts: Map<string, number>, set: HeaderSet): { source: string; absent: string[] } {
  const { text, includes } = headerText(set);
  const spelled = new Set(text.match(/\b(?:VFIO|IOMMU)_[A-Za-z0-9_]+\b/g) ?? []);
  const lines = includes.map((h) => `#include <${h}>`);
  const absent: string[] = [];
  for (const [name, value] of consts) {
    if (spelled.has(name)) lines.push(`_Static_assert(${name} == ${value}, "${name}");`);
    else absent.push(name);
  }
  return { source: lines.join('\n') + '\n', absent };
}

/** Compiles the asserts against `set` and lists what it does not have yet. */
function checkAgainst(set: HeaderSet): string[] {
  const { source, absent } = assertsFor(consts, set);
  compile(source, set.include);
  if (absent.length > 0) console.info(`${set.label}: ${absent.length} exported names it does not define yet (not checked there): ${absent.join(', ')}`);
  return absent;
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
    // Debian 12's 6.1 headers: the VFIO core is there, iommufd is not.
    const absent = checkAgainst(HOST);
    expect(absent).not.toContain('VFIO_TYPE1v2_IOMMU');
  });

  const trixie = gcc ? trixieHeaders() : { set: null, why: 'gcc missing' };
  it.skipIf(!trixie.set)(`match Debian 13's vfio.h and iommufd.h for every name they have${trixie.set ? '' : ` (skipped: ${trixie.why})`}`, () => {
    // What 6.12 lacks is only what came after it; the core names are all there.
    const absent = checkAgainst(trixie.set as HeaderSet);
    for (const n of ['IOMMU_IOAS_MAP_FIXED_IOVA', 'VFIO_EEH_PE_INJECT_ERR', 'VFIO_PCI_NUM_IRQS']) expect(absent).not.toContain(n);
    expect(absent.length).toBeLessThan(consts.size / 10);
  });

  it("the emulator's errno table matches <errno.h>", () => {
    compile(['#include <errno.h>', ...Object.entries(E).map(([k, v]) => `_Static_assert(${k} == ${v}, "${k}");`)].join('\n') + '\n', null);
  });
});
