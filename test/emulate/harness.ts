// Drives the emulated kernel model directly: builds argument bytes from the
// decoders' descriptions, applies the verdict's writes to a fake memory
// buffer, and reads the result back by field name.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StructType } from '../../src/decode/dsl.js';
import type { Backend, IoctlDesc } from '../../src/decode/ioctlDesc.js';
import { StructBuf, encodeStruct } from '../../src/emulate/encode.js';
import { E } from '../../src/emulate/errno.js';
import { EmulatedKernel } from '../../src/emulate/kernel.js';
import { registry } from '../../decoders/index.js';
import type { EehRule } from '../../src/emulate/eehScript.js';
import type { Profile } from '../../src/emulate/profile.js';
import type { Verdict } from '../../src/emulate/types.js';

export const PID = 4242;
const ARG = 0x10000n;

export function descOf(name: string, backend?: Backend): IoctlDesc {
  const all = registry().ioctls.filter((d) => d.name === name);
  const d = (backend ? all.find((x) => x.backends === 'any' || x.backends.includes(backend)) : undefined) ?? all[0];
  if (!d) throw new Error(`no ioctl ${name}`);
  return d;
}

export const errno = (name: keyof typeof E): number => -E[name];

export interface Result {
  ret: number;
  verdict: Verdict;
  /** The argument buffer after the call (entry bytes + the verdict's writes). */
  out: StructBuf | null;
  mem: Uint8Array;
}

export type Args = Record<string, number | bigint> | Uint8Array | string | number | bigint | undefined;

export class Harness {
  readonly k: EmulatedKernel;
  readonly paths = new Map<number, string>();
  /** Eventfds the kernel signalled (the loopback trigger), in order. */
  readonly fired: number[] = [];
  /** The client's memory behind pointers in arguments, by address (readMemory). */
  readonly memory = new Map<bigint, Uint8Array>();
  private readonly dir: string;

  constructor(profile: Profile, eeh: EehRule[] = [], more: Profile[] = []) {
    this.dir = mkdtempSync(join(tmpdir(), 'vft-emu-test-'));
    this.k = new EmulatedKernel({
      profile,
      more,
      eeh,
      backingDir: this.dir,
      fdPath: (_pid, fd) => this.paths.get(fd) ?? null,
      fdList: () => [...this.paths.keys()],
      mappedList: () => [],
      signalEventfd: (_pid, fd) => this.fired.push(fd),
      readMemory: (_pid, addr, len) => {
        for (const [base, b] of this.memory) {
          const at = Number(addr - base);
          if (addr >= base && at + len <= b.length) return b.subarray(at, at + len);
        }
        return null;
      },
    });
  }

  open(fd: number, path: string): number {
    this.paths.set(fd, path);
    return fd;
  }

  /** Opens the standard trio: container 3, group 4 (attached, IOMMU set when `type` given). */
  setup(type?: number): { container: number; group: number } {
    const container = this.open(3, '/dev/vfio/vfio');
    const group = this.open(4, `/dev/vfio/${this.k.profile.group}`);
    this.call(group, 'VFIO_GROUP_SET_CONTAINER', container);
    if (type !== undefined) this.call(container, 'VFIO_SET_IOMMU', BigInt(type));
    return { container, group };
  }

  /** GET_DEVICE_FD, then opens the backing file as fd 5 (what the rewritten openat does). */
  device(group = 4): number {
    const r = this.call(group, 'VFIO_GROUP_GET_DEVICE_FD', this.k.profile.address);
    if (r.verdict.action !== 'openat') throw new Error(`GET_DEVICE_FD gave ${JSON.stringify(r.verdict)}`);
    return this.open(5, r.verdict.path);
  }

  backendOf(fd: number): Backend | undefined {
    const path = this.paths.get(fd);
    if (path !== '/dev/vfio/vfio') return undefined;
    return this.k.containerOf(PID, fd)?.backendName() ?? undefined;
  }

  /**
   * One ioctl. Struct args: field values (argsz defaults to sizeof; `size`
   * sets the buffer length). Integers: the third argument. Strings: C string.
   */
  call(fd: number, name: string, args?: Args, o: { size?: number; request?: number; fault?: number } = {}): Result {
    const d = descOf(name, this.backendOf(fd));
    const request = o.request ?? (0x3b00 | d.nr);
    let entry: Uint8Array = new Uint8Array(0);
    let arg = ARG;
    if (typeof args === 'number' || typeof args === 'bigint') {
      if (d.arg.kind === 'fdptr') entry = new Uint8Array(new Int32Array([Number(args)]).buffer);
      else arg = BigInt(args);
    } else if (typeof args === 'string') entry = new Uint8Array(Buffer.from(args, 'latin1'));
    else if (args instanceof Uint8Array) entry = args;
    else if (d.arg.kind === 'struct') {
      const t = d.arg.type;
      const size = o.size ?? t.size;
      // The capture rule reads max(argsz, minsz), like the kernel's copy_from_user.
      entry = encodeStruct(t, { [d.sizeField ?? 'argsz']: size, ...(args ?? {}) }, true, Math.max(size, d.minsz));
    }
    const v = this.k.handle({ pid: PID, tid: PID, fd, fdPath: this.paths.get(fd) ?? '', request, arg, entry, inFault: o.fault ?? null });
    const mem = entry.slice();
    let grown = mem;
    if (v.action === 'return') {
      for (const w of v.writes) {
        const at = Number(w.addr - ARG);
        if (at + w.bytes.length > grown.length) {
          const g = new Uint8Array(at + w.bytes.length);
          g.set(grown);
          grown = g;
        }
        grown.set(w.bytes, at);
      }
    }
    const out = d.arg.kind === 'struct' ? new StructBuf(d.arg.type as StructType, grown, true) : null;
    return { ret: v.action === 'return' ? v.ret : NaN, verdict: v, out, mem: grown };
  }

  dispose(): void {
    this.k.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
