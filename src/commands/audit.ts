// `vfiotrace audit [FILE | -p PID | -- CMD…]`: runs the session model and the
// sequence rules over a recording or a live trace and reports the findings,
// grouped by rule. Exit 0 when clean, 1 when a finding reaches --fail-on,
// 2 on usage or trace errors (findings found before the error still print).

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { Auditor, atLeast } from '../audit/auditor.js';
import { Progress } from '../audit/progress.js';
import { exampleSeqs, groupFindings, jsonReport, textReport } from '../audit/report.js';
import { RULES } from '../audit/rules.js';
import type { DecodedEvent, Severity } from '../decode/types.js';
import { eehSummaryLines } from '../model/eehSummary.js';
import { EehTimeline } from '../model/eehTimeline.js';
import type { RecordingHeader } from '../trace/events.js';
import { isBackendChoice, startCapture, type BackendChoice } from '../trace/backend.js';
import { TraceError, type TraceSession } from '../trace/native.js';
import { recordingFileProblem } from '../trace/reader.js';
import { liveCaptureRules, openPipeline, openRecordingPipeline, type Pipeline } from '../session/pipeline.js';
import { backendOption, checkLiveArgs, collect, describeBackend, payloadCapOption } from './liveArgs.js';
import { LiveSignals } from './liveSignals.js';
import { type ColorWhen, colorWanted, RED, RESET, YELLOW } from '../render/color.js';
import { writableProblem } from '../render/output.js';

const PROGRESS_MIN_BYTES = 4 << 20;

function fail(message: string): void {
  process.stderr.write(`vfiotrace audit: ${message}\n`);
}

interface Opts {
  attach?: string[];
  backend: BackendChoice;
  verbose?: boolean;
  followForks?: boolean;
  payloadCap: string;
  write?: string;
  failOn: Severity;
  json?: boolean;
  explain: boolean;
  progress: boolean;
  output?: string;
  listRules?: boolean;
  color: ColorWhen;
}

export function cliCommand(): Command {
  return new Command('vfiotrace audit')
    .usage('[options] FILE  |  [options] -p PID  |  [options] -- COMMAND [ARGS…]')
    .description('Find VFIO misuse across a session: call order, DMA maps, capability retries, IRQ wiring, EEH recovery.')
    .argument('[target...]', 'recording (.vft), or after -- a command to run and trace')
    .option('-p, --attach <pid>', 'audit a running process (repeatable)', collect)
    .option('-f, --follow-forks', 'also trace children the command forks')
    .addOption(payloadCapOption())
    .option('-w, --write <file>', 'keep the live trace as a recording in FILE')
    .addOption(backendOption())
    .option('-v, --verbose', 'say which capture backend was taken and why')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at least this severe').choices(['info', 'warning', 'error']).default('warning'))
    .option('--json', 'one JSON document: counts, rules with examples, every finding')
    .option('--no-explain', 'leave out the kernel-behaviour paragraph under each rule')
    .option('--no-progress', 'no progress bar on stderr')
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .addOption(new Option('--color <when>', 'colour finding headings (auto: on a terminal, unless NO_COLOR is set)').choices(['auto', 'always', 'never']).default('auto'))
    .option('--list-rules', 'print the rules with their explanations and exit')
    .addHelpText('after', '\nRules and their reasoning: docs/audit-rules.md. Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or trace errors.');
}

/** The report's finding headings (one per rule) in colour: errors red, the rest yellow. */
export function colorAuditReport(report: string): string {
  return report.replace(/^(error|warning|info) .*$/gm, (line, sev: string) => (sev === 'error' ? RED : YELLOW) + line + RESET);
}

function listRules(): string {
  return RULES.map((r) => `${r.id} (${r.severity})\n  ${r.title}\n  ${r.explanation}\n`).join('\n');
}

/** Consumes a pipeline into the auditor; returns the stream error, if any. */
async function consume(p: Pipeline, a: Auditor, progress: Progress | null, eeh: EehTimeline): Promise<{ events: number; error: Error | null }> {
  let events = 0;
  try {
    for await (const batch of p.batches()) {
      for (let i = 0; i < batch.length; i++) {
        a.feed(batch[i]!);
        eeh.observe(batch[i]!);
      }
      events += batch.length;
      if (progress) {
        const last = batch[batch.length - 1];
        if (last) progress.update(last.record.offset, events);
      }
    }
  } catch (e) {
    return { events, error: e instanceof Error ? e : new Error(String(e)) };
  }
  return { events, error: null };
}

