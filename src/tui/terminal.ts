// Leave the terminal usable whatever happens: quit, SIGTERM/SIGHUP/SIGINT, an
// uncaught exception. `restore` must be safe to call more than once.

export interface TerminalGuard {
  dispose(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
const SIGNO: Record<string, number> = { SIGTERM: 15, SIGHUP: 1, SIGINT: 2 };

export function installTerminalGuard(restore: () => void): TerminalGuard {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    try {
      restore();
    } catch {
      // Restoring is best effort; the process is leaving anyway.
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    once();
    process.exit(128 + (SIGNO[sig] ?? 1));
  };
  const onCrash = (err: unknown) => {
    once();
    process.stderr.write(`vfiotrace tui: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', once);
  return {
    dispose() {
      done = true;
      for (const s of SIGNALS) process.off(s, onSignal);
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      process.off('exit', once);
    },
  };
}
