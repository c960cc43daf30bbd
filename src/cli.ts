// vfiotrace command line: a thin dispatcher. Each subcommand lives in
// src/commands/<name>.ts and exports `run(argv): Promise<number>` (the exit code)
// and `cliCommand()`, its commander definition, from which both --help and
// the man page (src/commands/manPage.ts) are made.

import type { Command } from 'commander';
import { guardStdio, stdioStatus } from './render/stdio.js';

/** A command's module: its commander definition (for --help and the man page) and its run. */
export type CommandModule = { cliCommand(): Command; run(argv: string[]): Promise<number> };

/** The command that runs without a subcommand name: trace. */
export const DEFAULT_COMMAND = (): Promise<CommandModule> => import('./commands/trace.js');

export const SUBCOMMANDS: Record<string, () => Promise<CommandModule>> = {
  show: () => import('./commands/show.js'),
  decode: () => import('./commands/decode.js'),
  audit: () => import('./commands/audit.js'),
  tui: () => import('./commands/tui.js'),
  emulate: () => import('./commands/emulate.js'),
  demo: () => import('./commands/demo.js'),
  export: () => import('./commands/export.js'),
  'record-binary': () => import('./commands/recordBinary.js'),
};

export async function main(argv: string[]): Promise<number> {
  guardStdio();
  const first = argv[0];
  if (first === '--version' || first === '-V') {
    const [{ packageVersion }, { engineDescription }] = await Promise.all([import('./version.js'), import('./trace/native.js')]);
    process.stdout.write(`vfiotrace ${packageVersion()} (native engine: ${engineDescription()})\n`);
    return stdioStatus() ?? 0;
  }
  const load = first !== undefined ? SUBCOMMANDS[first] : undefined;
  // No subcommand: trace (`vfiotrace [options] -- CMD…` or `-p PID`).
  const code = load ? await (await load()).run(argv.slice(1)) : await (await DEFAULT_COMMAND()).run(argv);
  return stdioStatus() ?? code;
}
