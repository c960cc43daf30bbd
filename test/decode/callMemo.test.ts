// Calls decoded before are not decoded again (src/decode/callMemo.ts): what a
// repeated call gets — resolution, argument text, findings, return
// explanation, trees, one-line text and JSON — must equal a fresh decode.
// Random sessions draw from a small pool of calls so most of them repeat,
// with SET_IOMMU (successful or failing) changing how later numbers resolve.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callMemoAwake, callMemoDozing, newCallMemo } from '../../src/decode/callMemo.js';
import { createDecoder } from '../../src/decode/decoder.js';
import { registry } from '../../decoders/index.js';
import type { DecodedEvent } from '../../src/decode/types.js';
import { IoctlEvent } from '../../src/decode/event.js';
import { renderJson } from '../../src/render/json.js';
import { TextRenderer } from '../../src/render/text.js';
import { IOCTL_FLAG } from '../../src/trace/events.js';
import { header, PATH, record } from './helpers.js';

const nrs = [...new Set(registry().ioctls.map((d) => d.nr))];
const PATHS = [PATH.container, PATH.group, PATH.device, PATH.deviceAnon, PATH.iommufd, '/tmp/x'];
const setIommu = registry().byName.get('VFIO_SET_IOMMU')?.[0]?.nr as number;

