// The npm package, as users get it: the release build (scripts/release.mjs)
// packs it once; it is installed into an empty directory, and globally into
// a prefix, by an npm whose PATH holds node, npm, npx and sh but no C
// compiler or make; then the installed vfiotrace reports its engine, traces a
// real program with the prebuilt engine, hands out every arch's static
// recorder, and `man vfiotrace` works. Every shipped binary is checked
// against its directory. docs/install.md describes what this relies on.

import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ET, readElf } from '../../src/trace/elf.js';
import { engineBuildId } from '../../src/trace/native.js';
import { PREBUILT_ARCHES, PREBUILT_ELF, prebuiltArch, prebuiltPath } from '../../src/trace/platform.js';
import { fixture, onPath, ROOT, tracerUnavailable } from '../helpers/trace.js';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const HOST = prebuiltArch();
const TOOLS = ['node', 'npm', 'npx', 'sh'];
const noTrace = tracerUnavailable();

let work = '';
let tarball = '';
let listing = '';
let bin = '';
let app = ''; // the empty directory the package is installed into
let installed = ''; // app/node_modules/vfiotrace

/** Where `cmd` is on this process's PATH. */
function which(cmd: string): string {
  return execFileSync('sh', ['-c', 'command -v "$0"', cmd], { encoding: 'utf8' }).trim();
}

/** The environment of a user without a compiler: PATH is `bin` only. */
function bare(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: process.env.HOME ?? os.homedir(), PATH: bin, LANG: 'C.UTF-8' };
  if (process.env.npm_config_cache !== undefined) env.npm_config_cache = process.env.npm_config_cache;
  return env;
}

function runBare(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(path.join(bin, cmd), args, { cwd, env: bare(), encoding: 'utf8', timeout: 180_000 });
}

/** The installed command, as npm linked it (what npx runs, without npx's start-up). */
function vfiotrace(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(path.join(app, 'node_modules', '.bin', 'vfiotrace'), args, { cwd: app, env: bare(), encoding: 'utf8', timeout: 60_000 });
}

function ok(r: SpawnSyncReturns<string>): string {
  expect(r.error).toBeUndefined();
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vft-package-'));
  // One release build for every test here: stage, cross-build, check, pack.
  listing = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'release.mjs'), '--out', path.join(work, 'release')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  });
  tarball = listing.trim().split('\n').at(-1) as string;

  bin = path.join(work, 'bin');
  mkdirSync(bin);
  for (const t of TOOLS) symlinkSync(t === 'node' ? process.execPath : realpathSync(which(t)), path.join(bin, t));
  app = path.join(work, 'app');
  mkdirSync(app);
  // Tarballs come from the npm cache (our own install filled it); npm may
  // still ask the registry for package metadata it has not cached in full.
  ok(runBare('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app));
  installed = path.join(app, 'node_modules', 'vfiotrace');
}, 300_000);

describe('the release build', () => {
  it('lists the package: compiled code, prebuilt binaries, the man page; no tests or build trees', () => {
    expect(path.basename(tarball)).toBe(`vfiotrace-${VERSION}.tgz`);
    const files = listing.split('\n').map((l) => /^ *\d+ {2}(\S+)$/.exec(l)?.[1]).filter((f): f is string => f !== undefined);
    for (const a of PREBUILT_ARCHES) expect(files).toEqual(expect.arrayContaining([prebuiltPath('engine', a), prebuiltPath('recorder', a)]));
    expect(files).toEqual(expect.arrayContaining(['bin/vfiotrace.js', 'dist/src/cli.js', 'dist/man/vfiotrace.1', 'docs/install.md']));
    expect(files.filter((f) => /^(test|src|scripts)\/|\/(obj|gen)\/|\.(ts|c|map)$/.test(f))).toEqual([]);
    expect(listing).toMatch(/^\d+ files, \d+ bytes; packed \d+ bytes, sha256 [0-9a-f]{64}$/m);
  });
});

