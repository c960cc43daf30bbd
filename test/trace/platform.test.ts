// Which engine and recorder serve a machine: the clone's own build first,
// then the prebuilt file for the machine's arch (process.arch and the byte
// order), and one clear line on a platform without one (docs/install.md).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeEngine, packageRoot } from '../../src/trace/native.js';
import { findNative, hostArch, PREBUILT_ARCHES, prebuiltArch, type Found, type Host, type NativeKind } from '../../src/trace/platform.js';
import { ROOT } from '../helpers/trace.js';

const linux = (arch: string, endianness: 'LE' | 'BE' = 'LE'): Host => ({ platform: 'linux', arch, endianness });

/** findNative over a package root holding exactly `present` (paths relative to it). */
function find(host: Host, present: string[], kind: NativeKind = 'engine', arch?: (typeof PREBUILT_ARCHES)[number]): Found {
  const have = new Set(present.map((p) => path.join('/pkg', p)));
  return findNative('/pkg', kind, { host, exists: (p) => have.has(p), ...(arch ? { arch } : {}) });
}

function file(f: Found): string {
  if ('error' in f) throw new Error(f.error);
  return f.file.relative;
}

function error(f: Found): string {
  if (!('error' in f)) throw new Error(`found ${f.file.relative}`);
  return f.error;
}

const ALL_PREBUILT = PREBUILT_ARCHES.map((a) => `native/build/cross/${a}/libvftrace.so`);

describe('the arch of this machine', () => {
  it("is Node's arch in uname's naming, ppc64 split by byte order", () => {
    expect(hostArch(linux('x64'))).toBe('x86_64');
    expect(hostArch(linux('arm64'))).toBe('aarch64');
    expect(hostArch(linux('ppc64', 'LE'))).toBe('ppc64le');
    expect(hostArch(linux('ppc64', 'BE'))).toBe('ppc64');
    expect(hostArch(linux('s390x', 'BE'))).toBe('s390x');
  });

  it('has a prebuilt engine only on Linux and the four shipped arches', () => {
    expect(prebuiltArch(linux('x64'))).toBe('x86_64');
    expect(prebuiltArch(linux('ppc64', 'BE'))).toBe('ppc64');
    expect(prebuiltArch(linux('riscv64'))).toBeNull();
    expect(prebuiltArch(linux('ia32'))).toBeNull();
    expect(prebuiltArch({ platform: 'darwin', arch: 'arm64', endianness: 'LE' })).toBeNull();
  });

  it("ships the arches native/cross.mk builds (its CROSS_ARCHES)", () => {
    const mk = readFileSync(path.join(ROOT, 'native', 'cross.mk'), 'utf8');
    const line = /^CROSS_ARCHES := (.*)$/m.exec(mk);
    expect(line?.[1]?.trim().split(/\s+/)).toEqual([...PREBUILT_ARCHES]);
  });
});

describe('choosing the engine', () => {
  it("takes the prebuilt engine of the machine's arch when the clone has no build of its own", () => {
    expect(file(find(linux('x64'), ALL_PREBUILT))).toBe('native/build/cross/x86_64/libvftrace.so');
    expect(file(find(linux('arm64'), ALL_PREBUILT))).toBe('native/build/cross/aarch64/libvftrace.so');
    expect(file(find(linux('ppc64', 'LE'), ALL_PREBUILT))).toBe('native/build/cross/ppc64le/libvftrace.so');
    expect(file(find(linux('ppc64', 'BE'), ALL_PREBUILT))).toBe('native/build/cross/ppc64/libvftrace.so');
    const f = find(linux('ppc64', 'BE'), ALL_PREBUILT);
    expect('file' in f && f.file.prebuilt).toBe('ppc64');
    expect('file' in f && f.file.path).toBe('/pkg/native/build/cross/ppc64/libvftrace.so');
  });

  it("prefers the clone's own build, which is what was just compiled here", () => {
    const f = find(linux('x64'), ['native/build/libvftrace.so', ...ALL_PREBUILT]);
    expect(file(f)).toBe('native/build/libvftrace.so');
    expect('file' in f && f.file.prebuilt).toBeNull();
  });

  it('never takes another arch\'s engine', () => {
    const onlyOthers = ALL_PREBUILT.filter((p) => !p.includes('/x86_64/'));
    expect(error(find(linux('x64'), onlyOthers))).toBe(
      'tracer engine not built (native/build/libvftrace.so and native/build/cross/x86_64/libvftrace.so missing): in a clone, run `npm run build:native`',
    );
  });

  it('names the platform in one line when no engine is made for it', () => {
    for (const [host, name] of [
      [linux('s390x', 'BE'), 'linux s390x'],
      [linux('riscv64'), 'linux riscv64'],
      [linux('ia32'), 'linux ia32'],
      [{ platform: 'darwin', arch: 'arm64', endianness: 'LE' } as Host, 'darwin arm64'],
    ] as const) {
      const msg = error(find(host, host.platform === 'linux' ? ALL_PREBUILT : ['native/build/libvftrace.so', ...ALL_PREBUILT]));
      expect(msg).toBe(`no prebuilt tracer engine for ${name}: prebuilt ones are for Linux on x86_64, aarch64, ppc64le, ppc64; elsewhere build one from a clone (docs/install.md)`);
      expect(msg).not.toContain('\n');
    }
  });

  it('still loads a build made on a Linux machine that has no prebuilt engine', () => {
    expect(file(find(linux('s390x', 'BE'), ['native/build/libvftrace.so', ...ALL_PREBUILT]))).toBe('native/build/libvftrace.so');
  });
});

describe('choosing the recorder', () => {
  const recorders = PREBUILT_ARCHES.map((a) => `native/build/cross/${a}/vfiotrace-record`);

  it("gives any arch's prebuilt recorder on request, the clone's own only for the host's arch", () => {
    const present = ['native/build/vfiotrace-record', ...recorders];
    expect(file(find(linux('x64'), present, 'recorder'))).toBe('native/build/vfiotrace-record');
    expect(file(find(linux('x64'), present, 'recorder', 'x86_64'))).toBe('native/build/vfiotrace-record');
    expect(file(find(linux('x64'), present, 'recorder', 'ppc64le'))).toBe('native/build/cross/ppc64le/vfiotrace-record');
    expect(file(find(linux('s390x', 'BE'), present, 'recorder', 'ppc64'))).toBe('native/build/cross/ppc64/vfiotrace-record');
  });

  it('says how to build a missing one', () => {
    expect(error(find(linux('x64'), [], 'recorder', 'ppc64'))).toBe(
      'vfiotrace-record not built (native/build/cross/ppc64/vfiotrace-record missing): in a clone, run `make -C native cross-ppc64`',
    );
    expect(error(find(linux('s390x', 'BE'), [], 'recorder'))).toMatch(/^no prebuilt vfiotrace-record for linux s390x: /);
  });
});

describe('in this clone', () => {
  it('loads the engine it built itself', () => {
    const e = nativeEngine();
    expect(e.relative).toBe('native/build/libvftrace.so');
    expect(e.path).toBe(path.join(packageRoot(), 'native', 'build', 'libvftrace.so'));
  });
});
