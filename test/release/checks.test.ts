// The release build's checks (src/release/checks.ts): the ELF facts read
// from real binaries built here, each binary judged against its directory,
// and the packed file list judged for what must and must not be in it.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { binaryProblems, contentProblems, PACK_LIMITS, requiredFiles } from '../../src/release/checks.js';
import { compareVersions, ET, glibcNeeded, readElf } from '../../src/trace/elf.js';
import { PREBUILT_ARCHES, PREBUILT_ELF, PREBUILT_GLIBC, prebuiltArch, prebuiltPath, type PrebuiltArch } from '../../src/trace/platform.js';
import { RECORDER, recorderUnavailable } from '../power/build.js';
import { fixture, ROOT } from '../helpers/trace.js';

const ENGINE = path.join(ROOT, 'native', 'build', 'libvftrace.so');
const HOST = prebuiltArch();
const OTHER: PrebuiltArch = PREBUILT_ARCHES.find((a) => HOST === null || PREBUILT_ELF[a].machine !== PREBUILT_ELF[HOST].machine) ?? 'ppc64';
const v = (s: string) => s.split('.').map(Number);

beforeAll(() => {
  // The recorder is not part of the default native build.
  expect(recorderUnavailable()).toBeNull();
});

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'vft-release-'));
}

/** A package root whose native/build/cross/ARCH/ holds the given files. */
function root(files: { arch: PrebuiltArch; kind: 'engine' | 'recorder'; from: string }[]): string {
  const r = tmp();
  for (const f of files) {
    const to = path.join(r, prebuiltPath(f.kind, f.arch));
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(f.from, to);
  }
  return r;
}

describe.skipIf(HOST === null)('ELF facts of the binaries built here', () => {
  it('the engine: a shared object for this machine that needs glibc no newer than the package promises', () => {
    const e = readElf(ENGINE);
    const want = PREBUILT_ELF[HOST as PrebuiltArch];
    expect([e.bits, e.byteOrder, e.type, e.machine, e.interp]).toEqual([64, want.byteOrder, ET.DYN, want.machine, false]);
    expect(e.needs).toContainEqual({ file: 'libc.so.6', version: expect.stringMatching(/^GLIBC_2\.\d+/) as unknown as string });
    const glibc = glibcNeeded(e);
    expect(glibc).not.toBeNull();
    expect(compareVersions(v(glibc as string), v(PREBUILT_GLIBC))).toBeLessThanOrEqual(0);
  });

  it('the recorder: a static executable that needs no library', () => {
    const e = readElf(RECORDER);
    expect([e.type, e.interp, e.needs]).toEqual([ET.EXEC, false, []]);
    expect(glibcNeeded(e)).toBeNull();
  });

  it('says in one line what is wrong with a file that is no ELF or is cut short', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'text'), 'not a binary at all, longer than an ELF header is, so only the magic decides\n');
    expect(() => readElf(path.join(dir, 'text'))).toThrow(`${path.join(dir, 'text')}: not an ELF file`);
    writeFileSync(path.join(dir, 'cut'), readFileSync(ENGINE).subarray(0, 200));
    expect(() => readElf(path.join(dir, 'cut'))).toThrow(`${path.join(dir, 'cut')}: truncated ELF file`);
  });
});

describe.skipIf(HOST === null)('each prebuilt binary against its directory', () => {
  const host = HOST as PrebuiltArch;

  it('accepts the engine and recorder built for the arch their directory names', () => {
    const r = root([{ arch: host, kind: 'engine', from: ENGINE }, { arch: host, kind: 'recorder', from: RECORDER }]);
    expect(binaryProblems(r, host, 'engine')).toEqual([]);
    expect(binaryProblems(r, host, 'recorder')).toEqual([]);
  });

  it("rejects another arch's binary, a missing one, a dynamic recorder and a library posing as one", () => {
    const r = root([
      { arch: OTHER, kind: 'engine', from: ENGINE },
      { arch: host, kind: 'recorder', from: fixture('mixed') }, // dynamically linked
      { arch: OTHER, kind: 'recorder', from: ENGINE },
    ]);
    const mine = PREBUILT_ELF[host].machine;
    const theirs = PREBUILT_ELF[OTHER].machine;
    expect(binaryProblems(r, OTHER, 'engine')).toContain(`${prebuiltPath('engine', OTHER)}: ELF machine ${mine}, not ${theirs} (${OTHER})`);
    expect(binaryProblems(r, host, 'engine')).toEqual([`${prebuiltPath('engine', host)}: missing`]);
    expect(binaryProblems(r, host, 'recorder')).toContain(`${prebuiltPath('recorder', host)}: dynamically linked; the recorder must be static to run on any host`);
    expect(binaryProblems(r, OTHER, 'recorder')).toContain(`${prebuiltPath('recorder', OTHER)}: ELF type ${ET.DYN}, not an executable`);
  });

  it('rejects an engine that needs a newer glibc than the package promises', () => {
    const glibc = glibcNeeded(readElf(ENGINE)) as string;
    const newer = glibc.replace(/\d/g, '9'); // same length: the string table keeps its layout
    const bytes = readFileSync(ENGINE);
    const at = bytes.indexOf(`GLIBC_${glibc}\0`);
    expect(at).toBeGreaterThan(0);
    bytes.write(`GLIBC_${newer}`, at, 'latin1');
    const r = root([]);
    mkdirSync(path.dirname(path.join(r, prebuiltPath('engine', host))), { recursive: true });
    writeFileSync(path.join(r, prebuiltPath('engine', host)), bytes);
    expect(binaryProblems(r, host, 'engine')).toEqual([
      `${prebuiltPath('engine', host)}: needs glibc ${newer}, newer than the ${PREBUILT_GLIBC} the package promises (docs/install.md)`,
    ]);
  });
});

describe('the packed file list', () => {
  const good = [...requiredFiles(), 'dist/src/trace/native.js', 'dist/decoders/eeh.js', 'docs/usage.md'];
  const small = { packed: 1000, unpacked: 5000 };

  it('passes with what an install needs', () => {
    expect(contentProblems(good, small)).toEqual([]);
  });

  it('names each test, source, map or build-tree file that leaked in', () => {
    const leaks = [
      'test/fixtures/mixed.c',
      'dist/test/trace/reader.test.js',
      'src/cli.ts',
      'dist/src/cli.js.map',
      'native/src/loop.c',
      'native/build/libvftrace.so',
      'native/build/cross/x86_64/obj/session.o',
      'native/build/cross/ppc64/gen/rules.c',
      'node_modules/koffi/index.js',
    ];
    const problems = contentProblems([...good, ...leaks], small);
    expect(problems).toHaveLength(leaks.length);
    leaks.forEach((f, k) => expect(problems[k]).toMatch(new RegExp(`^${f.replace(/\./g, '\\.')}: .* in the package$`)));
  });

  it('names a missing required file and a package over its size budget', () => {
    const without = good.filter((f) => f !== 'native/build/cross/ppc64le/vfiotrace-record');
    expect(contentProblems(without, { packed: PACK_LIMITS.packed + 1, unpacked: 10 })).toEqual([
      'native/build/cross/ppc64le/vfiotrace-record: missing from the package',
      `package is ${PACK_LIMITS.packed + 1} bytes packed, over the ${PACK_LIMITS.packed} budget`,
    ]);
  });
});
