// Turning audit findings into the report `vfiotrace audit` prints: grouped by
// rule (most severe first), with counts and a few example events each.

import type { Severity } from '../decode/types.js';
import { RULES_BY_ID } from './rules.js';
import type { AuditFinding } from './types.js';

export const EXAMPLES_PER_RULE = 3;
const EVENT_LINES_PER_EXAMPLE = 4;

export interface RuleGroup {
  rule: string;
  /** The most severe instance decides the group's severity. */
  severity: Severity;
  source: 'sequence' | 'decoder';
  title: string;
  explanation: string | null;
  count: number;
  examples: AuditFinding[];
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export function groupFindings(findings: readonly AuditFinding[]): RuleGroup[] {
  const groups = new Map<string, RuleGroup>();
  for (const f of findings) {
    let g = groups.get(f.rule);
    if (!g) {
      const info = f.source === 'sequence' ? RULES_BY_ID.get(f.rule) : undefined;
      g = {
        rule: f.rule,
        severity: f.severity,
        source: f.source,
        title: info?.title ?? f.message,
        explanation: info?.explanation ?? null,
        count: 0,
        examples: [],
      };
      groups.set(f.rule, g);
    }
    g.count++;
    if (RANK[f.severity] > RANK[g.severity]) g.severity = f.severity;
    if (g.examples.length < EXAMPLES_PER_RULE) g.examples.push(f);
  }
  return [...groups.values()].sort((a, b) => RANK[b.severity] - RANK[a.severity] || b.count - a.count || a.rule.localeCompare(b.rule));
}

/** Sequence numbers whose strace-style lines the report shows. */
export function exampleSeqs(groups: readonly RuleGroup[]): Set<number> {
  const s = new Set<number>();
  for (const g of groups) for (const f of g.examples) for (const e of f.events.slice(-EVENT_LINES_PER_EXAMPLE)) s.add(e);
  return s;
}

export function severityCounts(findings: readonly AuditFinding[]): Record<Severity, number> {
  const c: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}

function wrap(text: string, indent: string, width = 78): string {
  const out: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent;
    }
    line += (line.length > indent.length ? ' ' : '') + word;
  }
  if (line.length > indent.length) out.push(line);
  return out.join('\n');
}

export interface TextReportOptions {
  explain: boolean;
  events: number;
  /** Rendered strace-style lines by seq (may be empty). */
  lines: ReadonlyMap<number, string>;
  /** The EEH timeline's summary lines (src/model/eehSummary.ts), printed after the findings. */
  eeh?: readonly string[];
}

/** The EEH story under the report: freeze, detection, recovery per PE. */
function eehBlock(lines: readonly string[] | undefined): string {
  return lines && lines.length > 0 ? '\nEEH timeline\n' + lines.map((l) => `  ${l}\n`).join('') : '';
}

export function textReport(findings: readonly AuditFinding[], o: TextReportOptions): string {
  const groups = groupFindings(findings);
  const c = severityCounts(findings);
  const parts: string[] = [];
  if (findings.length === 0) {
    parts.push(`no findings in ${o.events} events`);
    return parts.join('\n') + '\n' + eehBlock(o.eeh);
  }
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  parts.push(
    `${plural(findings.length, 'finding')} (${plural(c.error, 'error')}, ${plural(c.warning, 'warning')}, ${c.info} info) ` +
      `under ${plural(groups.length, 'rule')} in ${o.events} events`,
  );
  for (const g of groups) {
    parts.push('');
    parts.push(`${g.severity.padEnd(7)} ${g.rule} ×${g.count}${g.source === 'decoder' ? ' (per call)' : ''}: ${g.title}`);
    for (const f of g.examples) {
      parts.push(`  #${f.seq}${f.pid ? ` [pid ${f.pid}]` : ''}: ${f.message}`);
      for (const n of f.notes) parts.push(`    note: ${n}`);
      for (const e of f.events.slice(-EVENT_LINES_PER_EXAMPLE)) {
        const line = o.lines.get(e);
        if (line !== undefined) parts.push(`    #${e} ${line}`);
      }
    }
    if (g.count > g.examples.length) parts.push(`  … and ${g.count - g.examples.length} more`);
    if (o.explain && g.explanation) parts.push(wrap(g.explanation, '  | '));
  }
  return parts.join('\n') + '\n' + eehBlock(o.eeh);
}

export interface JsonReport {
  events: number;
  counts: Record<Severity, number>;
  rules: Array<{
    rule: string;
    severity: Severity;
    source: 'sequence' | 'decoder';
    title: string;
    count: number;
    examples: Array<{ seq: number; events: number[]; lines: Record<string, string> }>;
  }>;
  findings: AuditFinding[];
  error: string | null;
  /** The EEH timeline's summary lines, one per freeze episode (or per PE without one). */
  eeh: string[];
}

export function jsonReport(
  findings: readonly AuditFinding[],
  events: number,
  lines: ReadonlyMap<number, string>,
  error: string | null,
  eeh: readonly string[] = [],
): JsonReport {
  return {
    events,
    counts: severityCounts(findings),
    rules: groupFindings(findings).map((g) => ({
      rule: g.rule,
      severity: g.severity,
      source: g.source,
      title: g.title,
      count: g.count,
      examples: g.examples.map((f) => {
        const l: Record<string, string> = {};
        for (const e of f.events) {
          const t = lines.get(e);
          if (t !== undefined) l[String(e)] = t;
        }
        return { seq: f.seq, events: f.events, lines: l };
      }),
    })),
    findings: [...findings],
    error,
    eeh: [...eeh],
  };
}
