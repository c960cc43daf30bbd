// -c: per-ioctl call counts, errors and time, printed as strace -c's table
// (or one JSON object with --json) when the trace ends.

import type { DecodedEvent } from '../decode/types.js';
import { hex, formatSeconds } from './text.js';

export interface SummaryRow {
  ioctl: string;
  calls: number;
  errors: number;
  /** Total ns spent in calls that returned. */
  totalNs: number;
}

/**
 * The order of summary rows (here and in the TUI's summary): by time spent,
 * then calls, then name (stable for equal runs).
 */
export function summaryOrder(a: Pick<SummaryRow, 'ioctl' | 'calls' | 'totalNs'>, b: Pick<SummaryRow, 'ioctl' | 'calls' | 'totalNs'>): number {
  return b.totalNs - a.totalNs || b.calls - a.calls || (a.ioctl < b.ioctl ? -1 : a.ioctl > b.ioctl ? 1 : 0);
}

export class Summary {
  private readonly rows = new Map<string, SummaryRow>();
  /** Events the tracer lost (END record): the table undercounts by at least this many. */
  private lost = 0;

  add(ev: DecodedEvent): void {
    if (ev.kind === 'end') this.lost = ev.record.dropped;
    if (ev.kind !== 'ioctl') return;
    const name = ev.ioctl ?? hex(ev.request);
    let row = this.rows.get(name);
    if (row === undefined) {
      row = { ioctl: name, calls: 0, errors: 0, totalNs: 0 };
      this.rows.set(name, row);
    }
    row.calls++;
    if (!ev.incomplete && ev.ret.value < 0) row.errors++;
    if (ev.dur !== null) row.totalNs += ev.dur;
  }

  sorted(): SummaryRow[] {
    return [...this.rows.values()].sort(summaryOrder);
  }

  text(): string {
    const rows = this.sorted();
    const total = rows.reduce((t, r) => t + r.totalNs, 0);
    const calls = rows.reduce((t, r) => t + r.calls, 0);
    const errors = rows.reduce((t, r) => t + r.errors, 0);
    const width = Math.max(16, ...rows.map((r) => r.ioctl.length));
    const rule = '------ ----------- ----------- --------- --------- ' + '-'.repeat(width) + '\n';
    const line = (pct: number, ns: number, n: number, err: number, name: string): string =>
      pct.toFixed(2).padStart(6) + ' ' + formatSeconds(ns).padStart(11) + ' ' +
      String(n === 0 ? 0 : Math.floor(ns / n / 1000)).padStart(11) + ' ' + String(n).padStart(9) + ' ' +
      (err === 0 ? '' : String(err)).padStart(9) + ' ' + name + '\n';
    let s = '% time     seconds  usecs/call     calls    errors ioctl\n' + rule;
    for (const r of rows) s += line(total === 0 ? 0 : (100 * r.totalNs) / total, r.totalNs, r.calls, r.errors, r.ioctl);
    s += rule + line(total === 0 ? 0 : 100, total, calls, errors, 'total');
    if (this.lost > 0) s += `(${this.lost} events lost by the tracer are not counted)\n`;
    return s;
  }

  json(): string {
    const rows = this.sorted().map((r) => ({ ioctl: r.ioctl, calls: r.calls, errors: r.errors, total_ns: r.totalNs }));
    return JSON.stringify({ type: 'summary', rows, lost: this.lost }) + '\n';
  }
}