/** The event with every accessor resolved (trees built), as a plain value. */
function plain(ev: DecodedEvent): unknown {
  return ev instanceof IoctlEvent ? JSON.parse(JSON.stringify(ev.toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) : ev;
}

/** Payload bytes and number: a small pool, so calls share them. */
const payload = fc.record({
  nr: fc.constantFrom(...nrs, setIommu, setIommu),
  entry: fc.uint8Array({ minLength: 0, maxLength: 120 }),
  argsz: fc.integer({ min: 0, max: 140 }),
  flips: fc.array(fc.record({ at: fc.nat(140), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
});

/** Everything else about a call. */
const rest = fc.record({
  path: fc.constantFrom(...PATHS),
  fd: fc.constantFrom(3, 4, 5),
  arg: fc.constantFrom(0n, 2n, 3n, 7n, 0x7ffd1000n, 0xffffffffffffffffn),
  ret: fc.constantFrom(0, 1, 5, -22, -25, -14),
  flags: fc.constantFrom(0, 0, IOCTL_FLAG.TRUNCATED, IOCTL_FLAG.NO_EXIT),
  inFault: fc.constantFrom(null, null, 0, 4),
  wantLen: fc.constantFrom(undefined, 200),
  request: fc.constantFrom(undefined, undefined, 0x3b70, 0xc0103b70),
});
type Rest = typeof rest extends fc.Arbitrary<infer T> ? T : never;

/** A call: one of the payloads, the base of the rest, and at most one field changed (so repeats differ in one thing). */
const call = fc.record({ payload: fc.nat(3), tweak: fc.option(rest.chain((r) => fc.constantFrom(...(Object.keys(r) as (keyof Rest)[])).map((k) => ({ [k]: r[k] }) as Partial<Rest>)), { nil: undefined }) });

describe('call memo', () => {
  it('gives repeated calls exactly what a fresh decode gives', () => {
    let hits = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('x86_64', 'ppc64le', 'ppc64'),
        fc.array(payload, { minLength: 1, maxLength: 4 }),
        rest,
        fc.array(call, { minLength: 1, maxLength: 30 }),
        (arch, pool, base, calls) => {
          const memo = createDecoder(header(arch), { registry: registry() });
          const fresh = createDecoder(header(arch), { registry: registry(), callMemo: false });
          const ta = new TextRenderer(null, { findings: 'info' });
          const tb = new TextRenderer(null, { findings: 'info' });
          // A second pair at another level shares the slots' text: finding lines must follow each renderer's level.
          const ea = new TextRenderer(null, { findings: 'error', fdPaths: false });
          const eb = new TextRenderer(null, { findings: 'error', fdPaths: false });
          for (const c of calls) {
            const p = pool[c.payload % pool.length]!;
            const entry = p.entry.slice();
            if (entry.length >= 4) new DataView(entry.buffer).setUint32(0, p.argsz, arch !== 'ppc64');
            const exit = entry.slice();
            for (const f of p.flips) if (f.at < exit.length) exit[f.at] = f.v;
            const o = { ...base, ...c.tweak, nr: p.nr, entry, exit };
            // Each decoder gets its own copy: the memo must not depend on the record's buffer.
            const a = memo.decode(record(arch, o));
            const b = fresh.decode(record(arch, { ...o, entry: entry.slice(), exit: exit.slice() }));
            if (a instanceof IoctlEvent && a.callText !== null && a.callText.textTail !== null) hits++;
            expect(ta.render(a)).toBe(tb.render(b));
            expect(ea.render(a)).toBe(eb.render(b));
            expect(renderJson(a).replace(/"(ts|dur)":\d+/g, '')).toBe(renderJson(b).replace(/"(ts|dur)":\d+/g, ''));
            const pa = plain(a) as Record<string, unknown>;
            const pb = plain(b) as Record<string, unknown>;
            for (const x of [pa, pb]) {
              delete x.record;
              delete x.ts;
              delete x.dur;
            }
            expect(pa).toEqual(pb);
          }
        },
      ),
      { numRuns: 500 },
    );
    // Most calls repeat one drawn before: the memo was really used.
    expect(hits).toBeGreaterThan(200);
  });

  it('sleeps while calls do not repeat, and wakes when they start to', () => {
    const m = newCallMemo();
    m.slots.set(1, {} as never);
    /** Calls until the memo's answer differs from `from` (a bound on the search). */
    const until = (from: boolean, hashOf: (i: number) => number, hit = false): number => {
      for (let i = 0; i < 1 << 16; i++) {
        const awake = callMemoAwake(m, hashOf(i));
        if (awake !== from) return i;
        if (awake && hit) m.use.hits++;
      }
      return -1;
    };
    let next = 0;
    const fresh = (): number => next++ * 2654435761;
    // Never a repeat: asleep after one round, with its slots dropped, and it stays asleep.
    expect(until(true, fresh)).toBeGreaterThan(0);
    expect(m.slots.size).toBe(0);
    expect(until(false, fresh)).toBe(-1);
    // Calls cycling through 1,000 payloads (a period longer than a round): awake again.
    expect(until(false, (i) => (i % 1000) * 40503)).toBeGreaterThan(0);
    // Awake and hitting: it stays awake.
    expect(until(true, (i) => i % 7, true)).toBe(-1);
  });

  it('hashes ever fewer calls while they never repeat, and still wakes when they start to', () => {
    const m = newCallMemo();
    let hashed = 0;
    /** One call as the decoder makes it: a dozing memo is neither hashed nor asked. */
    const call = (h: number): boolean => {
      if (callMemoDozing(m)) return false;
      hashed++;
      const awake = callMemoAwake(m, h);
      if (awake && m.slots.has(h)) m.use.hits++;
      else if (awake) m.slots.set(h, {} as never);
      return awake;
    };
    let next = 0;
    for (let i = 0; i < 200_000; i++) call(next++ * 2654435761);
    // A stream without repeats: after the first rounds, one call in ~9 is looked at.
    expect(hashed).toBeLessThan(200_000 / 6);
    expect(m.use.awake).toBe(false);
    // Calls cycling through 100 payloads: awake again within the longest doze and a round or two.
    let woke = -1;
    for (let i = 0; i < 8 * 512 + 4 * 4096 && woke < 0; i++) if (call((i % 100) * 40503 + 7)) woke = i;
    expect(woke).toBeGreaterThanOrEqual(0);
    // Awake and hitting: no dozing.
    const before = hashed;
    for (let i = 0; i < 10_000; i++) call((i % 100) * 40503 + 7);
    expect(hashed - before).toBe(10_000);
  });

});
