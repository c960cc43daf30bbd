// The one-line text of struct payloads is made by the text sink of the walk
// (src/render/payloadText.ts) without building a tree. The tree renderer
// (src/render/payload.ts, used for trees from elsewhere) states the same
// shape rules over nodes; the two must agree for every input: random
// payloads on every struct ioctl (with replies that change some bytes,
// failing and succeeding calls, short captures) and the golden recordings.
// JSON straight from the bytes is held to the JSON of the trees alike.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { exitText, payloadText } from '../../src/render/payloadText.js';
import { IoctlEvent } from '../../src/decode/event.js';
import type { DecodedEvent } from '../../src/decode/types.js';
import { renderJson } from '../../src/render/json.js';
import { TextRenderer } from '../../src/render/text.js';
import { IOCTL_FLAG } from '../../src/trace/events.js';
import { header, PATH, record } from '../decode/helpers.js';
import { ARCHS, goldenRecordings, randomCall, randomRecord } from '../helpers/randomCalls.js';
import { registry } from '../../decoders/index.js';

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

describe('direct one-line text', () => {
  it('equals the tree rendering on random payloads', () => {
    let direct = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...ARCHS),
        fc.array(
          randomCall({ cuts: true, rets: [0, 1, 3, -22, -25, -14, -7], flags: [0, 0, 0, IOCTL_FLAG.TRUNCATED, IOCTL_FLAG.NO_EXIT] }),
          { minLength: 1, maxLength: 8 },
        ),
        (arch, calls) => {
          const dec = createDecoder(header(arch), { registry: registry() });
          const a = new TextRenderer(null);
          const b = new TextRenderer(null);
          for (const c of calls) if (same(a, b, dec.decode(randomRecord(arch, c)))) direct++;
        },
      ),
      { numRuns: 400 },
    );
    expect(direct).toBeGreaterThan(400);
  });

  it('equals the tree rendering on the golden recordings', () => {
    for (const { header: h, records } of goldenRecordings()) {
      const dec = createDecoder(h, { registry: registry() });
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
      const dec = createDecoder(header(arch), { registry: registry() });
      const ev = dec.decode(record(arch, { nr: 109, path: PATH.device, entry: e, exit: out, ret }));
      const t = new TextRenderer(null).render(ev);
      expect(t).toBe(new TextRenderer(null).render(ev instanceof IoctlEvent ? ev.toJSON() : ev));
      return t;
    };
    const ok = lines('x86_64', 0);
    expect(lines('x86_64', 0)).toBe(ok);
    expect(lines('x86_64', 'EINVAL')).not.toBe(ok);
    // Same bytes, other outcome: out-only fields that did not change show only on success.
    const ev = createDecoder(header(), { registry: registry() }).decode(record('x86_64', { nr: 109, path: PATH.device, entry: e, exit: out }));
    const pl = ev instanceof IoctlEvent ? ev.structPayload : null;
    if (pl === null) throw new Error('no struct payload');
    expect(payloadText(pl, true).exit).toBe(exitText(pl, true));
    expect(payloadText(pl, false).exit).toBe(exitText(pl, false));
    expect(exitText(pl, false)).not.toBe(exitText(pl, true));
    expect(lines('ppc64', 0)).not.toBe(ok);
  });

  it('a tree assigned from outside is what gets printed', () => {
    const dec = createDecoder(header(), { registry: registry() });
    const e = new Uint8Array(16);
    e[0] = 16;
    const ev = dec.decode(record('x86_64', { nr: 109, path: PATH.device, entry: e, exit: e }));
    if (!(ev instanceof IoctlEvent)) throw new Error('kind');
    ev.in = { name: 'x', path: '', ctype: 'struct x', offset: 0, size: 4, dir: 'inout', display: '{…}', children: [] };
    expect(new TextRenderer(null).render(ev)).toMatch(/VFIO_DEVICE_GET_IRQ_INFO, \{\}/);
  });
});
