// The output options every command that prints events shares (trace, show,
// and later audit): how they appear in --help and how they become a
// Printer's options.

import { Command, CommanderError, Option } from 'commander';
import type { FilterVocabulary } from './filter.js';
import { parseFilter } from './filter.js';

export { filterVocabulary } from './filter.js';
import { Output } from './output.js';
import { type ColorWhen, colorWanted } from './color.js';
export { colorWanted } from './color.js';
import type { PrintOptions } from './printer.js';
import type { FindingLevel } from './text.js';

export interface OutputFlags {
  json?: boolean;
  summary?: boolean;
  expr?: string[];
  time?: number;
  duration?: boolean;
  fdPaths?: boolean;
  findings?: FindingLevel;
  output?: string;
  color?: ColorWhen;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const count = (_: unknown, prev: number): number => prev + 1;

/**
 * Where output goes without -o. Live commands use stderr, as strace does: the
 * traced command owns stdout. Printing a recording uses stdout.
 */
export type OutputDefault = 'stdout' | 'stderr';

export function addOutputOptions(cmd: Command, otherwise: OutputDefault = 'stdout'): Command {
  const o = otherwise === 'stderr' ? 'write the trace to FILE instead of stderr (- for stdout)' : 'write the output to FILE instead of stdout';
  return cmd
    .option('--json', 'JSON lines: one object per event (docs/json-schema.md)')
    .option('-c, --summary', 'count calls, errors and time per ioctl; print a table at the end instead of each call')
    .option('-e, --expr <list>', 'show only these ioctls, families (eeh, type1, …) or fd kinds (container, group, device, iommufd, …); comma list, leading ! negates; repeatable', collect)
    .option('-t', 'time of day (-tt: with microseconds, -ttt: epoch seconds with microseconds)', count, 0)
    .option('-T', 'time spent in each call')
    .option('-y', 'show the path of each fd (the default)')
    .option('--no-y', 'do not show fd paths')
    .addOption(new Option('--findings <level>', 'lowest severity of findings printed under a call').choices(['info', 'warning', 'error', 'none']).default('info'))
    .addOption(new Option('--color <when>', 'colour: errno in red, findings in yellow (auto: on a terminal, unless NO_COLOR is set)').choices(['auto', 'always', 'never']).default('auto'))
    .option('-o, --output <file>', o);
}

/** Reads the flags commander parsed (names as addOutputOptions defines them). */
export function outputFlags(o: Record<string, unknown>): OutputFlags {
  return {
    json: o.json === true,
    summary: o.summary === true,
    expr: Array.isArray(o.expr) ? (o.expr as string[]) : [],
    time: typeof o.t === 'number' ? o.t : 0,
    duration: o.T === true,
    fdPaths: o.y !== false,
    findings: (o.findings as FindingLevel | undefined) ?? 'info',
    ...(typeof o.output === 'string' ? { output: o.output } : {}),
    color: (o.color as ColorWhen | undefined) ?? 'auto',
  };
}

/** Whether the text goes to a terminal: -o FILE never does; `-o -` is stdout. */
function outputIsTty(f: OutputFlags, otherwise: OutputDefault): boolean {
  if (f.output === undefined) return (otherwise === 'stderr' ? process.stderr : process.stdout).isTTY === true;
  return f.output === '-' && process.stdout.isTTY === true;
}

export function printOptions(f: OutputFlags, vocab: FilterVocabulary = {}, otherwise: OutputDefault = 'stdout'): PrintOptions {
  const t = Math.min(f.time ?? 0, 3) as 0 | 1 | 2 | 3;
  const color = colorWanted(f.color ?? 'auto', outputIsTty(f, otherwise));
  return {
    json: f.json === true,
    summary: f.summary === true,
    filter: parseFilter(f.expr ?? [], vocab),
    text: { time: t, duration: f.duration === true, fdPaths: f.fdPaths !== false, findings: f.findings ?? 'info', color },
  };
}

/** -o FILE, `-o -` (stdout), or the command's default stream. */
export function openOutput(f: OutputFlags, otherwise: OutputDefault = 'stdout'): Output {
  if (f.output === undefined) return Output.stream(otherwise === 'stderr' ? process.stderr : process.stdout);
  return f.output === '-' ? Output.stream(process.stdout) : Output.file(f.output, `-o ${f.output}`);
}

/**
 * Parses argv with commander without letting it exit the process.
 * Returns an exit code when parsing ended the run (help: 0, usage error: 2).
 */
export function parseArgs(cmd: Command, argv: string[]): number | null {
  cmd.exitOverride().configureOutput({ outputError: (s, write) => write('vfiotrace: ' + s.replace(/^error: /, '')) });
  try {
    cmd.parse(argv, { from: 'user' });
    return null;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? 0 : 2;
    }
    throw e;
  }
}

/** One-line error on stderr, strace-style. */
export function fail(message: string): void {
  process.stderr.write(`vfiotrace: ${message}\n`);
}
