// The one-line text of struct payloads is formatted straight from the bytes
// (src/decode/direct.ts). It must equal the text rendered from the FieldNode
// trees for every input: random payloads on every struct ioctl (with replies
// that change some bytes, failing and succeeding calls, short captures) and
// the golden recordings.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { exitText, payloadText } from '../../src/decode/direct.js';
import { IoctlEvent } from '../../src/decode/event.js';
import { registry } from '../../src/decode/registry.js';
import type { DecodedEvent } from '../../src/decode/types.js';
import { renderJson } from '../../src/render/json.js';
import { TextRenderer } from '../../src/render/text.js';
import { IOCTL_FLAG } from '../../src/trace/events.js';
import { parseRecording } from '../../src/trace/reader.js';
import { header, PATH, record } from '../decode/helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Renders with the direct path and with the tree path (a plain copy of the event); returns whether the direct path was taken. */
function same(direct: TextRenderer, tree: TextRenderer, ev: DecodedEvent): boolean {
  const took = ev instanceof IoctlEvent && ev.structPayload !== null;
  const plain = ev instanceof IoctlEvent ? ev.toJSON() : ev;
  const a = direct.render(ev);
  const b = tree.render(plain);
  expect(a).toBe(b);
  // JSON reuses the payload JSON of calls seen before: the same as from the trees.
  expect(renderJson(ev)).toBe(renderJson(plain));
  return took;
}

const nrs = [...new Set(registry().ioctls.filter((d) => d.arg.kind === 'struct').map((d) => d.nr))];
const PATHS = [PATH.container, PATH.group, PATH.device, PATH.deviceAnon, PATH.iommufd];

describe('direct one-line text', () => {
  it('equals the tree rendering on random payloads', () => {
    let direct = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('x86_64', 'ppc64le', 'ppc64'),
        fc.array(
          fc.record({
            nr: fc.constantFrom(...nrs),
            path: fc.constantFrom(...PATHS),
            entry: fc.uint8Array({ minLength: 0, maxLength: 200 }),
            argsz: fc.integer({ min: 0, max: 220 }),
            flips: fc.array(fc.record({ at: fc.nat(220), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
            cut: fc.option(fc.nat(200), { nil: undefined }),
            ret: fc.constantFrom(0, 1, 3, -22, -25, -14, -7),
            flags: fc.constantFrom(0, 0, 0, IOCTL_FLAG.TRUNCATED, IOCTL_FLAG.NO_EXIT),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (arch, calls) => {
          const dec = createDecoder(header(arch));
          const a = new TextRenderer(null);
          const b = new TextRenderer(null);
          for (const c of calls) {
            const entry = c.entry.slice();
            if (entry.length >= 4) new DataView(entry.buffer).setUint32(0, c.argsz, arch !== 'ppc64');
            let exit = entry.slice();
            for (const f of c.flips) if (f.at < exit.length) exit[f.at] = f.v;
            if (c.cut !== undefined) exit = exit.subarray(0, c.cut);
            if (same(a, b, dec.decode(record(arch, { nr: c.nr, path: c.path, entry, exit, ret: c.ret, flags: c.flags })))) direct++;
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(direct).toBeGreaterThan(400);
  });

  it('equals the tree rendering on the golden recordings', () => {
    for (const arch of ['x86_64', 'ppc64le', 'ppc64']) {
      const { header: h, records } = parseRecording(new Uint8Array(readFileSync(path.join(HERE, '..', 'golden', `spapr-eeh.${arch}.vft`))));
      const dec = createDecoder(h);
      const a = new TextRenderer(h);
      const b = new TextRenderer(h);
      let n = 0;
      for (const r of records) if (same(a, b, dec.decode(r))) n++;
      expect(n).toBeGreaterThan(10);
    }
  });

  it('remembered payloads: the outcome and the byte order are part of the key', () => {
    const e = new Uint8Array(16);
    e[0] = 16; // argsz 16 little-endian, 0x10000000 big-endian: same bytes, other text
    const out = e.slice();
    out[4] = 7; // flags written back
    const lines = (arch: string, ret: number | string): string => {
      const dec = createDecoder(header(arch));
      const ev = dec.decode(record(arch, { nr: 109, path: PATH.device, entry: e, exit: out, ret }));
      const t = new TextRenderer(null).render(ev);
      expect(t).toBe(new TextRenderer(null).render(ev instanceof IoctlEvent ? ev.toJSON() : ev));
      return t;
    };
    const ok = lines('x86_64', 0);
    expect(lines('x86_64', 0)).toBe(ok);
    expect(lines('x86_64', 'EINVAL')).not.toBe(ok);
    // Same bytes, other outcome: out-only fields that did not change show only on success.
    const ev = createDecoder(header()).decode(record('x86_64', { nr: 109, path: PATH.device, entry: e, exit: out }));
    const pl = ev instanceof IoctlEvent ? ev.structPayload : null;
    if (pl === null) throw new Error('no struct payload');
    expect(payloadText(pl, true).exit).toBe(exitText(pl, true));
    expect(payloadText(pl, false).exit).toBe(exitText(pl, false));
    expect(exitText(pl, false)).not.toBe(exitText(pl, true));
    expect(lines('ppc64', 0)).not.toBe(ok);
  });

  it('a tree assigned from outside is what gets printed', () => {
    const dec = createDecoder(header());
    const e = new Uint8Array(16);
    e[0] = 16;
    const ev = dec.decode(record('x86_64', { nr: 109, path: PATH.device, entry: e, exit: e }));
    if (!(ev instanceof IoctlEvent)) throw new Error('kind');
    ev.in = { name: 'x', path: '', ctype: 'struct x', offset: 0, size: 4, dir: 'inout', display: '{…}', children: [] };
    expect(new TextRenderer(null).render(ev)).toMatch(/VFIO_DEVICE_GET_IRQ_INFO, \{\}/);
  });
});
