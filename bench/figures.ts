// What every benchmark module hands the runner: named figures, each with an
// optional target, so bench/run.ts can print one table and write results.json.

export interface Target {
  op: '<=' | '>=';
  value: number;
}

export interface Figure {
  /** Benchmark module ("tracer", "decode", …). */
  bench: string;
  name: string;
  value: number;
  unit: string;
  target?: Target;
  /** Short context shown next to the figure (what it was measured on). */
  note?: string;
}

export interface BenchReport {
  bench: string;
  figures: Figure[];
  /** Free-form lines for the log (splits, checks, profiles). */
  notes: string[];
  /** Set when the benchmark could not run here, with the reason. */
  skipped?: string;
  /** 1-minute load average before and after the run (other work on the machine skews figures). */
  loadAverage?: [number, number];
}

export function passes(f: Figure): boolean | null {
  if (!f.target) return null;
  return f.target.op === '<=' ? f.value <= f.target.value : f.value >= f.target.value;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The repository root, from bench/ or dist/bench/. */
export function repoRoot(metaUrl: string): string {
  const here = new URL('.', metaUrl).pathname;
  return new URL(here.includes('/dist/bench') ? '../../' : '../', metaUrl).pathname.replace(/\/$/, '');
}
