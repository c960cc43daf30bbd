// Process names (comm) as a recording tells them: a host-wide session names
// every process on every line, so its readers keep the name of each pid.

import { ProcessEventKind, type ProcessRecord } from './events.js';

/** The kernel's TASK_COMM_LEN less its NUL: the longest comm. */
const COMM_MAX = 15;

export class ProcessNames {
  private readonly names = new Map<number, string>();

  /**
   * START gives the name; each EXEC renames the process after its program
   * (the base name, cut as comm is). Names outlive the exit, whose line still
   * uses it; a reused pid comes with a START of its own.
   */
  note(r: ProcessRecord): void {
    if (r.kind === ProcessEventKind.Start) this.names.set(r.pid, r.text);
    else if (r.kind === ProcessEventKind.Exec) this.names.set(r.pid, r.text.slice(r.text.lastIndexOf('/') + 1).slice(0, COMM_MAX));
  }

  get(pid: number): string | undefined {
    return this.names.get(pid);
  }
}
