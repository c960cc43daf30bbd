// Runs a command in a private mount namespace whose /dev is a fresh tmpfs
// holding regular files at the given paths (e.g. /dev/vfio/vfio). The kernel
// answers VFIO ioctls on such files with ENOTTY, which is enough to exercise
// the tracer and decoders without VFIO hardware, and nothing is created in
// the host's real /dev.

import { spawnSync } from 'node:child_process';

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

// Builds the new /dev on a tmpfs mounted at a staging point, then moves it
// over /dev in one step, so the real nodes are still reachable while binding.
const SCRIPT = [
  'set -e',
  'n=$1; shift',
  'S=/mnt; [ -d "$S" ] || S=/tmp',
  'mount -t tmpfs -o mode=0755,size=1m vfiotrace-dev "$S"',
  `for d in ${DEFAULT_DEV_NODES.join(' ')}; do`,
  '  if [ -e "/dev/$d" ]; then : > "$S/$d"; mount --bind "/dev/$d" "$S/$d"; fi',
  'done',
  `for d in ${DEFAULT_DEV_DIRS.join(' ')}; do`,
  '  if [ -d "/dev/$d" ]; then mkdir "$S/$d"; mount --rbind "/dev/$d" "$S/$d"; fi',
  'done',
  'ln -s /proc/self/fd "$S/fd"; ln -s /proc/self/fd/0 "$S/stdin"',
  'ln -s /proc/self/fd/1 "$S/stdout"; ln -s /proc/self/fd/2 "$S/stderr"',
  'while [ "$n" -gt 0 ]; do',
  '  f=${1#/dev/}; mkdir -p "$S/$(dirname "$f")"; : > "$S/$f"; shift; n=$((n-1))',
  'done',
  'mount --move "$S" /dev',
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
  return [...unshare, 'sh', '-c', SCRIPT, 'vfiotrace-sandbox', String(files.length), ...files, ...command];
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
