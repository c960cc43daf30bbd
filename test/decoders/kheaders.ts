// Kernel headers to check the descriptions against: the machine's own
// (/usr/include, whatever linux-libc-dev it has) and Debian 13's
// linux-libc-dev, fetched once into a cache outside the repository with a
// private apt configuration so the host's apt state is untouched.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface HeaderSet {
  /** -I directory holding linux/vfio.h. */
  include: string;
  /** Version text for messages. */
  label: string;
}

export const HOST: HeaderSet = { include: '/usr/include', label: 'host /usr/include' };

export function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'vfiotrace', 'linux-libc-dev-trixie');
}

/** The Debian mirror the host already uses (read from its apt sources, not hard-coded). */
function hostMirror(): string | null {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) files.push(path.join('/etc/apt/sources.list.d', f));
  } catch {
    /* no directory */
  }
  for (const f of files) {
    if (!/\.(list|sources)$/.test(f)) continue;
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    const deb822 = /^URIs:\s*(\S+)\s*$/m.exec(text);
    if (deb822 && /\/debian\/?$/.test(deb822[1] as string)) return deb822[1] as string;
    const one = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian\/?)\s+\S+/m.exec(text);
    if (one) return one[1] as string;
  }
  return null;
}

let cached: { set: HeaderSet | null; why: string } | null = null;

/** Debian 13's headers (extracted), or null with the reason they could not be had. */
export function trixieHeaders(): { set: HeaderSet | null; why: string } {
  if (cached) return cached;
  const dir = cacheDir();
  const root = path.join(dir, 'root');
  const done = path.join(dir, 'extracted');
  const inc = path.join(root, 'usr', 'include');
  if (existsSync(done) && existsSync(path.join(inc, 'linux', 'vfio.h'))) {
    cached = { set: { include: inc, label: `Debian 13 linux-libc-dev ${readFileSync(done, 'utf8').trim()}` }, why: '' };
    return cached;
  }
  // Test files run in parallel workers: one fetches, the others wait for it.
  const lock = dir + '.lock';
  mkdirSync(path.dirname(dir), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(done)) return trixieHeaders();
      try {
        if (Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* the holder just finished */
      }
      if (Date.now() > deadline) {
        cached = { set: null, why: `Debian 13 linux-libc-dev: timed out waiting for ${lock}` };
        return cached;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    const mirror = hostMirror();
    if (!mirror) throw new Error('no Debian mirror in the host apt sources');
    const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
    for (const d of ['lists/partial', 'cache/archives/partial', 'etc', 'dl']) mkdirSync(path.join(dir, d), { recursive: true });
    const sources = path.join(dir, 'etc', 'sources.list');
    writeFileSync(sources, `deb [signed-by=${keyring}] ${mirror} trixie main\n`);
    const aptOpts = [
      '-q',
      '-o', `Dir::Etc::sourcelist=${sources}`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', `Dir::State::Lists=${path.join(dir, 'lists')}`,
      '-o', `Dir::Cache=${path.join(dir, 'cache')}`,
      '-o', 'APT::Sandbox::User=root',
    ];
    execFileSync('apt-get', [...aptOpts, 'update'], { stdio: 'pipe', timeout: 180_000 });
    const dl = path.join(dir, 'dl');
    execFileSync('apt-get', [...aptOpts, 'download', 'linux-libc-dev/trixie'], { cwd: dl, stdio: 'pipe', timeout: 180_000 });
    const deb = readdirSync(dl).find((f) => f.startsWith('linux-libc-dev_') && f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download produced no linux-libc-dev .deb');
    rmSync(root, { recursive: true, force: true });
    execFileSync('dpkg-deb', ['-x', path.join(dl, deb), root], { stdio: 'pipe', timeout: 60_000 });
    const version = deb.split('_')[1] ?? '?';
    writeFileSync(done, version + '\n');
    cached = { set: { include: inc, label: `Debian 13 linux-libc-dev ${version}` }, why: '' };
  } catch (e) {
    const err = e as { stderr?: Buffer; message?: string };
    cached = { set: null, why: `Debian 13 linux-libc-dev unavailable (${(err.stderr?.toString() || err.message || String(e)).trim().split('\n').pop()})` };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return cached;
}

/** Header text of the VFIO (with s390 zPCI caps) and iommufd uapi in a header set. */
export function headerText(set: HeaderSet): { text: string; includes: string[] } {
  const includes = ['linux/vfio.h'];
  let text = readFileSync(path.join(set.include, 'linux', 'vfio.h'), 'utf8');
  for (const h of ['iommufd.h', 'vfio_zdev.h']) {
    const file = path.join(set.include, 'linux', h);
    if (existsSync(file)) {
      includes.push(`linux/${h}`);
      text += '\n' + readFileSync(file, 'utf8');
    }
  }
  return { text, includes };
}

export function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `gcc -fsyntax-only` on `source` with these -I directories: '' when it compiles, else gcc's messages. */
export function gccCheck(source: string, includes: readonly string[] = [], name = 'check.c'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-gcc-'));
  const file = path.join(dir, name);
  try {
    writeFileSync(file, source);
    execFileSync('gcc', ['-fsyntax-only', '-std=gnu11', ...includes.flatMap((d) => ['-I', d]), file], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
