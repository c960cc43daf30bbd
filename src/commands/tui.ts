// `vfiotrace tui -- CMD…`, `vfiotrace tui -p PID`, `vfiotrace tui --all`, `vfiotrace tui FILE`:
// the live terminal UI. Everything that can fail before the screen opens
// (bad arguments, no terminal, unreadable recording, tracer refusing to
// start) is reported as a one-line error with the terminal untouched.

import { closeSync, createReadStream, existsSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Auditor } from '../audit/auditor.js';
import { createDecoder } from '../decode/decoder.js';
import { EehTimeline } from '../model/eehTimeline.js';
import { fail, parseArgs } from '../render/cliOptions.js';
import { filterVocabulary, parseFilter } from '../render/filter.js';
import { isBackendChoice, startCapture, type CaptureStarted } from '../trace/backend.js';
import { TraceError, type TraceSession } from '../trace/native.js';
import { startEmulatedTrace, type EmulationSetup } from '../emulate/session.js';
import { emulationFromOptions } from './emulate.js';
import { liveCaptureRules, openPipeline } from '../session/pipeline.js';
import { parseHeader, recordingFileProblem } from '../trace/reader.js';
import { wrapperLayer } from '../trace/wrapper.js';
import { backendOption, checkLiveArgs, collect, describeBackend, payloadCapOption } from './liveArgs.js';
import { exitCode } from './trace.js';
import { TuiApp } from '../tui/app.js';
import type { TuiSource } from '../tui/source.js';
import { FileSource, LiveSource, type SourceDeps } from '../tui/sources.js';
import { registry } from '../../decoders/index.js';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The screen owns the terminal, so the target's stdin/stdout/stderr go
 * elsewhere: stdin from /dev/null, output appended to a file. A shell does the
 * redirection and then execs the command (same pid, traced throughout).
 */
