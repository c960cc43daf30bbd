// A cpio archive in the "newc" format, the one the Linux kernel unpacks as an
// initramfs: per entry a 110-byte ASCII header (magic 070701 and thirteen
// 8-digit hex fields), the NUL-terminated name and the data, each padded to
// 4 bytes; a "TRAILER!!!" entry ends it. Only what an initramfs needs:
// directories, regular files, symlinks and character devices.

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`cpio: field ${n} does not fit 8 hex digits`);
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, mode: number, nlink: number, size: number, rdev: [number, number], nameSize: number): string {
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  return '070701' + [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], nameSize, 0].map(hex8).join('');
}

/** The archive's bytes; paths are relative ("init", "bin/busybox"). */
export function newcArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    length += b.length;
  };
  const entry = (ino: number, mode: number, nlink: number, name: string, data: Uint8Array, rdev: [number, number] = [0, 0]): void => {
    const nameBytes = Buffer.from(name + '\0');
    push(Buffer.from(header(ino, mode, nlink, data.length, rdev, nameBytes.length), 'ascii'));
    push(nameBytes);
    push(Buffer.alloc(pad4(110 + nameBytes.length)));
    push(Buffer.from(data));
    push(Buffer.alloc(pad4(data.length)));
  };
  entries.forEach((e, k) => {
    const ino = k + 1;
    if (e.path === '' || e.path.startsWith('/')) throw new Error(`cpio: entry path must be relative, not "${e.path}"`);
    switch (e.kind) {
      case 'dir':
        entry(ino, S_IFDIR | (e.mode ?? 0o755), 2, e.path, new Uint8Array(0));
        break;
      case 'file':
        entry(ino, S_IFREG | (e.mode ?? 0o644), 1, e.path, e.data);
        break;
      case 'symlink':
        entry(ino, S_IFLNK | 0o777, 1, e.path, Buffer.from(e.target));
        break;
      case 'chardev':
        entry(ino, S_IFCHR | (e.mode ?? 0o600), 1, e.path, new Uint8Array(0), [e.major, e.minor]);
        break;
    }
  });
  entry(0, 0, 1, 'TRAILER!!!', new Uint8Array(0));
  return Buffer.concat(parts, length);
}
