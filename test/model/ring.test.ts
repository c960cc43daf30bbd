import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ring } from '../../src/model/ring.js';
import { SessionModel } from '../../src/model/session.js';
import { eeh, spaprSetup } from '../audit/scenarios.js';

describe('Ring', () => {
  it('keeps the last `capacity` pushes, oldest first, like push + shift on an array', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer(), { maxLength: 40 }), (cap, values) => {
        const r = new Ring<number>(cap);
        const ref: number[] = [];
        for (const v of values) {
          r.push(v);
          ref.push(v);
          if (ref.length > cap) ref.shift();
          expect(r.length).toBe(ref.length);
        }
        expect(r.toArray()).toEqual(ref);
        expect([...r]).toEqual(ref);
        expect(r.map((v, i) => [i, v])).toEqual(ref.map((v, i) => [i, v]));
        expect(r.at(0)).toBe(ref[0]);
        expect(r.at(ref.length)).toBeUndefined();
      }),
    );
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(RangeError);
    expect(() => new Ring(1.5)).toThrow(RangeError);
  });
});

describe('EEH op history', () => {
  it('a long EEH stream keeps the newest 256 ops, oldest first, in the snapshot', () => {
    const s = spaprSetup();
    // More ops than the history keeps; the snapshot must hold the newest ones.
    for (let i = 0; i < 300; i++) eeh(s, 4, i % 3);
    const m = new SessionModel();
    for (const ev of s.events) m.apply(ev);
    const ops = m.snapshot().processes[0]!.containers[0]!.eeh.ops;
    expect(ops.length).toBe(256);
    const seqs = ops.map((o) => o.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const last = s.events[s.events.length - 1]!;
    expect(seqs[255]).toBe(last.seq);
    expect(seqs[0]).toBe(last.seq - 255);
  });
});
