// The model reads top-level scalars straight from a call's bytes instead of
// building its payload tree; every value it reads that way must be the one
// the tree holds (present, absent or unreadable alike).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { IoctlEvent } from '../../src/decode/event.js';
import type { DecodedEvent } from '../../src/decode/types.js';
import { fieldNumber, fieldValue, sideNumber, sideValue } from '../../src/model/fields.js';
import { header, PATH, record } from '../decode/helpers.js';
import { ARCHS, goldenRecordings, randomCall, randomRecord } from '../helpers/randomCalls.js';
import { registry } from '../../decoders/index.js';

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

describe('direct field reads', () => {
  it('equal the payload tree on random payloads of every struct ioctl', () => {
    let present = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...ARCHS),
        randomCall(),
        (arch, c) => {
          present += check(createDecoder(header(arch), { registry: registry() }).decode(randomRecord(arch, c)));
        },
      ),
      { numRuns: 400 },
    );
    expect(present).toBeGreaterThan(100);
  });

  it('equal the payload tree on the golden recordings', () => {
    for (const { header: h, records } of goldenRecordings()) {
      const dec = createDecoder(h, { registry: registry() });
      let present = 0;
      for (const r of records) present += check(dec.decode(r));
      expect(present).toBeGreaterThan(20);
    }
  });

  it('falls back to the tree when the tree was replaced', () => {
    const dec = createDecoder(header(), { registry: registry() });
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
