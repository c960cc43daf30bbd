// Audit vocabulary: rules, findings, and the interface each family of checks
// implements.

import type { DecodedIoctl, Severity } from '../decode/types.js';
import type { EventContext, SessionModel } from '../model/session.js';

export interface RuleInfo {
  id: string;
  severity: Severity;
  /** One line: what the caller did. */
  title: string;
  /** One paragraph grounded in what the kernel does with it. */
  explanation: string;
}

export interface AuditFinding {
  rule: string;
  severity: Severity;
  message: string;
  /** The event the finding is reported at. */
  seq: number;
  pid: number;
  /** All events involved, in order (includes `seq`). */
  events: number[];
  /** 'sequence' for the audit's own rules, 'decoder' for per-call findings passed through. */
  source: 'sequence' | 'decoder';
  /** Caveats, e.g. that the premise rests on a call the kernel refused. */
  notes: string[];
  field?: string;
}

export interface Reporter {
  readonly model: SessionModel;
  report(
    rule: RuleInfo,
    at: { seq: number; pid: number },
    events: number[],
    message: string,
    opts?: { notes?: string[]; severity?: Severity },
  ): void;
}

/** One family of sequence checks. Hooks run around the model's commit of each ioctl. */
export interface Check {
  /** Before the model applies the event: sees the state the call was issued in. */
  before?(ev: DecodedIoctl, ctx: EventContext, r: Reporter): void;
  /** After the model applied the event. */
  after?(ev: DecodedIoctl, ctx: EventContext, r: Reporter): void;
  /** At the end of the stream: for "X never followed by Y" rules. */
  end?(r: Reporter): void;
}

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };
