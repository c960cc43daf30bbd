import { describe, expect, it } from 'vitest';
import { OpenFileMap, type FileIdentity, type ProcessFiles } from '../../src/emulate/files.js';

/** A toy process table: per pid, fd → open file (an object; equal objects are one open file). */
function world() {
  const tables = new Map<number, Map<number, { path: string }>>();
  const refs = new Map<number, { path: string }>();
  let next = 100;
  const procs: ProcessFiles = {
    path: (pid, fd) => tables.get(pid)?.get(fd)?.path ?? null,
    fds: (pid) => (tables.has(pid) ? [...tables.get(pid)!.keys()] : null),
    mapped: () => [],
  };
  const identity: FileIdentity = {
    hold: (pid, fd) => {
      const f = tables.get(pid)?.get(fd);
      if (!f) return null;
      refs.set(next, f);
      return next++;
    },
    same: (pid, fd, ref) => tables.get(pid)?.get(fd) === refs.get(ref),
    release: (ref) => void refs.delete(ref),
  };
  return { tables, refs, procs, identity };
}

describe('OpenFileMap: objects that live as long as an open file', () => {
  it('finds the same object through a dup and a fork, a new one for a new open under a reused number', () => {
    const w = world();
    const a = { path: '/dev/vfio/vfio' };
    w.tables.set(1, new Map([[3, a]]));
    const m = new OpenFileMap<{ n: number }>('/dev/vfio/vfio', w.procs, w.identity);
    let n = 0;
    const first = m.get(1, 3, () => ({ n: ++n }));
    w.tables.get(1)!.set(7, a); // dup(3) = 7
    expect(m.get(1, 7, () => ({ n: ++n }))).toBe(first);
    w.tables.set(2, new Map([[3, a]])); // fork
    m.fork(1, 2);
    expect(m.get(2, 3, () => ({ n: ++n }))).toBe(first);
    w.tables.get(1)!.set(3, { path: '/dev/vfio/vfio' }); // close(3); open() = 3 again
    const fresh = m.get(1, 3, () => ({ n: ++n }));
    expect(fresh).not.toBe(first);
    expect(n).toBe(2);
  });

  it('sweeps a file once no process holds it, and gives its identity reference back', () => {
    const w = world();
    const a = { path: '/dev/vfio/vfio' };
    w.tables.set(1, new Map([[3, a]]));
    w.tables.set(2, new Map([[5, a]]));
    const m = new OpenFileMap<string>('/dev/vfio/vfio', w.procs, w.identity);
    m.get(1, 3, () => 'c');
    expect(m.sweep([1, 2])).toEqual([]);
    w.tables.delete(1); // exited: the other process still holds it under another number
    expect(m.sweep([1, 2])).toEqual([]);
    expect(m.has('c')).toBe(true);
    w.tables.get(2)!.delete(5);
    expect(m.sweep([1, 2])).toEqual(['c']);
    expect(m.has('c')).toBe(false);
    expect(w.refs.size).toBe(0);
  });
});
