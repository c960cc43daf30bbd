// Leave the terminal usable whatever happens: quit, SIGTERM/SIGHUP/SIGINT, an
// uncaught exception. `restore` must be safe to call more than once.

export interface TerminalGuard {
  dispose(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
const SIGNO: Record<string, number> = { SIGTERM: 15, SIGHUP: 1, SIGINT: 2 };

/**
 * `onSignal`, when given, handles the first SIGTERM/SIGHUP/SIGINT (with the
 * exit code 128+N) so the program can end cleanly; a second one, or any
 * without it, restores the terminal and exits at once.
 */
export function installTerminalGuard(restore: () => void, onSignal?: (code: number) => void): TerminalGuard {
  let done = false;
  let signalled = false;
  const once = () => {
    if (done) return;
    done = true;
    try {
      restore();
    } catch {
      // Restoring is best effort; the process is leaving anyway.
    }
  };
  const handleSignal = (sig: NodeJS.Signals) => {
    const code = 128 + (SIGNO[sig] ?? 1);
    if (onSignal && !signalled && !done) {
      signalled = true;
      onSignal(code);
      return;
    }
    once();
    process.exit(code);
  };
  const onCrash = (err: unknown) => {
    once();
    process.stderr.write(`vfiotrace tui: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  };
  for (const s of SIGNALS) process.on(s, handleSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', once);
  return {
    dispose() {
      done = true;
      for (const s of SIGNALS) process.off(s, handleSignal);
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      process.off('exit', once);
    },
  };
}
