// Payload trees are built on first access. The lazy tree must equal what one
// eager walk (tree, values and findings together, as decoding used to work)
// builds from the same bytes, and the findings must be the same whether or
// not anyone looks at the tree.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/decode/compile.js';
import { decodeFields } from '../../src/decode/sinks/tree.js';
import { createDecoder } from '../../src/decode/decoder.js';
import { IoctlEvent, type StructPayload } from '../../src/decode/event.js';
import type { DecodedEvent, FieldNode, Finding } from '../../src/decode/types.js';
import { ARCHS, goldenRecordings, randomCall, randomRecord } from '../helpers/randomCalls.js';
import { header, PATH, record } from './helpers.js';
import { registry } from '../../decoders/index.js';

/** The eager reference: one walk building the tree and collecting findings. */
function eager(pl: StructPayload, side: 'in' | 'out'): { root: FieldNode | null; findings: Finding[] } {
  const b = side === 'in' ? pl.entry : pl.exit;
  const findings: Finding[] = [];
  if (b === null || b.length === 0) return { root: null, findings };
  const vals = {};
  const env: Env = {
    dv: new DataView(b.buffer, b.byteOffset, b.byteLength), base: 0, bytes: b, le: pl.le, len: b.length, cmp: side === 'out' ? pl.entry : null,
    ctx: { side, ret: pl.ret, argsz: pl.argsz, root: vals }, findings,
  };
  const kids: FieldNode[] = [];
  decodeFields(pl.cs, env, 0, pl.limit, '', kids, vals);
  const root: FieldNode = { name: pl.cs.t.name, path: '', ctype: pl.cs.ctype, offset: 0, size: b.length, dir: 'inout', display: '{…}', children: kids };
  if (side === 'out' && kids.some((k) => k.changed)) root.changed = true;
  return { root, findings };
}

/** Checks one event against the reference; returns whether it had a struct payload. */
function check(ev: DecodedEvent): boolean {
  if (ev.kind !== 'ioctl' || !(ev instanceof IoctlEvent) || ev.payload === null) return false;
  const pl = ev.payload;
  const before = ev.findings.map((f) => ({ ...f }));
  const i = eager(pl, 'in');
  const o = eager(pl, 'out');
  expect(ev.in).toEqual(i.root);
  expect(ev.out).toEqual(o.root);
  // Every finding the eager walk makes is there, in order, without the tree
  // having been needed; a generic unknown-value one gives way to the
  // description's own finding on the same field (decoder.ts preferSpecific).
  const rules = before.map((f) => f.rule + ' ' + f.message);
  const generic = (f: Finding): boolean => f.rule === 'unknown-enum';
  const specific = new Set(before.filter((f) => !generic(f) && f.field !== undefined).map((f) => f.field));
  let at = 0;
  for (const f of [...i.findings, ...o.findings]) {
    if (generic(f) && specific.has(f.field)) continue;
    const k = rules.indexOf(f.rule + ' ' + f.message, at);
    expect(k, `${f.rule}: ${f.message}`).toBeGreaterThanOrEqual(0);
    at = k + 1;
  }
  expect(ev.findings).toEqual(before);
  return true;
}

describe('lazy payload trees', () => {
  it('equal the eager walk on random payloads', () => {
    let structs = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...ARCHS),
        fc.array(
          randomCall({ minEntry: 4 }),
          { minLength: 1, maxLength: 8 },
        ),
        (arch, calls) => {
          const dec = createDecoder(header(arch), { registry: registry() });
          for (const c of calls) if (check(dec.decode(randomRecord(arch, c)))) structs++;
        },
      ),
      { numRuns: 300 },
    );
    expect(structs).toBeGreaterThan(300);
  });

  it('equal the eager walk on the golden recordings (caps chains, flex arrays, EEH)', () => {
    for (const { header: h, records } of goldenRecordings()) {
      const dec = createDecoder(h, { registry: registry() });
      let n = 0;
      for (const r of records) if (check(dec.decode(r))) n++;
      expect(n).toBeGreaterThan(10);
    }
  });

  it('JSON of the event object shows the trees', () => {
    const dec = createDecoder(header(), { registry: registry() });
    const e = new Uint8Array(16);
    e[0] = 16;
    e[8] = 1; // index
    const ev = dec.decode(record('x86_64', { nr: 109, path: PATH.device, entry: e, exit: e }));
    const o = JSON.parse(JSON.stringify(ev, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as { in: { children: unknown[] } };
    expect(o.in.children.length).toBeGreaterThan(0);
  });
});
