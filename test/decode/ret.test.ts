// Return values: what a positive value means per ioctl, errno names per
// architecture, and the reasons given for an errno.

import { describe, expect, it } from 'vitest';
import { bytes, IOCTL_FLAG, nr, PATH, session } from './helpers.js';
import { errnoName, errnoNumber } from '../../src/decode/errno.js';

describe('return values', () => {
  it('CHECK_EXTENSION answers, with the extension named in the argument', () => {
    const { call } = session();
    const ev = call({ nr: nr(1), arg: 5n, ret: 1 });
    expect(ev.argDisplay).toBe('VFIO_EEH');
    expect(ev.ret).toEqual({ value: 1, errno: null, meaning: 'VFIO_EEH supported' });
    expect(call({ nr: nr(1), arg: 7n, ret: 0 }).ret.meaning).toBe('VFIO_SPAPR_TCE_v2_IOMMU not supported');
  });

  it('GET_API_VERSION and plain success', () => {
    const { call } = session();
    expect(call({ nr: nr(0) }).ret.meaning).toMatch(/VFIO_API_VERSION/);
    expect(call({ nr: nr(2), arg: 3n }).ret.meaning).toBe('success');
  });

  it('EEH GET_STATE returns the PE state as the value', () => {
    const { call } = session('ppc64');
    const e = bytes(false, [['u32', 12], ['u32', 0], ['u32', 4]]);
    expect(call({ nr: nr(21), entry: e, ret: 2 }).ret.meaning).toBe('PE state VFIO_EEH_PE_STATE_STOPPED');
    expect(call({ nr: nr(21), entry: e, ret: 0 }).ret.meaning).toBe('PE state VFIO_EEH_PE_STATE_NORMAL');
    expect(call({ nr: nr(21), entry: e, ret: 5 }).ret.meaning).toBe('PE state VFIO_EEH_PE_STATE_UNAVAIL');
    const reset = bytes(false, [['u32', 12], ['u32', 0], ['u32', 5]]);
    expect(call({ nr: nr(21), entry: reset }).in?.children?.[2]?.display).toBe('VFIO_EEH_PE_RESET_DEACTIVATE');
  });

  it('new fds: GET_DEVICE_FD, GET_GFX_DMABUF, FEATURE_DMA_BUF', () => {
    const { call } = session();
    expect(call({ nr: nr(6), path: PATH.group, entry: new TextEncoder().encode('0000:06:0d.0'), ret: 4 }).ret).toMatchObject({ meaning: 'new device fd 4', newFd: { fd: 4, kind: 'device' } });
    const dmabuf = bytes(true, [['u32', 40], ['u32', 11 | (1 << 16)], ['u32', 0], ['u32', 2], ['u32', 0], ['u32', 1], ['u64', 0], ['u64', 0x1000]]);
    expect(call({ nr: nr(17), path: PATH.device, entry: dmabuf, ret: 8 }).ret.newFd).toEqual({ fd: 8, kind: 'dmabuf' });
  });

  it('errnos: name, and the ioctl\'s own reason before the generic one', () => {
    const { call } = session();
    const ev = call({ nr: nr(2), arg: 3n, ret: 'ENODEV' });
    expect(ev.ret).toMatchObject({ value: -19, errno: 'ENODEV', meaning: 'no IOMMU backend accepts this type' });
    expect(call({ nr: nr(11), path: PATH.device, ret: 'ENOTTY' }).ret.meaning).toBe('the fd does not implement this ioctl: not a VFIO device, or its driver does not implement it?');
  });

  it('a family\'s reasons are added to each ioctl\'s own, after them: a device fd, an iommufd', () => {
    const { call } = session();
    expect(call({ nr: nr(11), path: PATH.device, ret: 'EINVAL' }).ret.meaning).toBe('the device cannot be reset; or a cdev fd not yet bound to an iommufd (every ioctl but BIND)');
    // GET_INFO: its own reason, then the family's.
    expect(call({ nr: nr(7), path: PATH.device, ret: 'EINVAL' }).ret.meaning).toMatch(/^argsz < 16; or a cdev fd not yet bound/);
    const unmap = call({ nr: 0x86, path: '/dev/iommu', entry: bytes(true, [['u32', 24], ['u32', 1], ['u64', 0], ['u64', 4096]]), ret: 'ENOENT' });
    expect(unmap.ret.meaning).toBe('no mapping covers the range (QEMU treats this as success); or an id or IOVA does not exist');
  });

  it('EEH errnos are explained by the op that failed, as the kernel returns them', () => {
    const { call } = session('ppc64');
    const op = (n: number) => bytes(false, [['u32', 12], ['u32', 0], ['u32', n]]);
    const why = (n: number, errno: string) => call({ nr: nr(21), entry: op(n), ret: errno }).ret.meaning;
    expect(why(1, 'EIO')).toMatch(/EEH is globally disabled/);
    for (const reset of [5, 6, 7]) {
      expect(why(reset, 'EIO')).not.toMatch(/ENABLE|globally disabled/);
      expect(why(reset, 'EIO')).toMatch(/reset/);
      expect(why(reset, 'ENOENT')).toMatch(/no PE reset operation/);
    }
    expect(why(2, 'EIO')).toMatch(/thaw|unfreeze/i);
    expect(why(4, 'ENOENT')).toMatch(/no PE state operation/);
    expect(why(9, 'ENOENT')).toMatch(/no error injection/);
    expect(why(9, 'EINVAL')).toMatch(/err\.func/);
    // Op-independent reasons stay.
    expect(why(6, 'ENODEV')).toBe('no EEH PE for a group in the container');
  });

  it('the text line never repeats the errno message in its reason', async () => {
    const { TextRenderer } = await import('../../src/render/text.js');
    const { errnoMessage } = await import('../../src/render/names.js');
    const r = new TextRenderer(null, { findings: 'none' });
    const line = (ret: string) => r.render(session().call({ nr: nr(0), ret }));
    expect(line('ENOSYS')).toMatch(/= -1 ENOSYS \(Function not implemented\)\n$/);
    expect(line('EINVAL')).not.toMatch(/invalid argument: invalid argument/i);
    for (const e of ['EINVAL', 'EPERM', 'EACCES', 'EBUSY', 'ENODEV', 'ENXIO', 'ENOMEM', 'ENOSPC', 'ENOENT', 'EEXIST', 'EIO', 'EINTR', 'EAGAIN', 'EBADF', 'EFAULT']) {
      const m = /\((.*)\)\n$/.exec(line(e))?.[1] ?? '';
      const msg = errnoMessage(e) ?? '';
      const [, reason = ''] = m.split(`${msg}: `);
      const firstWords = (t: string) => t.toLowerCase().split(/[^a-z]+/).filter(Boolean).slice(0, 2).join(' ');
      expect(firstWords(reason), `${e}: ${m}`).not.toBe(firstWords(msg));
    }
  });

  it('an unsigned long argument is shown unsigned, as the kernel reads it', () => {
    const { call } = session();
    expect(call({ nr: nr(1), arg: 0xffff_ffff_ffff_ffffn, ret: 0 }).argDisplay).toBe('0xffffffffffffffff');
    expect(call({ nr: nr(2), arg: 0x8000_0000_0000_0003n, ret: 'EINVAL' }).argDisplay).toBe('0x8000000000000003');
    expect(call({ nr: nr(1), arg: 5n, ret: 1 }).argDisplay).toBe('VFIO_EEH');
  });

  it('GET_DEVICE_FD with a NULL name shows NULL, and the bad-pointer finding agrees with the errno returned', () => {
    const { call } = session();
    const nul = call({ nr: nr(6), path: PATH.group, arg: 0n, entry: new Uint8Array(0), inFault: 0, flags: IOCTL_FLAG.IN_FAULT, ret: 'EINVAL' });
    expect(nul.in?.display).toBe('NULL');
    const bad = nul.findings.find((f) => f.rule === 'bad-pointer');
    expect(bad?.message).toMatch(/EINVAL/);
    expect(bad?.message).not.toMatch(/EFAULT/);
    const efault = call({ nr: nr(6), path: PATH.group, arg: 0x10n, entry: new Uint8Array(0), inFault: 0, flags: IOCTL_FLAG.IN_FAULT, ret: 'EFAULT' });
    expect(efault.in?.display).toBe('0x10');
    expect(efault.findings.find((f) => f.rule === 'bad-pointer')?.message).toMatch(/EFAULT/);
  });

  it('a call that never returned', () => {
    const ev = session().call({ nr: nr(0), flags: IOCTL_FLAG.NO_EXIT, ret: 0 });
    expect(ev.incomplete).toBe(true);
    expect(ev.dur).toBeNull();
    expect(ev.ret.errno).toBeNull();
  });

  it('errno numbering per architecture (powerpc EDEADLOCK)', () => {
    expect(errnoName(58, 'powerpc')).toBe('EDEADLOCK');
    expect(errnoName(58, 'generic')).toBeNull();
    expect(errnoName(35, 'generic')).toBe('EDEADLK');
    expect(errnoNumber('EDEADLOCK', 'generic')).toBe(35);
    expect(errnoName(41, 'generic')).toBeNull();
    expect(errnoName(133, 'generic')).toBe('EHWPOISON');
    expect(errnoName(512, 'generic')).toBe('ERESTARTSYS');
    expect(session('ppc64').call({ nr: nr(0), ret: -58 }).ret.errno).toBe('EDEADLOCK');
    expect(session('x86_64').call({ nr: nr(0), ret: -58 }).ret.errno).toBe('E?58');
  });
});

describe('unsupported ABIs', () => {
  it('i386 (ILP32): names and returns, but no struct layouts', () => {
    const ev = session('i386').call({ nr: nr(21), entry: bytes(true, [['u32', 12], ['u32', 0], ['u32', 4]]), ret: 2 });
    expect(ev.ioctl).toBe('VFIO_EEH_PE_OP');
    expect(ev.in).toBeNull();
    expect(ev.findings.map((f) => f.rule)).toContain('abi-unsupported');
  });
});
