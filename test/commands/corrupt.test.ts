// Damaged recordings never crash the show path: random truncations and byte
// flips end in printed records plus, at most, one error naming an offset.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Output } from '../../src/render/output.js';
import { Printer, printAll } from '../../src/render/printer.js';
import { openPipeline } from '../../src/session/pipeline.js';
import { x86Session } from './recordings.js';

const { bytes } = x86Session();

async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function showBytes(b: Uint8Array, chunk: number, json: boolean): Promise<{ error: Error | null; shown: number }> {
  let p;
  try {
    p = await openPipeline(chunks(b, chunk), {});
  } catch (e) {
    return { error: e as Error, shown: 0 };
  }
  const out = Output.file('/dev/null');
  const printer = new Printer(p.header, { json, summary: false, filter: null, text: {} }, out);
  const error = await printAll(p, printer);
  await out.close();
  return { error, shown: printer.shown };
}

describe('damaged recordings', () => {
  it('the intact recording shows all five calls, in any chunking', async () => {
    for (const size of [1, 7, 64, 4096]) expect(await showBytes(bytes, size, false)).toEqual({ error: null, shown: 5 });
  });

  it('truncation and byte flips give records then a clear error, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bytes.length }),
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.integer({ min: 1, max: 300 }),
        fc.boolean(),
        async (cut, flips, chunk, json) => {
          const b = Uint8Array.from(bytes.subarray(0, cut));
          for (const [at, v] of flips) if (at < b.length) b[at] = v;
          const r = await showBytes(b, chunk, json);
          expect(r.shown).toBeLessThanOrEqual(5);
          if (r.error) expect(r.error.message).toMatch(/byte \d+|decode|header|magic|empty/);
        },
      ),
      { numRuns: 300 },
    );
  });
});