describe('installed from the tarball without a compiler', () => {
  it('ran in an environment with no cc, gcc, c++ or make', () => {
    const r = spawnSync(path.join(bin, 'sh'), ['-c', 'for t in cc gcc c++ clang make; do command -v $t; done; true'], { env: bare(), encoding: 'utf8' });
    expect(r.stdout).toBe('');
  });

  it('installs no build scripts and no engine built here', () => {
    const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { scripts?: unknown; version: string };
    expect(pkg.version).toBe(VERSION);
    expect(pkg.scripts).toBeUndefined();
    expect(existsSync(path.join(installed, 'native', 'build', 'libvftrace.so'))).toBe(false);
    expect(existsSync(path.join(installed, 'test'))).toBe(false);
  });

  it.skipIf(HOST === null)('npx vfiotrace --version: the package version and the prebuilt engine, built from these sources', () => {
    const out = ok(runBare('npx', ['vfiotrace', '--version'], app));
    expect(out).toBe(`vfiotrace ${VERSION} (native engine: vftrace 1, build ${engineBuildId()}, ${prebuiltPath('engine', HOST as NonNullable<typeof HOST>)})\n`);
  });

  it.skipIf(HOST === null || noTrace !== null)(`npx vfiotrace traces a program's VFIO ioctls (the kernel answers ENOTTY)${noTrace ? ` (skipped: ${noTrace})` : ''}`, () => {
    const r = runBare('npx', ['vfiotrace', '--', fixture('mixed'), '2'], app);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('vfio 4 other 6\n');
    const calls = r.stderr.split('\n').filter((l) => l.startsWith('ioctl('));
    expect(calls).toHaveLength(4);
    expect(calls[0]).toMatch(/^ioctl\(3<\/dev\/null>, VFIO_GET_API_VERSION, 0xffffffff\) = -1 ENOTTY /);
    expect(calls[1]).toMatch(/^ioctl\(3<\/dev\/null>, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU\) = -1 ENOTTY /);
    expect(r.stderr).toMatch(/^\+\+\+ exited with 0 \+\+\+$/m);
  });

  it('says in one line that the demo needs a clone', () => {
    const r = vfiotrace(['demo', '--device', 'none']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('vfiotrace: the demo runs from a clone: its client is a test program, not part of the installed package (docs/install.md)\n');
  });

  it("names the platform in one line where no engine is made for it (process.arch made s390x)", () => {
    const s390x = 'data:text/javascript,Object.defineProperty(process,"arch",{value:"s390x"})';
    const r = spawnSync(path.join(bin, 'node'), ['--import', s390x, path.join(installed, 'bin', 'vfiotrace.js'), '--', fixture('mixed')], { env: bare(), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'vfiotrace: no prebuilt tracer engine for linux s390x: prebuilt ones are for Linux on x86_64, aarch64, ppc64le, ppc64; elsewhere build one from a clone (docs/install.md)\n',
    );
  });
});

describe('the prebuilt binaries in the installed package', () => {
  it.each(PREBUILT_ARCHES)('%s: engine and static recorder are ELF for the arch their directory names', (arch) => {
    const want = PREBUILT_ELF[arch];
    const engine = readElf(path.join(installed, prebuiltPath('engine', arch)));
    expect([engine.bits, engine.byteOrder, engine.machine, engine.type]).toEqual([64, want.byteOrder, want.machine, ET.DYN]);
    const recorder = readElf(path.join(installed, prebuiltPath('recorder', arch)));
    expect([recorder.bits, recorder.byteOrder, recorder.machine, recorder.type, recorder.interp]).toEqual([64, want.byteOrder, want.machine, ET.EXEC, false]);
  });

  it.each(PREBUILT_ARCHES)('vfiotrace record-binary --arch %s prints where that recorder is', (arch) => {
    expect(ok(vfiotrace(['record-binary', '--arch', arch]))).toBe(`${path.join(installed, prebuiltPath('recorder', arch))}\n`);
  });

  it.skipIf(HOST === null || noTrace !== null)("this machine's recorder records alone, and the package shows the recording", () => {
    const recorder = ok(vfiotrace(['record-binary'])).trim();
    expect(recorder).toBe(path.join(installed, prebuiltPath('recorder', HOST as NonNullable<typeof HOST>)));
    expect(ok(spawnSync(recorder, ['--version'], { encoding: 'utf8' }))).toContain(`, engine build ${engineBuildId()})`);
    const file = path.join(work, 'mixed.vft');
    ok(spawnSync(recorder, ['-o', file, '--', fixture('mixed'), '1'], { encoding: 'utf8', env: bare() }));
    const shown = ok(vfiotrace(['show', file]));
    expect(shown.split('\n').filter((l) => l.startsWith('ioctl('))).toHaveLength(2);
  });
});

describe('npm install -g from the tarball', () => {
  let prefix = '';
  beforeAll(() => {
    prefix = path.join(work, 'global');
    // Everything is in the cache now: no network.
    ok(runBare('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], work));
  }, 180_000);

  it.skipIf(HOST === null)('puts vfiotrace on the PATH', () => {
    const r = spawnSync(path.join(prefix, 'bin', 'vfiotrace'), ['--version'], { env: { ...bare(), PATH: `${path.join(prefix, 'bin')}:${bin}` }, encoding: 'utf8' });
    expect(ok(r)).toMatch(new RegExp(`^vfiotrace ${VERSION.replace(/\./g, '\\.')} \\(native engine: vftrace 1, build [0-9a-f]{16}, native/build/cross/${HOST}/libvftrace\\.so\\)\\n$`));
  });

  it('installs the man page where man finds it', () => {
    expect(onPath('man'), 'man is not installed (apt-get install man-db)').toBe(true);
    const r = spawnSync('man', ['-M', path.join(prefix, 'share', 'man'), 'vfiotrace'], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.replace(/.\x08/g, '')).toMatch(/^NAME\n {7}vfiotrace - strace-style tracer/m);
  });
});