/** Second pass over the recording: the strace-style lines of the example events. */
async function renderLines(file: string, wanted: Set<number>): Promise<Map<number, string>> {
  const lines = new Map<number, string>();
  if (wanted.size === 0) return lines;
  let renderer: { render(ev: DecodedEvent): string } | null = null;
  try {
    const text = await import('../render/text.js');
    const p = await openRecordingPipeline(file, { onDecodeError: () => {} });
    renderer = new text.TextRenderer(p.header as RecordingHeader, { findings: 'none' });
    for await (const batch of p.batches()) {
      for (const ev of batch) {
        if (ev.kind === 'ioctl' && !wanted.has(ev.seq)) continue;
        const s = renderer.render(ev);
        if (ev.kind === 'ioctl') lines.set(ev.seq, s.replace(/\n+$/, '').split('\n')[0] ?? '');
      }
      if (lines.size === wanted.size) break;
    }
  } catch {
    // Lines are a convenience: a cut-short file still has every line before the cut.
  }
  return lines;
}

/** What one pass over the input left: events read, the error that stopped it, where to read example lines back. */
interface AuditPass {
  events: number;
  error: Error | null;
  /** The recording the example lines are read back from. */
  spool: string;
  /** Holds the spool when no -w was given; removed by the caller. */
  tempDir: string | null;
}

interface LiveTarget {
  o: Opts;
  command: string[] | null;
  pids: number[];
  payloadCap: number;
  auditor: Auditor;
  eeh: EehTimeline;
  signals: LiveSignals;
}

/** Traces a command or processes into the auditor; null (error printed) when tracing could not start. */
async function auditLive(t: LiveTarget): Promise<AuditPass | null> {
  let tempDir: string | null = null;
  let spool: string;
  if (t.o.write !== undefined) {
    // Refused before the command starts rather than after.
    const problem = writableProblem(t.o.write);
    if (problem !== null) {
      fail(problem);
      return null;
    }
    spool = t.o.write;
  } else {
    tempDir = mkdtempSync(join(tmpdir(), 'vfiotrace-audit-'));
    spool = join(tempDir, 'trace.vft');
  }
  let session: TraceSession;
  try {
    const started = startCapture(isBackendChoice(t.o.backend) ? t.o.backend : 'auto', {
      ...(t.command ? { command: t.command } : { pids: t.pids }),
      follow: t.o.followForks === true,
      payloadCap: t.payloadCap,
      rules: liveCaptureRules(),
    });
    session = started.session;
    if (t.o.verbose) process.stderr.write(`vfiotrace audit: ${describeBackend(started)}\n`);
  } catch (e) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    fail(e instanceof TraceError ? e.message : `cannot start tracing: ${(e as Error).message}`);
    return null;
  }
  // An attached process is detached; a spawned command is ended as `trace` ends it.
  t.signals.bind(session);
  let events = 0;
  let error: Error | null = null;
  try {
    const p = await openPipeline(session.stream, { recordTo: spool, onDecodeError: (r, e) => fail(`cannot decode the record at byte ${r.offset}: ${e.message}`) });
    t.auditor.markMidSession(p.header);
    ({ events, error } = await consume(p, t.auditor, null, t.eeh));
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  if (error) {
    // Capture stops as in `trace`: attached processes detached, a spawned command ended.
    session.stream.destroy();
    session.detach();
  }
  try {
    const result = await session.done;
    if (result.error && !error) error = new Error(result.error);
  } catch (e) {
    error ??= e instanceof Error ? e : new Error(String(e));
  }
  return { events, error, spool, tempDir };
}

/** The command line, checked: the options and one input (a recording, a command or pids). */
interface AuditArgs {
  o: Opts;
  targets: string[];
  command: string[] | null;
  pids: number[];
  payloadCap: number;
}

