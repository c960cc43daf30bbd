// The descriptions against real kernel headers: every ioctl number, struct
// size and field offset becomes a C static assert, compiled with gcc against
// the machine's headers and against Debian 13's (including powerpc's asm/
// for the ppc encoding). Errno numbers are checked the same way.

import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { registry } from '../../decoders/index.js';
import { allErrnos } from '../../src/decode/errno.js';
import { indexHeader, layoutC } from './cgen.js';
import { HOST, gccCheck, hasGcc, headerText, trixieHeaders, type HeaderSet } from './kheaders.js';

function errnoC(flavor: 'generic' | 'powerpc'): string {
  const lines = ['#include <asm/errno.h>', '#define CHECK(e) _Static_assert(e, #e)'];
  for (const [name, v] of allErrnos(flavor)) lines.push(`#ifdef ${name}\nCHECK(${name} == ${v});\n#endif`);
  return lines.join('\n') + '\n';
}

const gcc = hasGcc();
const reg = registry();

describe.skipIf(!gcc)('layouts against the host headers', () => {
  it('every ioctl number, size and offset the host header has matches', () => {
    const { text, includes } = headerText(HOST);
    const idx = indexHeader(text);
    const c = layoutC(reg, idx, includes, 'x86_64');
    // The 6.1 header already has most of VFIO: the check must not be vacuous.
    expect(c.counts.ioctls).toBeGreaterThanOrEqual(30);
    expect(c.counts.sizes).toBeGreaterThan(30);
    expect(c.counts.offsets).toBeGreaterThan(150);
    expect(gccCheck(c.source, [], 'host.c')).toBe('');
  });

  it('host errno numbers match the generic table', () => {
    expect(gccCheck(errnoC('generic'), [], 'errno-host.c')).toBe('');
  });

  it('a wrong description is caught (the check can fail)', () => {
    const { text, includes } = headerText(HOST);
    const c = layoutC(reg, indexHeader(text), includes, 'x86_64');
    const broken = c.source.replace('CHECK(sizeof(struct vfio_eeh_pe_op) == 40);', 'CHECK(sizeof(struct vfio_eeh_pe_op) == 32);');
    expect(broken).not.toBe(c.source);
    expect(gccCheck(broken, [], 'broken.c')).toMatch(/static assertion failed|_Static_assert/);
  });
});

const trixie = gcc ? trixieHeaders() : { set: null, why: 'gcc missing' };
if (!trixie.set) console.warn(`skipping Debian 13 header checks: ${trixie.why}`);

describe.skipIf(!trixie.set)('layouts against Debian 13 linux-libc-dev (vfio.h + iommufd.h)', () => {
  const set = trixie.set as HeaderSet;
  const archDir = (triplet: string) => path.join(set.include, triplet);

  it('numbers, sizes and offsets (x86_64 encoding)', () => {
    const { text, includes } = headerText(set);
    expect(includes).toContain('linux/iommufd.h');
    const c = layoutC(reg, indexHeader(text), includes, 'x86_64');
    expect(c.counts.ioctls).toBeGreaterThan(45);
    expect(gccCheck(c.source, [set.include, archDir('x86_64-linux-gnu')], 'trixie-x86.c')).toBe('');
  });

  for (const [arch, triplet] of [
    ['ppc64', 'powerpc64-linux-gnu'],
    ['ppc64le', 'powerpc64le-linux-gnu'],
    ['aarch64', 'aarch64-linux-gnu'],
  ] as const) {
    it(`ioctl numbers with ${arch}'s encoding (its asm/ioctl.h)`, () => {
      const { text, includes } = headerText(set);
      const c = layoutC(reg, indexHeader(text), includes, arch, true);
      expect(c.counts.ioctls).toBeGreaterThan(45);
      expect(gccCheck(c.source, [set.include, archDir(triplet)], `trixie-${arch}.c`)).toBe('');
    });
  }

  it('powerpc errno numbers (EDEADLOCK is its own value)', () => {
    expect(gccCheck(errnoC('powerpc'), [set.include, archDir('powerpc64-linux-gnu')], 'errno-ppc.c')).toBe('');
    expect(gccCheck(errnoC('generic'), [set.include, archDir('aarch64-linux-gnu')], 'errno-arm.c')).toBe('');
  });
});
