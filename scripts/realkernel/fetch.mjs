// Fetches and caches what the real-kernel guest needs: one of Debian's amd64
// kernels (the image and its VFIO modules) and busybox-static. Downloads go
// through `apt-get download` into the cache, so a second run reuses them and
// works offline.
//
//   import { prepareKernel } from './fetch.mjs';
//   const k = prepareKernel('6.1');   // { series, release, dir, vmlinuz, modules[], busybox }

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The kernel series the harness knows, and how Debian names their packages. */
export const SERIES = {
  '6.1': /^linux-image-(6\.1\.0-\d+-amd64)-unsigned$/,
  '6.12': /^linux-image-(6\.12\.\d+\+deb12-amd64)-unsigned$/,
};

/** The modules vfio-pci needs, in load order (dependencies first). vfio_virqfd
 * is a module of its own in 6.1 and part of vfio in 6.12; absent ones are
 * skipped, so the list covers both. */
export const MODULES = ['irqbypass', 'vfio', 'vfio_virqfd', 'vfio_iommu_type1', 'vfio-pci-core', 'vfio-pci'];

export function cacheDir() {
  return process.env.VFIOTRACE_REALKERNEL_CACHE ?? path.join(homedir(), '.cache', 'vfiotrace', 'realkernel');
}

function need(cmd, pkg) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} not found: install ${pkg} (apt-get install ${pkg})`);
}

function versionCompare(a, b) {
  const pa = a.split(/[^0-9]+/).filter(Boolean).map(Number);
  const pb = b.split(/[^0-9]+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/** The newest package of a series apt knows, or null when apt cannot tell. */
function newestPackage(series) {
  const r = spawnSync('apt-cache', ['search', '--names-only', '^linux-image-6\\.[0-9.]+.*amd64-unsigned$'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const names = r.stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => SERIES[series].test(n));
  names.sort(versionCompare);
  return names.at(-1) ?? null;
}

function cachedDebs(debs, prefix) {
  if (!existsSync(debs)) return [];
  return readdirSync(debs).filter((f) => f.startsWith(prefix) && f.endsWith('.deb')).sort(versionCompare);
}

/** apt-get download into `debs`, returning the .deb's path (cached ones win). */
function download(debs, pkg) {
  const have = cachedDebs(debs, `${pkg}_`);
  if (have.length) return path.join(debs, have.at(-1));
  need('apt-get', 'apt');
  mkdirSync(debs, { recursive: true });
  const r = spawnSync('apt-get', ['download', '-q', pkg], { cwd: debs, encoding: 'utf8' });
  const got = cachedDebs(debs, `${pkg}_`);
  if (r.status !== 0 || !got.length) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').at(-1);
    throw new Error(`apt-get download ${pkg} failed: ${why} (run apt-get update?)`);
  }
  return path.join(debs, got.at(-1));
}

/** The kernel package to use: apt's newest of the series, else the newest cached. */
function pickKernelPackage(series, debs) {
  const fromApt = newestPackage(series);
  if (fromApt) return fromApt;
  const cached = readdirSync(existsSync(debs) ? debs : '.').map((f) => f.split('_')[0]).filter((n) => SERIES[series].test(n));
  cached.sort(versionCompare);
  if (cached.length) return cached.at(-1);
  need('apt-cache', 'apt');
  throw new Error(`no Debian package for kernel ${series} (apt-cache search finds no ${SERIES[series].source}); run apt-get update`);
}

function extractKernel(deb, release, out) {
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('dpkg-deb', ['-x', deb, tmp]);
  const modRoot = [path.join(tmp, 'lib/modules', release), path.join(tmp, 'usr/lib/modules', release)].find(existsSync);
  if (!modRoot) throw new Error(`${deb}: no modules for ${release}`);
  const found = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const m = /^(.+)\.ko(\.xz)?$/.exec(e.name);
        if (m && MODULES.includes(m[1])) found.set(m[1], p);
      }
    }
  };
  walk(path.join(modRoot, 'kernel'));
  mkdirSync(path.join(out, 'modules'), { recursive: true });
  const modules = [];
  for (const name of MODULES) {
    const src = found.get(name);
    if (!src) continue;
    // busybox insmod loads plain .ko files; 6.12 ships them xz-compressed.
    const bytes = src.endsWith('.xz') ? execFileSync('xz', ['-dc', src], { maxBuffer: 64 << 20 }) : readFileSync(src);
    writeFileSync(path.join(out, 'modules', `${name}.ko`), bytes);
    modules.push(name);
  }
  for (const name of ['vfio', 'vfio_iommu_type1', 'vfio-pci-core', 'vfio-pci']) {
    if (!modules.includes(name)) throw new Error(`${deb}: module ${name} not found`);
  }
  renameSync(path.join(tmp, 'boot', `vmlinuz-${release}`), path.join(out, 'vmlinuz'));
  writeFileSync(path.join(out, 'modules.order'), modules.join('\n') + '\n');
  writeFileSync(path.join(out, 'release'), release + '\n');
  rmSync(tmp, { recursive: true, force: true });
}

/** Downloads (once) and unpacks (once) a kernel series and busybox. */
export function prepareKernel(series) {
  if (!SERIES[series]) throw new Error(`unknown kernel series "${series}" (known: ${Object.keys(SERIES).join(', ')})`);
  need('dpkg-deb', 'dpkg');
  const root = cacheDir();
  const debs = path.join(root, 'debs');
  const pkg = pickKernelPackage(series, debs);
  const release = SERIES[series].exec(pkg)[1];
  const dir = path.join(root, release);
  if (!existsSync(path.join(dir, 'release'))) {
    need('xz', 'xz-utils');
    extractKernel(download(debs, pkg), release, dir);
  }
  const bbDir = path.join(root, 'busybox');
  const busybox = path.join(bbDir, 'bin', 'busybox');
  if (!existsSync(busybox)) {
    const tmp = `${bbDir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('dpkg-deb', ['-x', download(debs, 'busybox-static'), tmp]);
    rmSync(bbDir, { recursive: true, force: true });
    renameSync(tmp, bbDir);
  }
  const modules = readFileSync(path.join(dir, 'modules.order'), 'utf8').trim().split('\n');
  return { series, release, dir, vmlinuz: path.join(dir, 'vmlinuz'), modules, busybox };
}
