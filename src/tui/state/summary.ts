// The `s` summary: per ioctl name, calls, errors and time spent, strace -c
// style and in -c's order.

import { summaryOrder } from '../../render/summary.js';
import { EventStore, ROW } from './eventStore.js';

export interface SummaryRow {
  ioctl: string;
  calls: number;
  errors: number;
  totalNs: number;
  maxNs: number;
}

/** Over store rows [0, upTo): the command's ioctls only, most time spent first (as -c). */
export function summarizeStore(store: EventStore, upTo = store.length): SummaryRow[] {
  const byName = new Map<number, SummaryRow>();
  for (let i = 0; i < upTo; i++) {
    if (store.flags(i) & (ROW.PROCESS | ROW.END | ROW.OWN)) continue;
    const id = store.nameId(i);
    let r = byName.get(id);
    if (!r) {
      r = { ioctl: store.names.get(id), calls: 0, errors: 0, totalNs: 0, maxNs: 0 };
      byName.set(id, r);
    }
    r.calls++;
    if (store.flags(i) & ROW.ERROR) r.errors++;
    const d = store.dur(i);
    if (d > 0) {
      r.totalNs += d;
      if (d > r.maxNs) r.maxNs = d;
    }
  }
  return [...byName.values()].sort(summaryOrder);
}

export function formatSummary(rows: SummaryRow[]): string[] {
  const w = Math.max(5, ...rows.map((r) => r.ioctl.length));
  const out = [`${'ioctl'.padEnd(w)}  ${'calls'.padStart(9)}  ${'errors'.padStart(7)}  ${'total us'.padStart(11)}  ${'avg us'.padStart(9)}  ${'max us'.padStart(9)}`];
  for (const r of rows) {
    const avg = r.calls ? r.totalNs / r.calls / 1e3 : 0;
    out.push(`${r.ioctl.padEnd(w)}  ${String(r.calls).padStart(9)}  ${String(r.errors).padStart(7)}  ${(r.totalNs / 1e3).toFixed(1).padStart(11)}  ${avg.toFixed(1).padStart(9)}  ${(r.maxNs / 1e3).toFixed(1).padStart(9)}`);
  }
  const calls = rows.reduce((a, r) => a + r.calls, 0);
  const errs = rows.reduce((a, r) => a + r.errors, 0);
  out.push(`${'total'.padEnd(w)}  ${String(calls).padStart(9)}  ${String(errs).padStart(7)}`);
  return out;
}
