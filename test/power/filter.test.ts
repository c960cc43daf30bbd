// The engine's seccomp filter, compiled for each ABI and evaluated on
// seccomp_data in that ABI's byte order (filtercheck.c). On big-endian ppc64
// the request's low half sits at +4 within args[1]; reading the wrong half
// would stop on nothing VFIO and on junk instead. The same holds for clone's
// flags in args[0] (CLONE_UNTRACED, src/untraced.c), and for the type byte
// emulation hands to a seccomp listener (src/notify.c).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmp } from '../integration/helpers.js';
import { CROSS_ARCHES, CROSS_CC, NATIVE, QEMU, ROOT, crossUnavailable, qemuUnavailable, type CrossArch } from './build.js';

const HOST = spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim();

const EXPECTED = [
  'vfio-request TRACE',
  'other-type ALLOW',
  'high-junk TRACE',
  'type-in-high-word ALLOW',
  'other-syscall ALLOW',
  'foreign-abi ALLOW',
  'all-ioctls TRACE',
  'all-ioctls-other-syscall ALLOW',
  'clone-untraced TRACE',
  'clone ALLOW',
  'clone-untraced-in-high-word ALLOW',
  'clone3 TRACE',
  'all-ioctls-clone-untraced TRACE',
  'foreign-abi-clone-untraced ALLOW',
  'notify-vfio-request NOTIFY',
  'notify-high-junk NOTIFY',
  'notify-other-type ALLOW',
  'notify-all-ioctls-other-type TRACE',
  'notify-type-in-high-word ALLOW',
];

function unavailable(arch: CrossArch): string | null {
  return crossUnavailable(arch) ?? (arch === HOST ? null : qemuUnavailable(arch));
}

describe.each(CROSS_ARCHES)('seccomp filter built for %s', (arch) => {
  const skip = unavailable(arch);
  it.skipIf(skip !== null)(`traces exactly ';' ioctls of its own ABI${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const exe = path.join(tmp(), `filtercheck-${arch}`);
    const cc = spawnSync(
      CROSS_CC[arch],
      ['-static', '-O1', '-std=c11', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', `-I${path.join(NATIVE, 'src')}`, '-o', exe, path.join(ROOT, 'test', 'power', 'filtercheck.c')],
      { encoding: 'utf8' },
    );
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
    const r = arch === HOST ? spawnSync(exe, { encoding: 'utf8' }) : spawnSync(QEMU[arch] as string, [exe], { encoding: 'utf8' });
    expect(r.stdout.trimEnd().split('\n')).toEqual(EXPECTED);
    expect(r.status).toBe(0);
  });
});
