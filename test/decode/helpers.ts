// Building records and struct bytes for decoder tests.

import { IOCTL_FLAG, RuleKind, type IoctlRecord, type RecordingHeader } from '../../src/trace/events.js';
import { makeHeader } from '../../src/trace/writer.js';
import { createDecoder, type Decoder } from '../../src/decode/decoder.js';
import { encodeIo } from '../../src/decode/encoding.js';
import { errnoNumber, errnoFlavor } from '../../src/decode/errno.js';
import type { DecodedIoctl } from '../../src/decode/types.js';
import { registry } from '../../decoders/index.js';

export { IOCTL_FLAG };

export const PATH = {
  container: '/dev/vfio/vfio',
  group: '/dev/vfio/42',
  device: '/dev/vfio/devices/vfio0',
  deviceAnon: 'anon_inode:[vfio-device]',
  iommufd: '/dev/iommu',
} as const;

export function header(arch = 'x86_64'): RecordingHeader {
  return makeHeader({ arch });
}

/** Little/big-endian struct bytes from [type, value] pairs laid out back to back. */
export function bytes(le: boolean, parts: [('u8' | 'u16' | 'u32' | 's32' | 'u64'), number | bigint][]): Uint8Array {
  const size = parts.reduce((n, [t]) => n + (t === 'u8' ? 1 : t === 'u16' ? 2 : t === 'u64' ? 8 : 4), 0);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  let off = 0;
  for (const [t, v] of parts) {
    if (t === 'u8') dv.setUint8(off, Number(v));
    else if (t === 'u16') dv.setUint16(off, Number(v), le);
    else if (t === 'u32') dv.setUint32(off, Number(v) >>> 0, le);
    else if (t === 's32') dv.setInt32(off, Number(v), le);
    else dv.setBigUint64(off, BigInt(v), le);
    off += t === 'u8' ? 1 : t === 'u16' ? 2 : t === 'u64' ? 8 : 4;
  }
  return b;
}

export interface CallOpts {
  nr: number;
  fd?: number;
  path?: string;
  pid?: number;
  arg?: bigint;
  ret?: number | string;
  entry?: Uint8Array;
  exit?: Uint8Array;
  flags?: number;
  inFault?: number | null;
  wantLen?: number;
  request?: number;
}

let t = 1000n;

export function record(arch: string, o: CallOpts): IoctlRecord {
  const entry = o.entry ?? new Uint8Array(0);
  let ret = 0;
  if (typeof o.ret === 'string') ret = -(errnoNumber(o.ret, errnoFlavor(arch)) as number);
  else if (o.ret !== undefined) ret = o.ret;
  t += 100n;
  return {
    type: 'ioctl',
    offset: 0,
    flags: o.flags ?? 0,
    pid: o.pid ?? 100,
    tid: o.pid ?? 100,
    tEntry: t,
    tExit: t + 10n,
    fd: BigInt(o.fd ?? 3),
    request: BigInt(o.request ?? encodeIo(arch, o.nr)),
    arg: o.arg ?? 0x7ffd1000n,
    ret: BigInt(ret),
    wantLen: o.wantLen ?? entry.length,
    inFault: o.inFault ?? null,
    outFault: null,
    ruleKind: entry.length ? RuleKind.Sized : RuleKind.None,
    fdPath: o.path ?? PATH.container,
    entry,
    exit: o.exit ?? entry,
  };
}

/** A decoder plus a shorthand that decodes one call and returns the ioctl event. */
export function session(arch = 'x86_64'): { dec: Decoder; call: (o: CallOpts) => DecodedIoctl } {
  const dec = createDecoder(header(arch), { registry: registry() });
  return {
    dec,
    call: (o) => {
      const ev = dec.decode(record(arch, o));
      if (ev.kind !== 'ioctl') throw new Error('not an ioctl event');
      return ev;
    },
  };
}

export const nr = (n: number): number => 100 + n;
export const rules = (ev: DecodedIoctl): string[] => ev.findings.map((f) => f.rule);
