// Big-endian POWER recordings: a ppc64 byte vector decodes to the same
// values as its little-endian (ppc64le) twin.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { registry } from '../../decoders/index.js';
import { leaves } from '../decoders/cgen.js';
import type { FieldNode } from '../../src/decode/types.js';
import { bytes, nr, session, PATH } from './helpers.js';
import type { IoctlDesc } from '../../src/decode/ioctlDesc.js';

const PATH_OF: Record<string, string> = { container: PATH.container, group: PATH.group, device: PATH.device, iommufd: PATH.iommufd };

function strip(n: FieldNode | null): unknown {
  if (!n) return null;
  return { p: n.path, v: n.value?.toString(), t: n.text, d: n.display, o: n.offset, s: n.size, c: n.changed ?? false, k: n.children?.map(strip) };
}

/** LE bytes and their BE twin: every scalar's bytes reversed, padding kept. */
function twins(d: IoctlDesc, seed: Uint8Array): [Uint8Array, Uint8Array] {
  if (d.arg.kind !== 'struct') throw new Error('struct only');
  const t = d.arg.type;
  const le = seed.slice(0, t.size);
  new DataView(le.buffer).setUint32(0, t.size, true);
  const be = le.slice();
  for (const l of leaves(t)) be.set(le.slice(l.offset, l.offset + l.size).reverse(), l.offset);
  return [le, be];
}

const structIoctls = registry().ioctls.filter((d) => d.arg.kind === 'struct' && d.fdKinds.some((k) => PATH_OF[k]));

describe('big-endian twins', () => {
  it('EEH INJECT_ERR from a ppc64 host', () => {
    const e = bytes(false, [['u32', 40], ['u32', 0], ['u32', 9], ['u32', 0], ['u32', 0], ['u32', 4], ['u64', 0x80000000n], ['u64', 0xffffffffn]]);
    const ev = session('ppc64').call({ nr: nr(21), entry: e });
    expect(ev.in?.children?.map((c) => c.display)).toEqual(['40', '0x0', 'VFIO_EEH_PE_INJECT_ERR', '{…}']);
    expect(ev.in?.children?.[3]?.children?.map((c) => c.display)).toEqual(['EEH_ERR_TYPE_32', 'EEH_ERR_FUNC_LD_CFG_ADDR', '0x80000000', '0xffffffff']);
  });

  it(`every struct ioctl (${structIoctls.length}) decodes the same from both byte orders`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...structIoctls), fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.integer({ min: -30, max: 3 }), (d, seed, ret) => {
        const [le, be] = twins(d, seed);
        const leX = le.slice();
        const beX = be.slice();
        const kind = d.fdKinds.find((k) => PATH_OF[k]) as string;
        const arg = { nr: d.nr, path: PATH_OF[kind], ret };
        const a = session('ppc64le');
        const b = session('ppc64');
        if (d.backends !== 'any') {
          const type = d.backends.includes('spapr-v2') ? 7n : d.backends.includes('spapr-v1') ? 2n : 3n;
          a.call({ nr: 102, arg: type });
          b.call({ nr: 102, arg: type });
        }
        const x = a.call({ ...arg, entry: le, exit: leX });
        const y = b.call({ ...arg, entry: be, exit: beX });
        expect(y.ioctl).toBe(d.name);
        expect(strip(y.in)).toEqual(strip(x.in));
        expect(strip(y.out)).toEqual(strip(x.out));
        expect(y.ret).toEqual(x.ret);
        expect(y.findings.map((f) => f.rule)).toEqual(x.findings.map((f) => f.rule));
      }),
      { numRuns: 300 },
    );
  });
});
