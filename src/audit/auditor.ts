// The auditor: feeds DecodedEvents to the session model and runs the
// sequence checks around each commit, collecting findings. The decoder's
// per-call findings are passed through alongside, so one list holds all.

import type { DecodedEvent, DecodedIoctl, Severity } from '../decode/types.js';
import { SessionModel } from '../model/session.js';
import type { SessionSnapshot } from '../model/snapshot.js';
import { capsChecks } from './checks/caps.js';
import { decoderSeverity } from './decoderSeverity.js';
import { dmaChecks } from './checks/dma.js';
import { eehChecks } from './checks/eeh.js';
import { irqChecks } from './checks/irqs.js';
import { setupChecks } from './checks/setup.js';
import type { AuditFinding, Check, Reporter, RuleInfo } from './types.js';

/**
 * Per-call decoder findings that a sequence rule judges better: the decoder
 * sees a "buffer too small" caps reply on one call; caps-reply-not-retried
 * reports it only when the caller never retried, which is the actual bug.
 */
const SUPERSEDED: ReadonlySet<string> = new Set(['caps-buffer-too-small']);

export class Auditor {
  readonly model: SessionModel;
  readonly findings: AuditFinding[] = [];
  private readonly checks: Check[];
  private readonly reporter: Reporter;
  private ended = false;
  /** Called for each finding as it is found (the TUI shows them live). */
  onFinding: ((f: AuditFinding) => void) | null = null;
  /**
   * Pass the decoder's per-call findings through (into `findings` and
   * onFinding). A consumer that reads them from the events themselves (the
   * TUI) turns this off: a finding on every call of a long trace would be a
   * million objects kept here for nobody.
   */
  passDecoderFindings = true;

  constructor(model: SessionModel = new SessionModel()) {
    this.model = model;
    this.checks = [setupChecks(), dmaChecks(), capsChecks(), irqChecks(), eehChecks()];
    this.reporter = {
      model,
      report: (rule: RuleInfo, at, events, message, opts) => {
        this.push({
          rule: rule.id,
          severity: opts?.severity ?? rule.severity,
          message,
          seq: at.seq,
          pid: at.pid,
          events: [...new Set(events)].sort((a, b) => a - b),
          source: 'sequence',
          notes: opts?.notes ?? [],
        });
      },
    };
  }

  private push(f: AuditFinding): void {
    this.findings.push(f);
    this.onFinding?.(f);
  }

  feed(ev: DecodedEvent): void {
    if (ev.kind !== 'ioctl') {
      this.model.apply(ev);
      return;
    }
    if (this.passDecoderFindings) this.passThrough(ev);
    const ctx = this.model.prepare(ev);
    for (const c of this.checks) c.before?.(ev, ctx, this.reporter);
    this.model.commit(ev, ctx);
    for (const c of this.checks) c.after?.(ev, ctx, this.reporter);
  }

  private passThrough(ev: DecodedIoctl): void {
    for (const f of ev.findings) {
      if (SUPERSEDED.has(f.rule)) continue;
      this.push({
        rule: f.rule,
        severity: decoderSeverity(f.rule, f.severity),
        message: f.message,
        seq: ev.seq,
        pid: ev.pid,
        events: f.events && f.events.length > 0 ? f.events : [ev.seq],
        source: 'decoder',
        notes: [],
        ...(f.field !== undefined ? { field: f.field } : {}),
      });
    }
  }

  /**
   * Processes that were running before the trace met them (the header's
   * attachedPids; host-wide, every process met at a call of its own): rules
   * that conclude "X was never issued" stay silent for them.
   */
  markMidSession(h: { attachedPids: readonly number[]; hostWide: boolean }): void {
    this.model.markMidSession(h);
  }

  /** The session model's picture (the TUI's state view). */
  snapshot(): SessionSnapshot {
    return this.model.snapshot();
  }

  /** Runs the end-of-stream checks (once). */
  finish(): AuditFinding[] {
    if (!this.ended) {
      this.ended = true;
      for (const c of this.checks) c.end?.(this.reporter);
    }
    return this.findings;
  }
}

/** Audits a whole event sequence. */
export function audit(events: Iterable<DecodedEvent>): AuditFinding[] {
  const a = new Auditor();
  for (const ev of events) a.feed(ev);
  return a.finish();
}

export function atLeast(s: Severity, min: Severity): boolean {
  const rank: Record<Severity, number> = { info: 0, warning: 1, error: 2 };
  return rank[s] >= rank[min];
}
