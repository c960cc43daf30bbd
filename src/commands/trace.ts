// `vfiotrace [options] -- CMD…` / `vfiotrace -p PID`: trace live and print.

import { Command } from 'commander';
import { addOutputOptions, fail, filterVocabulary, openOutput, outputFlags, parseArgs, printOptions, type OutputFlags } from '../render/cliOptions.js';
import { writableProblem, type Output } from '../render/output.js';
import { Printer, printAll, type PrintOptions } from '../render/printer.js';
import { EndReason, type EndRecord } from '../trace/events.js';
import { isBackendChoice, startCapture, type BackendChoice } from '../trace/backend.js';
import { TraceError, type TraceOptions, type TraceResult, type TraceSession } from '../trace/native.js';
import { openPipeline, liveCaptureRules } from '../session/pipeline.js';
import { backendOption, checkLiveArgs, collect, describeBackend, payloadCapOption } from './liveArgs.js';
import { LiveSignals } from './liveSignals.js';

export interface LiveOptions {
  command?: string[];
  pids?: number[];
  /** --all: every process on the host, from its first VFIO/iommufd call (bpf). */
  allProcesses?: boolean;
  follow: boolean;
  allIoctls: boolean;
  payloadCap: number;
  recordTo?: string;
  output: OutputFlags;
  /** An emulator's starter (`emulate`, `demo`, `demo --guest`): it answers the ioctls itself, so the session runs on ptrace. */
  start?: (t: TraceOptions) => TraceSession;
  /** Capture backend (default auto; emulation always runs on ptrace). */
  backend?: BackendChoice;
  /** -v: say which backend was taken and why. */
  verbose?: boolean;
}

export interface LiveOutcome {
  /** Exit code for vfiotrace: the traced command's status, 128+N on death by signal N. */
  code: number;
  /** ioctl events printed (after -e). */
  shown: number;
  /** Whether tracing started (false: a usage or output error came first, and was printed). */
  started: boolean;
}

/** vfiotrace's exit code for a live session: the command's status, 0 after a detach, 2 on a tracer error. */
export function exitCode(end: EndRecord | null, result: TraceResult | null): number {
  const reason = end?.reason ?? result?.reason;
  const status = end?.status ?? result?.status ?? 0;
  switch (reason) {
    case EndReason.Exited: return status;
    case EndReason.Killed: return 128 + status;
    case EndReason.Detached: return 0;
    default: return 2;
  }
}

/** Runs a live trace and prints it; shared by `trace`, `emulate` and `demo`. Errors are printed; the code says how it went. */
export async function traceAndPrint(o: LiveOptions): Promise<LiveOutcome> {
  // First of all: a signal from here on ends the session properly (liveSignals.ts).
  const signals = new LiveSignals();
  try {
    return await traceWith(o, signals);
  } finally {
    signals.dispose();
  }
}

/** What a live trace that could not start returns (the reason is printed). */
const NOT_STARTED: LiveOutcome = { code: 2, shown: 0, started: false };

async function traceWith(o: LiveOptions, signals: LiveSignals): Promise<LiveOutcome> {
  const target = openTraceOutput(o);
  if (target === null) return { ...NOT_STARTED };
  const { print, out } = target;
  const session = await startLiveCapture(o, out);
  if (session === null) return { ...NOT_STARTED };

  signals.bind(session);

  const printed = await printSession(o, session, print, out);
  const { printer } = printed;
  let { error } = printed;
  let result: TraceResult | null = null;
  try {
    result = await session.done;
  } catch (e) {
    fail((e as Error).message);
  }
  try {
    await out.close();
  } catch (e) {
    if (!error) {
      error = e as Error;
      fail(error.message);
    }
  }
  const end = printer?.end ?? null;
  const text = end?.text || result?.error;
  if (text) fail(text);
  if (end && end.dropped > 0) fail(`${end.dropped} events were lost`);
  // An output error is vfiotrace's failure, whatever became of the command.
  const code = error ? 2 : exitCode(end, result);
  return { code, shown: printer?.shown ?? 0, started: true };
}

/** The print options and the open output (-o); null (error printed) if either is wrong, or -w cannot be written. */
function openTraceOutput(o: LiveOptions): { print: PrintOptions; out: Output } | null {
  let print: PrintOptions;
  try {
    print = printOptions(o.output, filterVocabulary(), 'stderr');
  } catch (e) {
    fail((e as Error).message);
    return null;
  }
  // -w is refused before anything starts rather than after.
  const unwritable = o.recordTo !== undefined ? writableProblem(o.recordTo) : null;
  if (unwritable !== null) {
    fail(unwritable);
    return null;
  }
  try {
    return { print, out: openOutput(o.output, 'stderr') };
  } catch (e) {
    fail((e as Error).message);
    return null;
  }
}

/** Starts the capture `o` asks for; null (error printed, `out` closed) if it cannot start. */
async function startLiveCapture(o: LiveOptions, out: Output): Promise<TraceSession | null> {
  try {
    const started = startCapture(o.backend ?? 'auto', {
      ...(o.command ? { command: o.command } : {}),
      ...(o.pids ? { pids: o.pids } : {}),
      ...(o.allProcesses ? { allProcesses: true } : {}),
      follow: o.follow,
      ioctlType: o.allIoctls ? -1 : 0x3b,
      payloadCap: o.payloadCap,
      rules: liveCaptureRules(),
    }, o.start ? { start: o.start, emulating: true } : undefined);
    if (o.verbose) process.stderr.write(`vfiotrace: ${describeBackend(started)}\n`);
    // strace says "Process N attached"; here the whole host is, from now on.
    if (o.allProcesses) process.stderr.write('vfiotrace: tracing every process on this host (Ctrl-C to stop)\n');
    return started.session;
  } catch (e) {
    await out.close();
    fail(e instanceof TraceError ? e.message : `cannot start tracing: ${(e as Error).message}`);
    return null;
  }
}

