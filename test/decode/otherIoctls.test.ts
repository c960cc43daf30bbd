// --all-ioctls names common terminal and fd ioctls by each architecture's numbers.

import { describe, expect, it } from 'vitest';
import { otherIoctlName } from '../../decoders/otherIoctls.js';

describe('otherIoctlName', () => {
  it('uses the plain 0x54xx numbers on x86_64 and aarch64', () => {
    expect(otherIoctlName('x86_64', 0x5401)).toBe('TCGETS');
    expect(otherIoctlName('aarch64', 0x541b)).toBe('FIONREAD');
    expect(otherIoctlName('x86_64', 0x80045430)).toBe('TIOCGPTN');
  });

  it('uses the _IOR/_IOW encodings on powerpc, where 0x5401 means nothing', () => {
    expect(otherIoctlName('ppc64le', 0x402c7413)).toBe('TCGETS');
    expect(otherIoctlName('ppc64le', 0x4004667f)).toBe('FIONREAD');
    expect(otherIoctlName('ppc64le', 0x5401)).toBeNull();
    expect(otherIoctlName('ppc64le', 0x540c)).toBe('TIOCEXCL');
  });

  it('reads the request as the kernel does: the low 32 bits, unsigned', () => {
    expect(otherIoctlName('x86_64', 0xffffffff00005401n)).toBe('TCGETS');
    expect(otherIoctlName('x86_64', 0x3b64)).toBeNull();
  });
});
