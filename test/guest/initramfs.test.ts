// The guest's initramfs (a newc cpio archive the kernel unpacks) and the
// one-line messages when the scenario's tools are missing.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newcArchive } from '../../src/guest/cpio.js';
import { buildInitramfs, EEH_VERDICTS, GUEST_DONE, GUEST_READY, HOST_GO, initScript } from '../../src/guest/initramfs.js';
import { ensureAssets, missingTools } from '../../src/guest/assets.js';

interface Entry {
  name: string;
  mode: number;
  rdev: [number, number];
  data: Buffer;
}

/** An independent reader of the format: header fields, 4-byte padding, the trailer. */
function readNewc(b: Buffer): Entry[] {
  const out: Entry[] = [];
  let at = 0;
  for (;;) {
    expect(b.toString('ascii', at, at + 6)).toBe('070701');
    const field = (k: number): number => parseInt(b.toString('ascii', at + 6 + k * 8, at + 14 + k * 8), 16);
    const size = field(6);
    const nameSize = field(11);
    const name = b.toString('latin1', at + 110, at + 110 + nameSize - 1);
    expect(b[at + 110 + nameSize - 1]).toBe(0);
    const dataAt = Math.ceil((at + 110 + nameSize) / 4) * 4;
    if (name === 'TRAILER!!!') {
      expect(dataAt).toBe(b.length);
      return out;
    }
    out.push({ name, mode: field(1), rdev: [field(9), field(10)], data: b.subarray(dataAt, dataAt + size) });
    at = Math.ceil((dataAt + size) / 4) * 4;
  }
}

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'vft-guest-unit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('newc archive', () => {
  it('lays out entries as the kernel reads them, odd sizes padded', () => {
    const b = newcArchive([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/x', data: Buffer.from('abcde'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'x' },
      { kind: 'chardev', path: 'console', major: 5, minor: 1 },
    ]);
    expect(b.length % 4).toBe(0);
    const e = readNewc(b);
    expect(e.map((x) => [x.name, x.mode.toString(8)])).toEqual([['bin', '40755'], ['bin/x', '100755'], ['bin/sh', '120777'], ['console', '20600']]);
    expect(e[1]!.data.toString()).toBe('abcde');
    expect(e[2]!.data.toString()).toBe('x');
    expect(e[3]!.rdev).toEqual([5, 1]);
  });

  it('refuses absolute paths', () => {
    expect(() => newcArchive([{ kind: 'dir', path: '/bin' }])).toThrow(/relative/);
  });

  it('the initramfs holds busybox, /bin/sh, /dev/console and an /init speaking the host protocol', () => {
    const d = tmp();
    const bb = path.join(d, 'busybox');
    writeFileSync(bb, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]));
    const e = readNewc(buildInitramfs(bb));
    const byName = new Map(e.map((x) => [x.name, x]));
    expect(byName.get('bin/busybox')!.data).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]));
    expect(byName.get('dev/console')!.rdev).toEqual([5, 1]);
    const init = byName.get('init')!;
    expect(init.mode & 0o111).not.toBe(0);
    expect(init.data.toString()).toBe(initScript());
    const script = initScript();
    for (const s of [HOST_GO, ...EEH_VERDICTS, 'poweroff -f', '/config']) expect(script).toContain(s);
    // Every line for the host goes through say(), which prefixes the mark and
    // quiets the kernel's console for the write.
    const [mark, ready] = GUEST_READY.split(' ');
    expect(script).toContain(`say() { echo 1 > /proc/sys/kernel/printk; echo "${mark} $*";`);
    expect(script).toMatch(new RegExp(`^say "${ready} `, 'm'));
    expect(script).toMatch(new RegExp(`^say "?${GUEST_DONE.split(' ')[1]}"?$`, 'm'));
    expect(script).not.toMatch(/^echo "?vfiotrace-guest/m);
  });
});

describe('missing tools', () => {
  it('says in one line what is missing: QEMU, then apt', () => {
    const path0 = process.env.PATH;
    const cache0 = process.env.VFIOTRACE_CACHE;
    try {
      process.env.PATH = tmp();
      expect(missingTools()).toBe('qemu-system-ppc64 not found (on Debian: apt-get install qemu-system-ppc)');
      process.env.VFIOTRACE_CACHE = tmp();
      expect(() => ensureAssets()).toThrow(/^apt-get not found: the guest's kernel and busybox come from Debian's ppc64el packages[^\n]*$/);
    } finally {
      process.env.PATH = path0;
      if (cache0 === undefined) delete process.env.VFIOTRACE_CACHE;
      else process.env.VFIOTRACE_CACHE = cache0;
    }
  });
});
