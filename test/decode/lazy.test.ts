// Payload trees are built on first access. The lazy tree must equal what one
// eager walk (tree, values and findings together, as decoding used to work)
// builds from the same bytes, and the findings must be the same whether or
// not anyone looks at the tree.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFields, type Env } from '../../src/decode/compile.js';
import { createDecoder } from '../../src/decode/decoder.js';
import { IoctlEvent, type StructPayload } from '../../src/decode/event.js';
import { registry } from '../../src/decode/registry.js';
import type { DecodedEvent, FieldNode, Finding } from '../../src/decode/types.js';
import { parseRecording } from '../../src/trace/reader.js';
import { header, PATH, record } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The eager reference: one walk building the tree and collecting findings. */
function eager(pl: StructPayload, side: 'in' | 'out'): { root: FieldNode | null; findings: Finding[] } {
  const b = side === 'in' ? pl.entry : pl.exit;
  const findings: Finding[] = [];
  if (b === null || b.length === 0) return { root: null, findings };
  const vals = {};
  const env: Env = {
    dv: new DataView(b.buffer, b.byteOffset, b.byteLength), bytes: b, le: pl.le, len: b.length, cmp: side === 'out' ? pl.entry : null,
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
  // Every finding the eager walk makes is there, in order, without the tree having been needed.
  const rules = before.map((f) => f.rule + ' ' + f.message);
  let at = 0;
  for (const f of [...i.findings, ...o.findings]) {
    const k = rules.indexOf(f.rule + ' ' + f.message, at);
    expect(k, `${f.rule}: ${f.message}`).toBeGreaterThanOrEqual(0);
    at = k + 1;
  }
  expect(ev.findings).toEqual(before);
  return true;
}

const nrs = [...new Set(registry().ioctls.filter((d) => d.arg.kind === 'struct').map((d) => d.nr))];
const PATHS = [PATH.container, PATH.group, PATH.device, PATH.deviceAnon, PATH.iommufd];

describe('lazy payload trees', () => {
  it('equal the eager walk on random payloads', () => {
    let structs = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('x86_64', 'ppc64le', 'ppc64'),
        fc.array(
          fc.record({
            nr: fc.constantFrom(...nrs),
            path: fc.constantFrom(...PATHS),
            entry: fc.uint8Array({ minLength: 4, maxLength: 200 }),
            argsz: fc.integer({ min: 0, max: 220 }),
            flips: fc.array(fc.record({ at: fc.nat(220), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
            ret: fc.constantFrom(0, 1, -22, -25, -14),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (arch, calls) => {
          const dec = createDecoder(header(arch));
          for (const c of calls) {
            const entry = c.entry.slice();
            new DataView(entry.buffer).setUint32(0, c.argsz, arch !== 'ppc64');
            // The kernel's reply: the same bytes with a few changed, so `changed` varies.
            const exit = entry.slice();
            for (const f of c.flips) if (f.at < exit.length) exit[f.at] = f.v;
            if (check(dec.decode(record(arch, { nr: c.nr, path: c.path, entry, exit, ret: c.ret })))) structs++;
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(structs).toBeGreaterThan(300);
  });

  it('equal the eager walk on the golden recordings (caps chains, flex arrays, EEH)', () => {
    for (const arch of ['x86_64', 'ppc64le', 'ppc64']) {
      const { header: h, records } = parseRecording(new Uint8Array(readFileSync(path.join(HERE, '..', 'golden', `spapr-eeh.${arch}.vft`))));
      const dec = createDecoder(h);
      let n = 0;
      for (const r of records) if (check(dec.decode(r))) n++;
      expect(n).toBeGreaterThan(10);
    }
  });

  it('JSON of the event object shows the trees', () => {
    const dec = createDecoder(header());
    const e = new Uint8Array(16);
    e[0] = 16;
    e[8] = 1; // index
    const ev = dec.decode(record('x86_64', { nr: 109, path: PATH.device, entry: e, exit: e }));
    const o = JSON.parse(JSON.stringify(ev, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as { in: { children: unknown[] } };
    expect(o.in.children.length).toBeGreaterThan(0);
  });
});
