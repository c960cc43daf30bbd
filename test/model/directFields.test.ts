// The model reads top-level scalars straight from a call's bytes instead of
// building its payload tree; every value it reads that way must be the one
// the tree holds (present, absent or unreadable alike).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { IoctlEvent } from '../../src/decode/event.js';
import { registry } from '../../src/decode/registry.js';
import type { DecodedEvent } from '../../src/decode/types.js';
import { fieldNumber, fieldValue, sideNumber, sideValue } from '../../src/model/fields.js';
import { parseRecording } from '../../src/trace/reader.js';
import { header, PATH, record } from '../decode/helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Compares every top-level field name of the struct (and a few that are not there); returns how many were present. */
function check(ev: DecodedEvent): number {
  if (!(ev instanceof IoctlEvent) || ev.payload === null) return 0;
  const names = ev.payload.cs.plans.map((p) => p.name);
  let present = 0;
  for (const side of ['in', 'out'] as const) {
    for (const name of [...names, 'no_such_field', '']) {
      const direct = sideValue(ev, side, name);
      const tree = fieldValue(side === 'in' ? ev.in : ev.out, name);
      expect(direct, `${ev.ioctl ?? '?'} ${side} ${name}`).toBe(tree);
      expect(sideNumber(ev, side, name), `${ev.ioctl ?? '?'} ${side} ${name} as a number`).toBe(fieldNumber(side === 'in' ? ev.in : ev.out, name));
      if (tree !== undefined) present++;
    }
  }
  return present;
}

const nrs = [...new Set(registry().ioctls.filter((d) => d.arg.kind === 'struct').map((d) => d.nr))];
const PATHS = [PATH.container, PATH.group, PATH.device, PATH.deviceAnon, PATH.iommufd];

describe('direct field reads', () => {
  it('equal the payload tree on random payloads of every struct ioctl', () => {
    let present = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('x86_64', 'ppc64le', 'ppc64'),
        fc.record({
          nr: fc.constantFrom(...nrs),
          path: fc.constantFrom(...PATHS),
          entry: fc.uint8Array({ minLength: 0, maxLength: 200 }),
          argsz: fc.integer({ min: 0, max: 220 }),
          flips: fc.array(fc.record({ at: fc.nat(220), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
          ret: fc.constantFrom(0, 1, -22, -25, -14),
        }),
        (arch, c) => {
          const entry = c.entry.slice();
          if (entry.length >= 4) new DataView(entry.buffer).setUint32(0, c.argsz, arch !== 'ppc64');
          const exit = entry.slice();
          for (const f of c.flips) if (f.at < exit.length) exit[f.at] = f.v;
          present += check(createDecoder(header(arch)).decode(record(arch, { nr: c.nr, path: c.path, entry, exit, ret: c.ret })));
        },
      ),
      { numRuns: 400 },
    );
    expect(present).toBeGreaterThan(100);
  });

  it('equal the payload tree on the golden recordings', () => {
    for (const arch of ['x86_64', 'ppc64le', 'ppc64']) {
      const { header: h, records } = parseRecording(new Uint8Array(readFileSync(path.join(HERE, '..', 'golden', `spapr-eeh.${arch}.vft`))));
      const dec = createDecoder(h);
      let present = 0;
      for (const r of records) present += check(dec.decode(r));
      expect(present).toBeGreaterThan(20);
    }
  });

  it('falls back to the tree when the tree was replaced', () => {
    const dec = createDecoder(header());
    const e = new Uint8Array(16);
    e[0] = 16;
    e[8] = 1;
    const ev = dec.decode(record('x86_64', { nr: 109, path: PATH.device, entry: e, exit: e }));
    if (ev.kind !== 'ioctl') throw new Error('not an ioctl');
    expect(sideValue(ev, 'in', 'index')).toBe(1n);
    ev.in = { name: 'x', path: '', ctype: 'x', offset: 0, size: 16, dir: 'in', display: '{…}', children: [
      { name: 'index', path: 'index', ctype: '__u32', offset: 8, size: 4, dir: 'in', value: 7n, display: '7' },
    ] };
    expect(sideValue(ev, 'in', 'index')).toBe(7n);
  });
});
