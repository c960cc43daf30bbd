// `vfiotrace decode`: one ioctl from hex bytes, in-process.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/commands/decode.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

describe('vfiotrace decode', () => {
  it('decodes a big-endian EEH INJECT_ERR', async () => {
    const code = await run(['VFIO_EEH_PE_OP', '--fd-kind', 'container', '--arch', 'ppc64', '--in', '00000028 00000000 00000009 00000000 00000001 00000004 0000000000001000 00000000000000ff']);
    expect(code).toBe(0);
    expect(out).toContain('op = VFIO_EEH_PE_INJECT_ERR');
    expect(out).toContain('type = EEH_ERR_TYPE_64');
    expect(out).toContain('func = EEH_ERR_FUNC_LD_CFG_ADDR');
  });

  it('shows kernel-written fields, the return and findings; --ret takes errno names', async () => {
    await run(['VFIO_IOMMU_GET_INFO', '--fd-kind', 'container', '--iommu', 'type1', '--in', '18000000 00000000 0000000000000000 00000000 00000000', '--out', '74000000 03000000 00f0ffff00000000 00000000 00000000']);
    expect(out).toContain('flags = VFIO_IOMMU_INFO_PGSIZES|VFIO_IOMMU_INFO_CAPS');
    expect(out).toMatch(/caps-buffer-too-small/);
    out = '';
    await run(['VFIO_EEH_PE_OP', '--fd-kind', 'container', '--in', '08000000 01000000 01000000', '--ret', '-EINVAL']);
    expect(out).toMatch(/return -22 EINVAL — argsz < 12 or flags != 0/);
    expect(out).toMatch(/argsz-below-minsz/);
    expect(out).toMatch(/eeh-flags-nonzero/);
  });

  it('--json prints one JSON object', async () => {
    await run(['VFIO_DEVICE_FEATURE', '--fd-kind', 'device', '--in', '10000000 02000200 02000000 ffffffff', '--out', '10000000 02000200 03000000 07000000', '--json']);
    const j = JSON.parse(out) as { ioctl: string; out: { data: { device_state: number; data_fd: number } } };
    expect(j.ioctl).toBe('VFIO_DEVICE_FEATURE');
    expect(j.out.data).toEqual({ device_state: 3, data_fd: 7 });
    expect(out.trim().split('\n')).toHaveLength(1);
  });

  it('bad input gives a clear error and exit code 2', async () => {
    expect(await run(['VFIO_NOT_AN_IOCTL', '--fd-kind', 'device'])).toBe(2);
    expect(err).toMatch(/unknown ioctl/);
    expect(await run(['VFIO_EEH_PE_OP', '--fd-kind', 'container', '--in', 'zz'])).toBe(2);
    expect(err).toMatch(/not a hex byte string/);
    expect(await run(['VFIO_EEH_PE_OP', '--fd-kind', 'nonsense', '--in', '00'])).toBe(2);
  });

  it('names what is missing, the ioctl first', async () => {
    expect(await run([])).toBe(2);
    expect(err).toBe("vfiotrace decode: missing the IOCTL argument (e.g. VFIO_EEH_PE_OP); see vfiotrace decode --help\n");
    err = '';
    expect(await run(['VFIO_EEH_PE_OP'])).toBe(2);
    expect(err).toBe("vfiotrace decode: required option '--fd-kind <kind>' not specified\n");
  });

  it('takes the ioctl names -e takes: any case, VFIO_/IOMMU_ prefix optional', async () => {
    for (const name of ['eeh_pe_op', 'EEH_PE_OP', 'vfio_eeh_pe_op']) {
      out = '';
      expect(await run([name, '--fd-kind', 'container', '--in', '0c000000 00000000 04000000'])).toBe(0);
      expect(out).toMatch(/^VFIO_EEH_PE_OP on container fd/m);
    }
    expect(await run(['ioas_map', '--fd-kind', 'iommufd'])).toBe(0);
  });
});
