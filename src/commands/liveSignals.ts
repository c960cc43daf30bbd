// SIGINT, SIGTERM and SIGHUP during a live session, strace's way: attached
// processes are detached, a spawned command is ended (the signal first,
// SIGKILL after a grace; a second signal: SIGKILL now).
//
// The listeners go in before anything is created (-w file, -o file, the
// session): starting a session blocks the main thread while the engine
// attaches, and without a listener a signal then would kill vfiotrace with
// processes half-attached and an empty recording. A signal that comes
// before the session exists is held and acted on the moment it does.

import type { TraceSession } from '../trace/native.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class LiveSignals {
  private session: TraceSession | null = null;
  private first: NodeJS.Signals | null = null;
  private count = 0;

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.count++;
    this.first ??= sig;
    if (this.session) this.session.end(this.count > 1 ? 'SIGKILL' : sig);
  };

  constructor() {
    for (const s of SIGNALS) process.on(s, this.onSignal);
  }

  /** The session is running: signals go to it, a held one at once. */
  bind(session: TraceSession): void {
    this.session = session;
    if (this.first !== null) session.end(this.count > 1 ? 'SIGKILL' : this.first);
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }
}
