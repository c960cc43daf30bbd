// The target's open files, as the emulated kernel must see them. The kernel
// counts references to each open file and undoes its state when the last one
// goes (close, exit, exec with O_CLOEXEC, a mapping unmapped). The tracer
// stops only on ioctls, so it sees none of that happen: it looks instead,
// when an answer depends on it (/proc/PID/fd, /proc/PID/maps), and tells
// open files apart by identity, not by fd number or path (kcmp).

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** How an open file is named across processes: a reference of the tracer's
 * own (held only as a name, never counted as a user). */
export interface FileIdentity {
  /** A reference to the open file `pid` holds as `fd`, or null when there is none. */
  hold(pid: number, fd: number): number | null;
  /** Whether `pid`'s `fd` is the open file `ref` names. */
  same(pid: number, fd: number, ref: number): boolean;
  release(ref: number): void;
}

/** What the kernel model reads of a process's files. */
export interface ProcessFiles {
  /** The fd's link target, or null when it is not open. */
  path(pid: number, fd: number): string | null;
  /** The open fds, or null when the process is gone. */
  fds(pid: number): number[] | null;
  /** The files the process maps (a mapping holds its file open). */
  mapped(pid: number): string[];
}

export const procFiles: ProcessFiles = {
  path(pid, fd) {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return null;
    }
  },
  fds(pid) {
    try {
      return readdirSync(`/proc/${pid}/fd`).map(Number);
    } catch (e) {
      // A zombie has no files left; a reaped process has no /proc entry.
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : [];
    }
  },
  mapped(pid) {
    try {
      const out: string[] = [];
      for (const line of readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n')) {
        const at = line.indexOf('/');
        if (at >= 0) out.push(line.slice(at));
      }
      return out;
    } catch {
      return [];
    }
  },
};

/** Identity through the tracer's native helpers (pidfd_getfd, kcmp). */
export function kcmpIdentity(native: {
  hold(pid: number, fd: number): number;
  same(pid: number, fd: number, mine: number): number;
  release(mine: number): void;
}): FileIdentity {
  return {
    hold: (pid, fd) => {
      const r = native.hold(pid, fd);
      return r < 0 ? null : r;
    },
    same: (pid, fd, ref) => native.same(pid, fd, ref) === 1,
    release: (ref) => native.release(ref),
  };
}

interface OpenFile<T> {
  value: T;
  /** The identity reference, or null when files cannot be told apart (each (pid, fd) is then its own file). */
  ref: number | null;
  /** (pid, fd) pairs last seen naming this file. */
  names: Set<string>;
  /** The tracer's token for this open file (EmuCall.file), when it tells one. */
  token?: number;
}

/**
 * Kernel objects that live as long as an open file of one path (a
 * /dev/vfio/vfio container): looked up by (pid, fd), told apart by
 * identity, so that a dup or an inherited fd finds the same object, a new
 * open under a reused fd number a new one, and `sweep` forgets the ones no
 * session process holds any more.
 */
export class OpenFileMap<T> {
  private readonly byName = new Map<string, OpenFile<T>>();
  private readonly files = new Set<OpenFile<T>>();
  private readonly byToken = new Map<number, OpenFile<T>>();

  constructor(
    private readonly path: string,
    private readonly procs: ProcessFiles,
    private readonly identity: FileIdentity | null,
  ) {}

  /**
   * The object behind `pid`'s `fd`, made by `create` for a file not seen
   * before. With the tracer's token for the open file (EmuCall.file) no
   * identity check is needed: the token is the identity.
   */
  get(pid: number, fd: number, create: () => T, token?: number): T {
    const name = `${pid}:${fd}`;
    if (token === undefined) return this.byIdentity(pid, fd, name, create).value;
    let file = this.byToken.get(token);
    if (!file) {
      // First sight of the token: the file may be known already, met
      // without one (a container fd given to SET_CONTAINER).
      file = this.byIdentity(pid, fd, name, create);
      file.token = token;
      this.byToken.set(token, file);
    }
    const known = this.byName.get(name);
    if (known !== file) {
      if (known) this.unname(name, known);
      file.names.add(name);
      this.byName.set(name, file);
    }
    return file.value;
  }

  private byIdentity(pid: number, fd: number, name: string, create: () => T): OpenFile<T> {
    const known = this.byName.get(name);
    if (known && (known.ref === null || this.identity!.same(pid, fd, known.ref))) return known;
    if (known) this.unname(name, known);
    const found = this.identity ? [...this.files].find((f) => f.ref !== null && this.identity!.same(pid, fd, f.ref)) : undefined;
    const file = found ?? { value: create(), ref: this.identity?.hold(pid, fd) ?? null, names: new Set<string>() };
    this.files.add(file);
    file.names.add(name);
    this.byName.set(name, file);
    return file;
  }

  /** The object behind `pid`'s `fd` when one exists (no identity check). */
  peek(pid: number, fd: number): T | undefined {
    return this.byName.get(`${pid}:${fd}`)?.value;
  }

  /** Whether `value` is still the object of an open file (not swept). */
  has(value: T): boolean {
    for (const f of this.files) if (f.value === value) return true;
    return false;
  }

  /** The objects of the files known to be open. */
  values(): T[] {
    return [...this.files].map((f) => f.value);
  }

  /** A forked child holds the same open files under the same numbers. */
  fork(parent: number, child: number): void {
    for (const [name, file] of [...this.byName]) {
      const [pid, fd] = name.split(':');
      if (Number(pid) !== parent) continue;
      file.names.add(`${child}:${fd}`);
      this.byName.set(`${child}:${fd}`, file);
    }
  }

  /** Forgets the files no process of `pids` holds; returns their objects. */
  sweep(pids: Iterable<number>): T[] {
    const open: [number, number][] = [];
    for (const pid of pids) for (const fd of this.procs.fds(pid) ?? []) if (this.procs.path(pid, fd) === this.path) open.push([pid, fd]);
    const gone: T[] = [];
    for (const file of [...this.files]) {
      const held =
        file.ref === null
          ? open.some(([pid, fd]) => file.names.has(`${pid}:${fd}`))
          : open.some(([pid, fd]) => this.identity!.same(pid, fd, file.ref!));
      if (held) continue;
      for (const name of file.names) this.byName.delete(name);
      this.files.delete(file);
      if (file.token !== undefined) this.byToken.delete(file.token);
      if (file.ref !== null) this.identity!.release(file.ref);
      gone.push(file.value);
    }
    return gone;
  }

  /** Drops every identity reference (the session is over). */
  dispose(): void {
    for (const f of this.files) if (f.ref !== null) this.identity!.release(f.ref);
    this.files.clear();
    this.byName.clear();
    this.byToken.clear();
  }

  private unname(name: string, file: OpenFile<T>): void {
    file.names.delete(name);
    this.byName.delete(name);
  }
}

/** Whether any process of `pids` holds `path` open, by an fd or a mapping. */
export function anyHolds(procs: ProcessFiles, pids: Iterable<number>, paths: readonly string[]): boolean {
  for (const pid of pids) {
    for (const fd of procs.fds(pid) ?? []) {
      const p = procs.path(pid, fd);
      if (p !== null && paths.includes(p)) return true;
    }
    if (procs.mapped(pid).some((m) => paths.includes(m))) return true;
  }
  return false;
}
