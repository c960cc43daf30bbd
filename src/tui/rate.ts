// Events per second over roughly the last two seconds, for the header.

export class RateMeter {
  private samples: { t: number; n: number }[] = [];
  perSecond = 0;

  sample(count: number, now: number): void {
    this.samples.push({ t: now, n: count });
    while (this.samples.length > 2 && (this.samples[0]?.t ?? now) < now - 2000) this.samples.shift();
    const first = this.samples[0];
    if (first && now - first.t >= 200) this.perSecond = ((count - first.n) * 1000) / (now - first.t);
    else if (this.samples.length <= 1) this.perSecond = 0;
  }
}
