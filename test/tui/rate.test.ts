// The header's event rate, driven by an injected clock: no sleeps.
import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../src/tui/state/rate.js';

/** Feeds `perSec` events a second for `ms` ms in 34 ms frames, as the UI's tick does. */
function feed(m: RateMeter, from: { t: number; n: number }, perSec: number, ms: number): void {
  const end = from.t + ms;
  while (from.t < end) {
    from.t += 34;
    from.n += (perSec * 34) / 1000;
    m.observe(Math.floor(from.n), from.t);
  }
}

describe('RateMeter', () => {
  it('measures a steady stream', () => {
    const m = new RateMeter(0);
    const at = { t: 0, n: 0 };
    feed(m, at, 146, 5000);
    expect(m.perSecond(at.t)).toBeGreaterThan(130);
    expect(m.perSecond(at.t)).toBeLessThan(160);
  });

  it('falls to 0 once nothing arrives, even when no sample was taken since', () => {
    const m = new RateMeter(0);
    const at = { t: 0, n: 0 };
    feed(m, at, 146, 5000);
    // Ten seconds later, with nothing observed in between (no frame was drawn).
    expect(m.perSecond(at.t + 10_000)).toBe(0);
    // And with frames still ticking but no new events.
    feed(m, at, 0, 10_000);
    expect(m.perSecond(at.t)).toBe(0);
  });

  it('decays within the window after the stream stops', () => {
    const m = new RateMeter(0);
    const at = { t: 0, n: 0 };
    feed(m, at, 1000, 5000);
    const stop = at.t;
    const half = m.perSecond(stop + 1000);
    expect(half).toBeGreaterThan(300);
    expect(half).toBeLessThan(700);
    // The window is two seconds, counted in quarter-second buckets.
    expect(m.perSecond(stop + 2250)).toBe(0);
  });

  it('does not underestimate the first second of a session', () => {
    const m = new RateMeter(0);
    const at = { t: 0, n: 0 };
    feed(m, at, 500, 600);
    expect(m.perSecond(at.t)).toBeGreaterThan(400);
  });
});
