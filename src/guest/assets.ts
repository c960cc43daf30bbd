// What the guest scenario boots: Debian's ppc64el kernel and a static
// busybox, fetched once with apt (`dpkg --add-architecture ppc64el`,
// `apt-get download`) and unpacked with dpkg-deb into a cache directory that
// later runs reuse: $VFIOTRACE_CACHE, else $XDG_CACHE_HOME/vfiotrace, else
// ~/.cache/vfiotrace; the scenario's files live in its guest-ppc64el/.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const GUEST_ARCH = 'ppc64el';
/** The metapackage whose dependency names the current kernel package. */
const KERNEL_META = 'linux-image-powerpc64le';
const BUSYBOX = 'busybox-static';

export interface GuestAssets {
  /** The kernel image (ELF vmlinux) QEMU boots with -kernel. */
  kernel: string;
  /** The static busybox for the initramfs. */
  busybox: string;
  /** The kernel package, e.g. linux-image-6.1.0-57-powerpc64le. */
  kernelPackage: string;
  dir: string;
}

export function cacheRoot(): string {
  const env = process.env.VFIOTRACE_CACHE;
  if (env) return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg ? xdg : path.join(os.homedir(), '.cache'), 'vfiotrace');
}

export function guestCacheDir(): string {
  return path.join(cacheRoot(), 'guest-ppc64el');
}

/** A program on PATH, or null. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue;
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Why the scenario's tools are missing, as one line, or null. */
export function missingTools(): string | null {
  if (!which('qemu-system-ppc64')) return 'qemu-system-ppc64 not found (on Debian: apt-get install qemu-system-ppc)';
  return null;
}

const MANIFEST = 'assets.json';

/** The cached assets, or null when they were never fetched (or are incomplete). */
export function cachedAssets(dir = guestCacheDir()): GuestAssets | null {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as { kernel: string; busybox: string; kernelPackage: string };
    const a = { kernel: path.join(dir, m.kernel), busybox: path.join(dir, m.busybox), kernelPackage: m.kernelPackage, dir };
    return existsSync(a.kernel) && existsSync(a.busybox) ? a : null;
  } catch {
    return null;
  }
}

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n').filter((l) => !l.startsWith('W: ')).pop() ?? `exit status ${r.status}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}`);
  }
  return r.stdout;
}

/** Makes apt know ppc64el packages: adds the architecture and updates the lists when needed. */
function ensureForeignArch(log: (s: string) => void): void {
  const archs = run('dpkg', ['--print-foreign-architectures']).split('\n');
  const known = (): boolean => spawnSync('apt-cache', ['show', `${BUSYBOX}:${GUEST_ARCH}`], { stdio: 'ignore' }).status === 0;
  if (archs.includes(GUEST_ARCH) && known()) return;
  if (!archs.includes(GUEST_ARCH)) {
    log(`dpkg --add-architecture ${GUEST_ARCH}`);
    run('dpkg', ['--add-architecture', GUEST_ARCH]);
  }
  log('apt-get update');
  run('apt-get', ['update', '-qq']);
  if (!known()) throw new Error(`apt knows no ${BUSYBOX}:${GUEST_ARCH} even after apt-get update (is a Debian mirror configured?)`);
}

/** The kernel package the metapackage points at (linux-image-6.1.0-NN-powerpc64le on Debian 12). */
function kernelPackage(): string {
  const out = run('apt-cache', ['depends', `${KERNEL_META}:${GUEST_ARCH}`]);
  const m = /Depends:\s*(linux-image-[0-9][^\s:]*)/.exec(out);
  if (!m) throw new Error(`apt-cache depends ${KERNEL_META}:${GUEST_ARCH} names no kernel package`);
  return m[1]!;
}

/**
 * The kernel and busybox, from the cache or fetched now (needs apt-get,
 * dpkg-deb and, the first time, root for dpkg --add-architecture). Throws
 * with a one-line message naming what is missing.
 */
export function ensureAssets(log: (s: string) => void = () => {}): GuestAssets {
  const dir = guestCacheDir();
  const have = cachedAssets(dir);
  if (have) return have;
  for (const t of ['apt-get', 'apt-cache', 'dpkg', 'dpkg-deb']) {
    if (!which(t)) throw new Error(`${t} not found: the guest's kernel and busybox come from Debian's ${GUEST_ARCH} packages (a Debian or Ubuntu host is needed to fetch them)`);
  }
  ensureForeignArch(log);
  const kpkg = kernelPackage();
  const debs = path.join(dir, 'debs');
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  log(`apt-get download ${kpkg}:${GUEST_ARCH} ${BUSYBOX}:${GUEST_ARCH} (into ${debs})`);
  // Root's downloads would otherwise go through the _apt user, who cannot write the cache.
  run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', `${kpkg}:${GUEST_ARCH}`, `${BUSYBOX}:${GUEST_ARCH}`], debs);
  const files = readdirSync(debs);
  const deb = (prefix: string): string => {
    const f = files.find((n) => n.startsWith(prefix + '_') && n.endsWith('.deb'));
    if (!f) throw new Error(`apt-get download left no ${prefix} package in ${debs}`);
    return path.join(debs, f);
  };
  const root = path.join(dir, 'root');
  const staging = `${root}.new`;
  rmSync(staging, { recursive: true, force: true });
  execFileSync('dpkg-deb', ['-x', deb(kpkg), staging]);
  execFileSync('dpkg-deb', ['-x', deb(BUSYBOX), staging]);
  const boot = readdirSync(path.join(staging, 'boot'));
  const vmlinux = boot.find((n) => n.startsWith('vmlinux-'));
  if (!vmlinux) throw new Error(`${kpkg} holds no boot/vmlinux-*`);
  if (!existsSync(path.join(staging, 'bin', 'busybox'))) throw new Error(`${BUSYBOX}:${GUEST_ARCH} holds no bin/busybox`);
  // Keep only what is booted: the kernel package's modules are large and unused.
  rmSync(path.join(staging, 'lib'), { recursive: true, force: true });
  rmSync(path.join(staging, 'usr', 'lib', 'modules'), { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  renameSync(staging, root);
  rmSync(debs, { recursive: true, force: true });
  const manifest = { kernel: path.join('root', 'boot', vmlinux), busybox: path.join('root', 'bin', 'busybox'), kernelPackage: kpkg };
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  const a = cachedAssets(dir);
  if (!a) throw new Error(`the guest's files did not land in ${dir}`);
  return a;
}
