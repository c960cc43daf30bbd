// ENOTTY's explanation depends on the ioctl and on how the fd's kind is
// known: the sandbox's regular files at /dev/vfio/* answer ENOTTY to every
// VFIO ioctl, and the line must not blame the wrong thing.

import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { TextRenderer } from '../../src/render/text.js';
import { header, nr, PATH, record, session } from './helpers.js';
import { registry } from '../../decoders/index.js';

describe('ENOTTY explanations', () => {
  it('a core container ioctl on a path-named container: probably not a container', () => {
    const { call } = session();
    const ev = call({ nr: nr(0), path: PATH.container, arg: 0n, ret: 'ENOTTY' });
    expect(ev.ioctl).toBe('VFIO_GET_API_VERSION');
    expect(ev.ret.meaning).toBe('the fd does not implement this ioctl: not a VFIO container?');
    const line = new TextRenderer(null).render(ev);
    expect(line).toBe('ioctl(3</dev/vfio/vfio>, VFIO_GET_API_VERSION, 0) = -1 ENOTTY (Inappropriate ioctl for device: the fd does not implement this ioctl: not a VFIO container?)\n');
  });

  it('a backend ioctl on a container also names the backend', () => {
    const { call } = session();
    const map = new Uint8Array(32);
    map[0] = 32;
    expect(call({ nr: nr(13), entry: map, ret: 'ENOTTY' }).ret.meaning).toBe('the fd does not implement this ioctl: not a VFIO container, or its IOMMU backend does not serve it?');
  });

  it('a device fd handed out by GET_DEVICE_FD is a device: only its driver is left to blame', () => {
    const { call } = session();
    call({ nr: nr(6), path: PATH.group, fd: 4, entry: new TextEncoder().encode('0000:06:0d.0'), ret: 5 });
    const ev = call({ nr: nr(7), fd: 5, path: PATH.deviceAnon, entry: new Uint8Array(24).fill(0).map((_, k) => (k === 0 ? 24 : 0)), ret: 'ENOTTY' });
    expect(ev.fdKind).toBe('device');
    expect(ev.ret.meaning).toBe('the fd does not implement this ioctl: its driver does not implement it');
  });

  it('an ioctl of another fd kind says which kind it is for', () => {
    const { call } = session();
    expect(call({ nr: nr(0), path: PATH.group, ret: 'ENOTTY' }).ret.meaning).toMatch(/^not an ioctl of a VFIO group \(it is for a VFIO container/);
  });

  it('an fd of unknown kind, and an unknown number', () => {
    const { call } = session();
    expect(call({ nr: nr(0), path: '/tmp/x', ret: 'ENOTTY' }).ret.meaning).toMatch(/^the fd does not implement this ioctl \(it is for a VFIO container/);
    const unknown = call({ nr: 0x99, path: PATH.container, arg: 0n, ret: 'ENOTTY' });
    expect(unknown.ret.meaning).toBe('');
    expect(new TextRenderer(null).render(unknown)).toBe('ioctl(3</dev/vfio/vfio>, 0x3b99, 0x0) = -1 ENOTTY (Inappropriate ioctl for device)\n');
  });

  it("the ioctl's own reason still comes first", () => {
    const dec = createDecoder(header('ppc64le'), { registry: registry() });
    const e = new Uint8Array(12);
    e[0] = 12;
    const ev = dec.decode(record('ppc64le', { nr: nr(21), entry: e, ret: 'ENOTTY' }));
    expect(ev.kind === 'ioctl' && ev.ret.meaning).toBe('the container has no sPAPR TCE backend');
  });
});
