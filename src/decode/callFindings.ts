// Findings about one call that are not about a field's value: a pointer the
// kernel could not read, bytes the capture could not see, and the ioctl's own
// check (a description's `check`), run with one reused context.

import { IOCTL_FLAG, type IoctlRecord } from '../trace/events.js';
import type { Vals } from './dsl.js';
import type { CheckCtx, IoctlDesc } from './ioctlDesc.js';
import type { Finding } from './types.js';

/** A fault the eBPF capture met on a mapped page that was not resident: a limit of the trace, not the caller's mistake. */
function unavailable(side: 'entry' | 'exit', at: number): Finding {
  return {
    rule: 'payload-unavailable',
    severity: 'warning',
    message: `bytes from offset ${at} were in a page not resident at ${side} (the eBPF capture cannot fault pages in); they are not shown`,
  };
}

/** Bytes the kernel itself reads for this call: max(argsz, minsz) for sized structs. */
function neededBytes(d: IoctlDesc, r: IoctlRecord, le: boolean): number {
  if (d.arg.kind === 'struct' && r.entry.length >= 4 && d.sizeField !== null) {
    return Math.max(d.minsz, new DataView(r.entry.buffer, r.entry.byteOffset, 4).getUint32(0, le));
  }
  return Math.max(d.minsz, 1);
}

/**
 * Faults reading or writing the argument. A rule shared by several ioctls may
 * read past what this one needs: only a fault inside the bytes the kernel
 * itself reads is the caller's problem.
 */
export function faultFindings(d: IoctlDesc, r: IoctlRecord, argDisplay: string, errno: string | null, incomplete: boolean, le: boolean, findings: Finding[]): void {
  const a = d.arg;
  if (r.inFault !== null && (r.flags & IOCTL_FLAG.IN_UNAVAILABLE) !== 0) {
    findings.push(unavailable('entry', r.inFault));
  } else if (r.inFault !== null && a.kind !== 'none' && a.kind !== 'int' && (r.inFault < neededBytes(d, r, le) || a.kind === 'cstring')) {
    // What the kernel did with it: a call that failed otherwise (or succeeded) never got to read it.
    const said = incomplete || errno === 'EFAULT' ? 'the kernel answers EFAULT' : errno !== null ? `the kernel answered ${errno} before reading it` : 'the kernel did not read it';
    findings.push(
      r.inFault === 0
        ? { rule: 'bad-pointer', severity: 'error', message: `argument pointer ${argDisplay} is not readable (${said})` }
        : a.kind === 'cstring'
          ? { rule: 'string-unreadable', severity: 'error', message: `the string runs into unreadable memory at offset ${r.inFault} before its NUL (${said})` }
          : { rule: 'argsz-unreadable', severity: 'error', message: `argsz reaches unreadable memory at offset ${r.inFault} (${said})` },
    );
  }
  if (r.outFault !== null && (r.flags & IOCTL_FLAG.OUT_UNAVAILABLE) !== 0) findings.push(unavailable('exit', r.outFault));
}

/**
 * A description's own finding on an enum field (e.g. an EEH op the kernel
 * refuses) says more than the generic unknown-enum one: one per field.
 * (unknown-flags stays: a check on other bits of the same field does not
 * cover the undefined ones.)
 */
function preferSpecific(findings: Finding[], from: number): void {
  const fields = new Set<string>();
  for (let k = from; k < findings.length; k++) {
    const f = findings[k]!.field;
    if (f !== undefined) fields.add(f);
  }
  for (let k = from - 1; k >= 0; k--) {
    const f = findings[k]!;
    if (f.rule === 'unknown-enum' && f.field !== undefined && fields.has(f.field)) findings.splice(k, 1);
  }
}

/** What one call gives a description's check. */
export interface CheckInput {
  inVals: Vals;
  outVals: Vals | null;
  ret: number;
  errno: string | null;
  entry: Uint8Array;
  completed: boolean;
}

/** The context a check reads, filled in afresh for each call. */
type CheckState = { -readonly [K in keyof CheckCtx]: CheckCtx[K] };

/** Runs descriptions' checks with one reused context (no per-call closures); synchronous, not re-entrant. */
export class CheckRunner {
  private findings: Finding[] = [];
  private readonly ctx: CheckState;

  constructor(le: boolean) {
    const self = this;
    this.ctx = {
      in: {},
      out: null,
      argsz: 0,
      ret: 0,
      errno: null,
      entry: new Uint8Array(0),
      get view(): DataView {
        return new DataView(this.entry.buffer, this.entry.byteOffset, this.entry.byteLength);
      },
      littleEndian: le,
      completed: true,
      add(rule: string, severity: 'info' | 'warning' | 'error', message: string, field?: string): void {
        self.findings.push(field !== undefined ? { rule, severity, message, field } : { rule, severity, message });
      },
    };
  }

  /** Runs `d.check` (if any); its findings go to `findings`, a throw becomes a finding of its own. */
  run(d: IoctlDesc, c: CheckInput, findings: Finding[]): void {
    if (!d.check) return;
    const ctx = this.ctx;
    ctx.in = c.inVals;
    ctx.out = c.outVals;
    ctx.argsz = c.inVals[d.sizeField ?? ''] ?? c.entry.length;
    ctx.ret = c.ret;
    ctx.errno = c.errno;
    ctx.entry = c.entry;
    ctx.completed = c.completed;
    this.findings = findings;
    const generic = findings.length;
    try {
      d.check(ctx);
    } catch (e) {
      findings.push({ rule: 'decoder-error', severity: 'info', message: `the ${d.name} check failed: ${String(e)}` });
    }
    if (findings.length > generic) preferSpecific(findings, generic);
  }
}
