// vfiotrace command line: a thin dispatcher. Each subcommand lives in
// src/commands/<name>.ts and exports `run(argv): Promise<number>` (the exit code).

type CommandModule = { run(argv: string[]): Promise<number> };

const SUBCOMMANDS: Record<string, () => Promise<CommandModule>> = {
  show: () => import('./commands/show.js'),
  decode: () => import('./commands/decode.js'),
  audit: () => import('./commands/audit.js'),
  tui: () => import('./commands/tui.js'),
  emulate: () => import('./commands/emulate.js'),
  demo: () => import('./commands/demo.js'),
  export: () => import('./commands/export.js'),
};

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  const load = first !== undefined ? SUBCOMMANDS[first] : undefined;
  if (load) return (await load()).run(argv.slice(1));
  // No subcommand: trace (`vfiotrace [options] -- CMD…` or `-p PID`).
  return (await import('./commands/trace.js')).run(argv);
}