/**
 * Prints the session's events until its stream ends; on an error (printed),
 * stops the capture. The printer is null if the stream's header never came.
 */
async function printSession(o: LiveOptions, session: TraceSession, print: PrintOptions, out: Output): Promise<{ printer: Printer | null; error: Error | null }> {
  let printer: Printer | null = null;
  let error: Error | null = null;
  try {
    const pipeline = await openPipeline(session.stream, {
      ...(o.recordTo !== undefined ? { recordTo: o.recordTo } : {}),
      onDecodeError: (r, e) => fail(`cannot decode the record at byte ${r.offset}: ${e.message}`),
    });
    printer = new Printer(pipeline.header, { ...print, flushEachBatch: true }, out);
    error = await printAll(pipeline, printer);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  if (error) {
    // Capture stops: an attached process is detached, a spawned command
    // ended (never left running with its filter and no tracer). Closing the
    // stream first keeps the tracer from blocking on it (or, under
    // emulation, on a verdict that would never come) meanwhile.
    session.stream.destroy();
    session.detach();
    fail(error.message);
  }
  return { printer, error };
}

export function cliCommand(): Command {
  return addOutputOptions(
    new Command('vfiotrace')
      .usage('[options] [--] COMMAND [ARGS…]  |  [options] -p PID  |  [options] --all')
      .description('Trace the VFIO and iommufd ioctls of a command or of running processes, strace-style.')
      .argument('[command...]', 'command to run and trace')
      .option('-p, --attach <pid>', 'attach to a running process (repeatable). With the bpf backend it never stops; with ptrace it stops at every syscall, not only VFIO ones (a seccomp filter cannot be safely put into a running process), so it runs slower while traced', collect)
      .option('--all', 'trace every process on this host that makes a VFIO or iommufd ioctl, from its first one, each line naming it [pid TID comm] (eBPF backend; runs until Ctrl-C)')
      .option('-f, --follow-forks', 'also report the calls of child processes (threads are always reported). Children of a spawned command are traced either way, silently without -f: the VFIO filter they inherit needs a tracer, or their VFIO ioctls would fail with ENOSYS')
      .addOption(payloadCapOption())
      .option('--all-ioctls', 'stop on every ioctl, not only VFIO/iommufd ones')
      .option('-w, --write <file>', 'also record the raw event stream to FILE (print it later with `vfiotrace show FILE`)')
      .addOption(backendOption())
      .option('-v, --verbose', 'say which capture backend was taken and why')
      // Answered by cli.ts before any parsing, as the first argument.
      .option('-V, --version', 'print the package version and the native engine in use (its version, build id and file)')
      .passThroughOptions()
      .addHelpText('after', `
Other commands:
  vfiotrace show FILE      print a recording
  vfiotrace decode …       decode one ioctl from bytes
  vfiotrace audit …        find VFIO misuse across a session
  vfiotrace tui …          live terminal UI
  vfiotrace emulate …      answer VFIO ioctls with an emulated kernel
  vfiotrace demo           trace the bundled demo client in a sandbox
  vfiotrace export …       convert a recording (Perfetto)
  vfiotrace record-binary  where the standalone C recorder is, to copy to a
                           host without Node (docs/power.md)

Exit status: the traced command's (128+N if killed by signal N); 2 on usage
or tracer errors. See docs/usage.md and docs/json-schema.md.`),
    'stderr',
  );
}

export async function run(argv: string[]): Promise<number> {
  const cmd = cliCommand();
  const code = parseArgs(cmd, argv);
  if (code !== null) return code;
  const opts = cmd.opts<Record<string, unknown>>();
  const command = cmd.args;
  const pidArgs = (opts.attach as string[] | undefined) ?? [];

  const all = opts.all === true;
  const given = Number(command.length > 0) + Number(pidArgs.length > 0) + Number(all);
  if (given === 0) {
    fail('must have COMMAND [ARGS], -p PID or --all (see vfiotrace --help)');
    return 2;
  }
  if (given > 1) {
    fail('give one of COMMAND [ARGS], -p PID or --all');
    return 2;
  }
  if (all && opts.followForks === true) {
    fail('-f has no meaning with --all: every process is met at its own first call');
    return 2;
  }
  const args = checkLiveArgs({ pids: pidArgs, payloadCap: opts.payloadCap, command });
  if ('error' in args) {
    fail(args.error);
    return 2;
  }
  const { pids, payloadCap } = args;
  const live: LiveOptions = {
    ...(command.length > 0 ? { command } : all ? { allProcesses: true } : { pids }),
    follow: opts.followForks === true,
    allIoctls: opts.allIoctls === true,
    payloadCap,
    ...(typeof opts.write === 'string' ? { recordTo: opts.write } : {}),
    output: outputFlags(opts),
    ...(isBackendChoice(opts.backend) ? { backend: opts.backend } : {}),
    verbose: opts.verbose === true,
  };
  return (await traceAndPrint(live)).code;
}