export function targetArgv(command: readonly string[], outFile: string): string[] {
  return wrapperLayer('/bin/sh', `exec "$@" </dev/null >>${shellQuote(outFile)} 2>&1`, 'vfiotrace-tui', [], command);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function checkRecording(file: string): string | null {
  const problem = recordingFileProblem(file);
  if (problem !== null) return `${file}: ${problem}`;
  let fd = -1;
  try {
    fd = openSync(file, 'r');
    const head = new Uint8Array(65536);
    const n = readSync(fd, head, 0, head.length, 0);
    if (parseHeader(head.subarray(0, n)) === null) return `${file}: not a vfiotrace recording (header cut short)`;
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The sources' view of the pipeline, decoder and auditor (exported for tests and the benchmark). */
export function tuiDeps(show: SourceDeps['show']): SourceDeps {
  const auditor = new Auditor();
  // Decoder findings reach the UI inside their events; the auditor need not keep copies.
  auditor.passDecoderFindings = false;
  const eeh = new EehTimeline(auditor.model);
  const audit: NonNullable<SourceDeps['audit']> = {
    onLate: null,
    feed: (ev) => {
      auditor.feed(ev);
      eeh.observe(ev);
    },
    finish: () => {
      auditor.finish();
      eeh.finish();
    },
    snapshot: () => auditor.model.snapshot(),
    eeh: () => eeh.timelines(),
  };
  auditor.onFinding = (f) => {
    // Decoder findings already travel inside their event.
    if (f.source !== 'sequence') return;
    audit.onLate?.({
      seq: f.seq,
      finding: { rule: f.rule, severity: f.severity, message: f.message, events: f.events, ...(f.field ? { field: f.field } : {}) },
    });
  };
  return {
    open: async (bytes, recordTo, onSkip) => {
      const p = await openPipeline(bytes, { ...(recordTo !== undefined ? { recordTo } : {}), onDecodeError: (r, e) => onSkip(r.offset, e.message) });
      // An attached (or host-wide) process was running before we saw it: "never issued" rules must not judge it.
      auditor.markMidSession(p.header);
      return p;
    },
    decodeOne: (header, record, fdKind) => {
      const d = createDecoder(header, { registry: registry() });
      if (record.type === 'ioctl' && fdKind !== 'other') d.createdFd(record.pid, Number(BigInt.asIntN(32, record.fd)), fdKind);
      return d.decode(record);
    },
    show,
    audit,
  };
}

export function cliCommand(): Command {
  return new Command('vfiotrace tui')
    .usage('[options] -- COMMAND [ARGS…]  |  [options] -p PID  |  [options] --all  |  FILE')
    .description('Watch VFIO ioctls live in a terminal UI, or browse a recording. Press ? inside for keys.')
    .argument('[file]', 'a recording (.vft) to browse')
    .option('-p, --attach <pid>', 'attach to a running process (repeatable); q detaches and leaves it running', collect)
    .option('--all', 'every process on this host that makes a VFIO or iommufd ioctl, each from its first one (eBPF backend); q stops')
    .option('-f, --follow-forks', 'also trace children that the command forks')
    .addOption(payloadCapOption())
    .option('--all-ioctls', 'stop on every ioctl, not only VFIO/iommufd ones')
    .option('-e, --expr <expr>', 'which events to show, as in text mode (repeatable)', collect)
    .option('--target-output <file>', "where the command's stdout/stderr go (default: a file in the temp directory)")
    .option('--keep <n>', 'most recent events kept fully decoded in memory (older ones are re-read for the detail pane)', '500')
    .option('--emulate <profile>', 'answer the command\'s VFIO ioctls with an emulated kernel (x86-pci, power-eeh, or a JSON profile; docs/emulation.md)')
    .option('--eeh <script>', 'with --emulate: EEH fault injection script')
    .addOption(backendOption());
}

/** The command line, checked: one source (FILE, COMMAND, -p or --all) and the screen's options. */
interface TuiArgs {
  opts: Record<string, unknown>;
  file: string | undefined;
  command: string[];
  pidArgs: string[];
  all: boolean;
  keep: number;
  show: SourceDeps['show'];
}

/** A live source and what it needs after the screen closes. */
interface LiveStart {
  source: LiveSource;
  session: TraceSession;
  spool: string;
}

export async function run(argv: string[]): Promise<number> {
  const a = tuiArgs(argv);
  if (typeof a === 'number') return a;
  const deps = tuiDeps(a.show);
  const after: string[] = [];
  let source: TuiSource;
  let live: LiveStart | null = null;
  if (a.file !== undefined) {
    const bad = checkRecording(a.file);
    if (bad) {
      fail(bad);
      return 2;
    }
    // 64 KiB reads: a few hundred events per batch, so frames keep coming while a big file loads.
    source = new FileSource(deps, a.file, (p) => createReadStream(p, { highWaterMark: 1 << 16 }));
  } else {
    const started = startLive(a, deps, after);
    if (typeof started === 'number') return started;
    live = started;
    source = started.source;
  }

  const app = new TuiApp(source, { keepFull: a.keep });
  let rc = await app.run();
  if (live) rc = (await waitForTarget(live.session, a.command, after)) ?? rc;
  // The spool is worth pointing at only if it could be written.
  if (live && existsSync(live.spool)) after.unshift(`recording of this session: ${live.spool}`);
  for (const line of after) process.stderr.write(`vfiotrace: ${line}\n`);
  return rc;
}

/** Parses and checks the command line; the exit status if it is wrong (already reported). */
function tuiArgs(argv: string[]): TuiArgs | number {
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const command = dd >= 0 ? argv.slice(dd + 1) : [];
  const cmd = cliCommand();
  const code = parseArgs(cmd, own);
  if (code !== null) return code;
  const opts = cmd.opts<Record<string, unknown>>();
  const file = cmd.args[0];
  const pidArgs = (opts.attach as string[] | undefined) ?? [];
  const all = opts.all === true;
  const modes = [file !== undefined, command.length > 0, pidArgs.length > 0, all].filter(Boolean).length;
  if (modes !== 1) {
    fail('tui needs exactly one of: FILE, -- COMMAND [ARGS], -p PID, or --all');
    return 2;
  }
  // Emulation answers a command's calls as they happen: a recording's calls were answered long ago.
  if (command.length === 0 && (opts.emulate !== undefined || opts.eeh !== undefined)) {
    const what = opts.emulate !== undefined ? '--emulate' : '--eeh';
    const other = file !== undefined ? 'a recording' : all ? 'every process on the host' : 'an attached process';
    fail(`${what} runs a command under the emulated kernel (tui --emulate PROFILE -- COMMAND), not ${other}`);
    return 2;
  }
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    fail('tui needs a terminal on stdin and stdout (use `vfiotrace show` or `vfiotrace` for text)');
    return 2;
  }
  const keep = Number(opts.keep);
  if (!Number.isInteger(keep) || keep < 1) {
    fail(`invalid --keep value: '${String(opts.keep)}'`);
    return 2;
  }
  try {
    const show = parseFilter((opts.expr as string[] | undefined) ?? [], filterVocabulary());
    return { opts, file, command, pidArgs, all, keep, show };
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
}

/**
 * Starts tracing (a command, attached pids or the whole host, maybe under
 * the emulated kernel) into a spool file the screen reads; the exit status if
 * it cannot start (already reported). Lines for after the screen closes go to `after`.
 */
function startLive(a: TuiArgs, deps: SourceDeps, after: string[]): LiveStart | number {
  const { opts, command, all } = a;
  const args = checkLiveArgs({ pids: a.pidArgs, payloadCap: opts.payloadCap, command });
  if ('error' in args) {
    fail(args.error);
    return 2;
  }
  const { pids, payloadCap } = args;
  const stamp = `${process.pid}-${Date.now()}`;
  const spool = path.join(os.tmpdir(), `vfiotrace-tui-${stamp}.vft`);
  const targetOut = typeof opts.targetOutput === 'string' ? opts.targetOutput : path.join(os.tmpdir(), `vfiotrace-tui-${stamp}.out`);
  let emulation: EmulationSetup | null = null;
  try {
    emulation = emulationFromOptions(opts.emulate, opts.eeh, command.length > 0);
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
  const emu = emulation;
  let started: CaptureStarted;
  try {
    started = startCapture(isBackendChoice(opts.backend) ? opts.backend : 'auto', {
      ...(command.length > 0 ? { command: targetArgv(command, targetOut) } : all ? { allProcesses: true } : { pids }),
      follow: opts.followForks === true,
      ioctlType: opts.allIoctls === true ? -1 : 0x3b,
      payloadCap,
      rules: liveCaptureRules(),
    }, emu ? { start: (t) => startEmulatedTrace(t, emu), emulating: true } : undefined);
    after.push(describeBackend(started));
  } catch (e) {
    fail(e instanceof TraceError ? e.message : `cannot start tracing: ${(e as Error).message}`);
    return 2;
  }
  const { session, backend } = started;
  const source = new LiveSource(deps, session, spool, { ...(command.length > 0 ? { command } : all ? { allProcesses: true } : { pids }), backend });
  if (command.length > 0) after.push(`output of ${command[0] as string}: ${targetOut}`);
  return { source, session, spool };
}

/**
 * Quitting detached an attached process or ended a spawned command (SIGTERM,
 * SIGKILL after a grace): waits for that, then returns the exit status the
 * text trace would, with the command's status; null if it did not end in time.
 */
async function waitForTarget(session: TraceSession, command: readonly string[], after: string[]): Promise<number | null> {
  const result = await Promise.race([session.done.catch(() => null), new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref())]);
  session.stream.destroy();
  if (result) return exitCode(null, result);
  if (session.pid > 0 && alive(session.pid)) after.push(`${command[0] ?? `pid ${session.pid}`} did not let go within 10 s`);
  return null;
}
