// Runs a command in a private mount namespace whose /dev is a fresh tmpfs
// holding regular files at the given paths (e.g. /dev/vfio/vfio). The kernel
// answers VFIO ioctls on such files with ENOTTY, which is enough to exercise
// the tracer and decoders without VFIO hardware, and nothing is created in
// the host's real /dev.

import { spawnSync } from 'node:child_process';
import { wrapperLayer } from './wrapper.js';

/** The paths a VFIO client opens in the demo and tests. */
export const DEFAULT_VFIO_PATHS: readonly string[] = [
  '/dev/vfio/vfio',
  '/dev/vfio/42',
  '/dev/vfio/devices/vfio0',
  '/dev/iommu',
];

/** Real device nodes bound back into the private /dev when they exist. */
export const DEFAULT_DEV_NODES: readonly string[] = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx'];
export const DEFAULT_DEV_DIRS: readonly string[] = ['pts', 'shm'];

export interface SandboxOptions {
  /** Regular files to create (absolute paths under /dev). Default DEFAULT_VFIO_PATHS. */
  files?: readonly string[];
  /** Use `unshare -U -r -m` (user namespace). Default: only when not root. */
  userNamespace?: boolean;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// Keeps the real nodes reachable on a staging tmpfs (bind mounts), lays a
// fresh tmpfs over /dev, binds the nodes back from the staging copies, then
// drops the staging mount. No `mount --move`: a user namespace (non-root)
// refuses to move mounts over its inherited, locked /dev.
const SCRIPT = [
  'set -e',
  'n=$1; shift',
  'S=/mnt; [ -d "$S" ] || S=/tmp',
  'mount -t tmpfs -o mode=0755,size=1m vfiotrace-stage "$S"',
  `for d in ${DEFAULT_DEV_NODES.join(' ')}; do`,
  '  if [ -e "/dev/$d" ]; then : > "$S/$d"; mount --bind "/dev/$d" "$S/$d"; fi',
  'done',
  `for d in ${DEFAULT_DEV_DIRS.join(' ')}; do`,
  '  if [ -d "/dev/$d" ]; then mkdir "$S/$d"; mount --rbind "/dev/$d" "$S/$d"; fi',
  'done',
  'mount -t tmpfs -o mode=0755,size=1m vfiotrace-dev /dev',
  `for d in ${DEFAULT_DEV_NODES.join(' ')}; do`,
  '  if [ -e "$S/$d" ]; then : > "/dev/$d"; mount --bind "$S/$d" "/dev/$d"; fi',
  'done',
  `for d in ${DEFAULT_DEV_DIRS.join(' ')}; do`,
  '  if [ -d "$S/$d" ]; then mkdir "/dev/$d"; mount --rbind "$S/$d" "/dev/$d"; fi',
  'done',
  'umount -l "$S"',
  'ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin',
  'ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr',
  'while [ "$n" -gt 0 ]; do',
  '  f=${1#/dev/}; mkdir -p "/dev/$(dirname "$f")"; : > "/dev/$f"; shift; n=$((n-1))',
  'done',
  'exec "$@"',
].join('\n');

/** argv that runs `command` inside the sandbox (exec chain: same pid throughout). */
export function sandboxArgv(command: readonly string[], options: SandboxOptions = {}): string[] {
  if (command.length === 0) throw new Error('sandbox: empty command');
  const files = options.files ?? DEFAULT_VFIO_PATHS;
  for (const f of files) {
    if (!f.startsWith('/dev/') || f.includes('..') || f.includes('\0')) {
      throw new Error(`sandbox: path must be under /dev: ${f}`);
    }
  }
  const userns = options.userNamespace ?? !isRoot();
  const unshare = userns ? ['unshare', '-U', '-r', '-m', '--propagation', 'private'] : ['unshare', '-m', '--propagation', 'private'];
  return [...unshare, ...wrapperLayer('sh', SCRIPT, 'vfiotrace-sandbox', [String(files.length), ...files], command)];
}

let probed: { ok: boolean; reason: string } | null = null;

/** Whether the sandbox can run here (unshare present and namespaces permitted). */
export function sandboxAvailable(): { ok: boolean; reason: string } {
  if (probed) return probed;
  const r = spawnSync(sandboxArgv(['true'])[0] as string, sandboxArgv(['true']).slice(1), {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 10_000,
  });
  probed =
    r.status === 0
      ? { ok: true, reason: '' }
      : { ok: false, reason: `private mount namespace unavailable: ${(r.stderr?.toString() ?? String(r.error)).trim()}` };
  return probed;
}