export async function run(argv: string[]): Promise<number> {
  const a = auditArgs(argv);
  if (typeof a === 'number') return a;
  const { o, command, pids, payloadCap } = a;
  const auditor = new Auditor();
  const eeh = new EehTimeline(auditor.model);
  let source: string;
  let pass: AuditPass | null;
  if (!command && pids.length === 0) {
    source = a.targets[0]!;
    pass = await auditRecording(source, o, auditor, eeh);
  } else {
    source = command ? command.join(' ') : `pid ${pids.join(',')}`;
    // Before anything is created, as `trace` does (liveSignals.ts).
    const signals = new LiveSignals();
    try {
      pass = await auditLive({ o, command, pids, payloadCap, auditor, eeh, signals });
    } finally {
      signals.dispose();
    }
  }
  if (pass === null) return 2;
  const { events, error, spool, tempDir } = pass;

  const findings = auditor.finish();
  eeh.finish();
  const eehLines = eehSummaryLines(eeh.timelines());
  const lines = spool ? await renderLines(spool, exampleSeqs(groupFindings(findings))) : new Map<number, string>();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });

  const report = o.json
    ? JSON.stringify(jsonReport(findings, events, lines, error ? error.message : null, eehLines), null, 2) + '\n'
    : textReport(findings, { explain: o.explain, events, lines, eeh: eehLines });
  if (!writeReport(o, report)) return 2;
  if (error) {
    fail(`${source}: ${error.message}`);
    return 2;
  }
  return findings.some((f) => atLeast(f.severity, o.failOn)) ? 1 : 0;
}

/** Parses and checks the command line; the exit status if it is wrong or already answered (--help, --list-rules). */
function auditArgs(argv: string[]): AuditArgs | number {
  const cmd = cliCommand();
  cmd.exitOverride().configureOutput({ outputError: (s, write) => write('vfiotrace audit: ' + s.replace(/^error: /, '')) });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? 0 : 2;
    throw e;
  }
  const o = cmd.opts<Opts>();
  if (o.listRules) {
    process.stdout.write(listRules());
    return 0;
  }
  const dashdash = argv.indexOf('--');
  const targets = cmd.args;
  const pidArgs = o.attach ?? [];
  const command = dashdash >= 0 ? argv.slice(dashdash + 1) : null;
  const modes = (command && command.length > 0 ? 1 : 0) + (pidArgs.length > 0 ? 1 : 0) + (!command && targets.length > 0 ? 1 : 0);
  if (modes !== 1) {
    fail(modes === 0 ? 'give a recording FILE, -p PID or -- COMMAND (see vfiotrace audit --help)' : 'give only one of FILE, -p PID, -- COMMAND');
    return 2;
  }
  if (!command && targets.length > 1) {
    fail(`one recording at a time (to trace a command, put -- before it): ${targets.join(' ')}`);
    return 2;
  }
  const args = checkLiveArgs({ pids: pidArgs, payloadCap: o.payloadCap, command: command ?? [] });
  if ('error' in args) {
    fail(args.error);
    return 2;
  }
  return { o, targets, command, pids: args.pids, payloadCap: args.payloadCap };
}

/** Reads a recording into the auditor, with a progress bar for big files; null (error printed) when it cannot be opened. */
async function auditRecording(file: string, o: Opts, auditor: Auditor, eeh: EehTimeline): Promise<AuditPass | null> {
  const problem = recordingFileProblem(file);
  if (problem !== null) {
    fail(`${file}: ${problem}`);
    return null;
  }
  const size = statSync(file).size;
  let p: Pipeline;
  try {
    p = await openRecordingPipeline(file, { onDecodeError: (r, e) => fail(`${file}: cannot decode the record at byte ${r.offset}: ${e.message}`) });
  } catch (e) {
    fail(`${file}: ${(e as Error).message}`);
    return null;
  }
  auditor.markMidSession(p.header);
  const progress = o.progress && process.stderr.isTTY && size >= PROGRESS_MIN_BYTES ? new Progress(size) : null;
  const consumed = await consume(p, auditor, progress, eeh);
  progress?.clear();
  let error = consumed.error;
  const incomplete = error ? null : p.incomplete();
  if (incomplete !== null) error = new Error(incomplete);
  return { events: consumed.events, error, spool: file, tempDir: null };
}

/** Writes the report to -o FILE or stdout (coloured as --color says); false (error printed) if it cannot be written. */
function writeReport(o: Opts, report: string): boolean {
  const toTty = (o.output === undefined || o.output === '-') && process.stdout.isTTY === true;
  const text = !o.json && colorWanted(o.color, toTty) ? colorAuditReport(report) : report;
  try {
    if (o.output !== undefined && o.output !== '-') writeFileSync(o.output, text);
    else process.stdout.write(text);
    return true;
  } catch (e) {
    fail(`cannot write ${o.output ?? 'stdout'}: ${(e as Error).message}`);
    return false;
  }
}
