// What each fd of each traced process is: from its path when the path says
// (/dev/vfio/…, /dev/iommu, anon_inode:[vfio-device]), otherwise from what
// created it (GET_DEVICE_FD, a dma-buf or migration fd handed back by a call).
// Containers also remember the IOMMU type of their last VFIO_SET_IOMMU.

import type { FdKind } from './types.js';

export interface FdState {
  kind: FdKind;
  /** Last VFIO_SET_IOMMU type on this container, its outcome and event. */
  iommu?: number;
  iommuFailed?: boolean;
  iommuSeq?: number;
}

/** The path a group's VFIO_GROUP_GET_DEVICE_FD fd reads as (the kernel's anonymous inode "[vfio-device]"). */
export const DEVICE_ANON = 'anon_inode:[vfio-device]';
/** Recordings of `vfiotrace emulate` before it showed device fds as DEVICE_ANON: the backing file's own path. */
const EMULATED_DEVICE = /\/vfiotrace-emu-[^/]+\/vfio-device-[^/]+$/;

function isDigits(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let k = from; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The fd kind a path names, or null when the path alone does not say. */
export function kindFromPath(path: string): FdKind | null {
  if (path === '/dev/vfio/vfio') return 'container';
  if (path === '/dev/iommu') return 'iommufd';
  if (path === DEVICE_ANON || EMULATED_DEVICE.test(path)) return 'device';
  if (path.startsWith('/dev/vfio/')) {
    if (path.startsWith('/dev/vfio/devices/vfio')) return isDigits(path, 22) ? 'device' : null;
    if (isDigits(path, 10)) return 'group';
    if (path.startsWith('/dev/vfio/noiommu-') && isDigits(path, 18)) return 'group';
  }
  return null;
}

/** Paths whose kind only the creating call can tell (anonymous inodes, dma-bufs). */
function isAnonymous(path: string): boolean {
  return path === '' || path.startsWith('anon_inode:') || path.startsWith('/dmabuf:') || path.startsWith('dmabuf:');
}

export class FdTable {
  private procs = new Map<number, Map<number, FdState>>();
  private pathCache = new Map<string, FdKind | null>();

  private table(pid: number): Map<number, FdState> {
    let t = this.procs.get(pid);
    if (!t) {
      t = new Map();
      this.procs.set(pid, t);
    }
    return t;
  }

  /** Resolves an fd's kind for a call made with the given path, updating what is remembered. */
  resolve(pid: number, fd: number, path: string): FdState {
    let pk = this.pathCache.get(path);
    if (pk === undefined) {
      pk = kindFromPath(path);
      if (this.pathCache.size < 4096) this.pathCache.set(path, pk);
    }
    const t = this.table(pid);
    const st = t.get(fd);
    if (pk !== null) {
      if (st && st.kind === pk) return st;
      const fresh: FdState = { kind: pk };
      t.set(fd, fresh);
      return fresh;
    }
    if (st && isAnonymous(path)) return st;
    // A path that is neither ours nor anonymous: the fd number was reused.
    if (st) t.delete(fd);
    return OTHER;
  }

  get(pid: number, fd: number): FdState | undefined {
    return this.procs.get(pid)?.get(fd);
  }

  /** An fd created by a call (returned, or delivered in a field). */
  created(pid: number, fd: number, kind: FdKind): void {
    if (fd < 0) return;
    this.table(pid).set(fd, { kind });
  }

  /** A child starts with a copy of its parent's fds. */
  fork(parent: number, child: number): void {
    const t = this.procs.get(parent);
    if (!t) return;
    const c = new Map<number, FdState>();
    for (const [fd, st] of t) c.set(fd, { ...st });
    this.procs.set(child, c);
  }

  /**
   * exec closes O_CLOEXEC fds: the kernel makes device fds (GET_DEVICE_FD),
   * dma-bufs and migration fds close-on-exec, so their numbers may be reused.
   * Path-named fds are re-checked on every call anyway.
   */
  exec(pid: number): void {
    const t = this.procs.get(pid);
    if (!t) return;
    for (const [fd, st] of t) if (st.kind === 'device' || st.kind === 'dmabuf' || st.kind === 'migration') t.delete(fd);
  }

  exit(pid: number): void {
    this.procs.delete(pid);
  }
}

const OTHER: FdState = Object.freeze({ kind: 'other' }) as FdState;
