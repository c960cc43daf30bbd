// A one-line progress bar on stderr while a large recording is audited.
// Only drawn on a terminal, at most a few times a second, and erased at the end.

export class Progress {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, events: number): void {
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 30;
    const full = Math.round(frac * width);
    this.out.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${events} events`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
