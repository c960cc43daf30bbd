// Events per second for the header, over the last WINDOW_MS. Arrivals are
// counted into short buckets as frames observe the store's length; the rate
// is computed when drawn, from the buckets still inside the window, so it
// falls to 0 once events stop, whether or not anything was observed since.

const WINDOW_MS = 2000;
const BUCKET_MS = 250;

export class RateMeter {
  /** Arrivals per bucket, oldest first; `start` is the bucket's start time. */
  private readonly buckets: { start: number; n: number }[] = [];
  private last = 0;

  /** `since`: when counting began (the first second is not diluted by the window). */
  constructor(private readonly since: number) {}

  /** The store holds `total` events at time `now` (ms). */
  observe(total: number, now: number): void {
    const n = total - this.last;
    this.last = total;
    if (n <= 0) return;
    const start = now - (now % BUCKET_MS);
    const tail = this.buckets[this.buckets.length - 1];
    if (tail && tail.start === start) tail.n += n;
    else this.buckets.push({ start, n });
    while ((this.buckets[0]?.start ?? now) < now - WINDOW_MS - BUCKET_MS) this.buckets.shift();
  }

  perSecond(now: number): number {
    const from = now - WINDOW_MS;
    let n = 0;
    for (const b of this.buckets) if (b.start + BUCKET_MS > from && b.start <= now) n += b.n;
    const span = Math.min(WINDOW_MS, Math.max(BUCKET_MS, now - this.since));
    return (n * 1000) / span;
  }
}
