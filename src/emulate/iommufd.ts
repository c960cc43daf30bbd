// One open file of /dev/iommu: its object table (IOAS, HWPT, bound devices,
// ids from 1, the lowest free one reused, as the kernel's xarray does) and
// its commands. Every command starts with the kernel's prologue: the u32
// `size` read first, at least the command's minimum size, bytes past the
// struct the kernel knows all zero; a reply copies back min(size, sizeof).

import { encodeStruct, locate, StructBuf } from './encode.js';
import { fail } from './errno.js';
import { CallCtx } from './ctx.js';
import { Ioas, ULONG_MAX, type IommuGeometry, type IovaRange } from './ioas.js';
import type { KernelVersion } from './profile.js';
import { handleVfioCompat, type CompatHost } from './iommufdCompat.js';
import { PGSIZES } from './type1.js';
import { ret, type MemWrite, type Verdict } from './types.js';
import { ioctlTable, type IoctlTable } from '../model/ioctlName.js';
import {
  IOMMU_HW_INFO_TYPE_NONE, IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE, IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET, IOMMU_OPTION_OP_SET, IOMMU_OPTION_RLIMIT_MODE, IOMMU_VFIO_IOAS_CLEAR, IOMMU_VFIO_IOAS_GET, IOMMU_VFIO_IOAS_SET,
  iommu_iova_range, iommufd,
} from '../../decoders/iommufd.js';

/** The last iommufd command each described kernel knows (6.1 has none). */
const LAST_CMD: Readonly<Record<KernelVersion, number>> = { '6.1': 0, '6.12': iommufdNr('IOMMU_FAULT_QUEUE_ALLOC') };

function iommufdNr(name: (typeof iommufd)['ioctls'][number]['name']): number {
  const d = iommufd.ioctls.find((x) => x.name === name);
  if (!d) throw new Error(`no description for ${name}`);
  return d.nr;
}
const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
const PROT = IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
const RANGE_SIZE = iommu_iova_range.size;

/** A paging HWPT: a domain of one IOAS. `auto` ones are made by attaching to an IOAS and go with their last device. */
export class Hwpt {
  readonly devices = new Set<BoundDevice>();
  constructor(
    readonly id: number,
    readonly ioas: Ioas,
    readonly auto: boolean,
  ) {}
}

/** A device bound to this iommufd by VFIO_DEVICE_BIND_IOMMUFD (its devid is an object id). */
export class BoundDevice {
  hwpt: Hwpt | null = null;
  constructor(
    readonly id: number,
    readonly ctx: IommufdCtx,
  ) {}
}

type IommufdObject = Ioas | Hwpt | BoundDevice;

/** Reads the traced process's memory (null when unreadable). */
export type MemReader = (pid: number, addr: bigint, len: number) => Uint8Array | null;

/** An iommufd command, given its struct once the prologue passed. */
type IommufdCall = (ctx: IommufdCtx, c: CallCtx, a: StructBuf) => Verdict;

export class IommufdCtx implements CompatHost {
  /**
   * The commands the context answers; any other is EOPNOTSUPP (nested
   * invalidation, fault queues and the rest need IOMMU features the emulated
   * one lacks). The VFIO calls are iommufdCompat.ts's.
   */
  static readonly calls: IoctlTable<IommufdCall> = ioctlTable<IommufdCall>({
    IOMMU_DESTROY: (ctx, _c, a) => ret(ctx.destroy(a.num('id'))),
    IOMMU_IOAS_ALLOC: (ctx, c, a) => {
      if (a.num('flags') !== 0) return ret(fail('EOPNOTSUPP'));
      a.set('out_ioas_id', ctx.alloc((id) => new Ioas(id, ctx.geometry)).id);
      return respond(c, a);
    },
    IOMMU_IOAS_IOVA_RANGES: (ctx, c, a) => ctx.iovaRanges(c, a),
    IOMMU_IOAS_ALLOW_IOVAS: (ctx, c, a) => ctx.allowIovas(c, a),
    IOMMU_IOAS_MAP: (ctx, c, a) => ctx.map(c, a),
    IOMMU_IOAS_COPY: (ctx, c, a) => ctx.copy(c, a),
    IOMMU_IOAS_UNMAP: (ctx, c, a) => ctx.unmap(c, a),
    IOMMU_OPTION: (ctx, c, a) => ctx.option(c, a),
    IOMMU_VFIO_IOAS: (ctx, c, a) => ctx.vfioIoasCmd(c, a),
    IOMMU_HWPT_ALLOC: (ctx, c, a) => ctx.hwptAlloc(c, a),
    IOMMU_GET_HW_INFO: (ctx, c, a) => ctx.hwInfo(c, a),
    IOMMU_HWPT_SET_DIRTY_TRACKING: (ctx, _c, a) => ctx.dirtyTracking(a),
    IOMMU_HWPT_GET_DIRTY_BITMAP: (ctx, _c, a) => ctx.dirtyTracking(a),
  });

  readonly pgsizes = PGSIZES;
  private readonly objects = new Map<number, IommufdObject>();
  private vfioIoas: Ioas | null = null;
  private rlimitMm = false;

  constructor(
    private readonly geometry: IommuGeometry,
    private readonly kernel: KernelVersion,
    private readonly readMemory: MemReader,
  ) {}

  private alloc<T extends IommufdObject>(make: (id: number) => T): T {
    let id = 1;
    while (this.objects.has(id)) id++;
    const o = make(id);
    this.objects.set(id, o);
    return o;
  }

  private ioas(id: number): Ioas | null {
    const o = this.objects.get(id);
    return o instanceof Ioas ? o : null;
  }

  bind(): BoundDevice {
    return this.alloc((id) => new BoundDevice(id, this));
  }

  /** The cdev file went (or unbound): detach, then the device object goes. */
  unbind(d: BoundDevice): void {
    this.detach(d);
    this.objects.delete(d.id);
  }

  /**
   * Attaches a bound device to an IOAS (through an automatic HWPT, shared by
   * the IOAS's devices) or to a paging HWPT. Replaces an earlier attach.
   * Returns the HWPT id or a -errno.
   */
  attach(d: BoundDevice, ptId: number): number {
    const pt = this.objects.get(ptId);
    if (pt === undefined) return fail('ENOENT');
    let hwpt: Hwpt;
    if (pt instanceof Hwpt) hwpt = pt;
    else if (pt instanceof Ioas) {
      const shared = [...this.objects.values()].find((o): o is Hwpt => o instanceof Hwpt && o.auto && o.ioas === pt);
      if (shared) hwpt = shared;
      else {
        const made = this.alloc((id) => new Hwpt(id, pt, true));
        const err = pt.addDomain(made);
        if (err) {
          this.objects.delete(made.id);
          return err;
        }
        hwpt = made;
      }
    } else return fail('EINVAL');
    if (d.hwpt !== hwpt) {
      const err = hwpt.ioas.addDevice();
      if (err) {
        if (hwpt.auto && hwpt.devices.size === 0) this.dropHwpt(hwpt);
        return err;
      }
      this.detach(d);
      hwpt.devices.add(d);
      d.hwpt = hwpt;
    }
    return hwpt.id;
  }

  detach(d: BoundDevice): void {
    const h = d.hwpt;
    if (!h) return;
    h.devices.delete(d);
    d.hwpt = null;
    h.ioas.removeDevice();
    if (h.auto && h.devices.size === 0) this.dropHwpt(h);
  }

  private dropHwpt(h: Hwpt): void {
    h.ioas.removeDomain(h);
    this.objects.delete(h.id);
  }

  /** The IOAS the VFIO compat calls act on (IOMMU_VFIO_IOAS), while it exists. */
  compatIoas(): Ioas | null {
    return this.vfioIoas !== null && this.objects.get(this.vfioIoas.id) === this.vfioIoas ? this.vfioIoas : null;
  }

  /** A group set to this iommufd: the compat IOAS, made on first need. */
  ensureCompatIoas(): Ioas {
    this.vfioIoas = this.compatIoas() ?? this.alloc((id) => new Ioas(id, this.geometry));
    return this.vfioIoas;
  }

  handle(c: CallCtx): Verdict {
    // Below IOMMUFD_CMD_BASE: the VFIO container ioctls, in compatibility mode.
    if (c.desc.family !== 'iommufd') return handleVfioCompat(this, c);
    if (c.desc.nr > LAST_CMD[this.kernel]) return ret(fail('ENOTTY'));
    const a = prologue(c);
    if (!(a instanceof StructBuf)) return a;
    const h = IommufdCtx.calls.get(c.name);
    return h ? h(this, c, a) : ret(fail('EOPNOTSUPP'));
  }

  /** SET_DIRTY_TRACKING and GET_DIRTY_BITMAP: no emulated HWPT was allocated with dirty tracking. */
  private dirtyTracking(a: StructBuf): Verdict {
    return ret(this.objects.get(a.num('hwpt_id')) instanceof Hwpt ? fail('EOPNOTSUPP') : fail('ENOENT'));
  }

  private destroy(id: number): number {
    const o = this.objects.get(id);
    if (o === undefined) return fail('ENOENT');
    // Users keep an object: HWPTs their IOAS, devices their HWPT, VFIO its bound devices.
    if (o instanceof BoundDevice) return fail('EBUSY');
    if (o instanceof Hwpt && o.devices.size > 0) return fail('EBUSY');
    if (o instanceof Ioas && [...this.objects.values()].some((h) => h instanceof Hwpt && h.ioas === o)) return fail('EBUSY');
    if (o instanceof Hwpt) o.ioas.removeDomain(o);
    if (o === this.vfioIoas) this.vfioIoas = null;
    this.objects.delete(id);
    return 0;
  }

  private iovaRanges(c: CallCtx, a: StructBuf): Verdict {
    if (a.num('__reserved') !== 0) return ret(fail('EOPNOTSUPP'));
    const ioas = this.ioas(a.num('ioas_id'));
    if (!ioas) return ret(fail('ENOENT'));
    const room = a.num('num_iovas');
    const ranges = ioas.iovaRanges();
    const base = a.get('allowed_iovas');
    const writes: MemWrite[] = ranges.slice(0, room).map((r, k) => ({ addr: base + BigInt(k * RANGE_SIZE), bytes: rangeBytes(r, c.le) }));
    a.set('num_iovas', ranges.length).set('out_iova_alignment', ioas.alignment());
    const reply = respond(c, a);
    if (reply.action !== 'return') return reply;
    return ret(ranges.length > room ? fail('EMSGSIZE') : 0, [...writes, ...reply.writes]);
  }

  private allowIovas(c: CallCtx, a: StructBuf): Verdict {
    if (a.num('__reserved') !== 0) return ret(fail('EOPNOTSUPP'));
    const ioas = this.ioas(a.num('ioas_id'));
    if (!ioas) return ret(fail('ENOENT'));
    // Read and checked one range at a time, as the kernel does: a bad range
    // is EINVAL before a later unreadable one, and a huge count costs nothing.
    const n = a.num('num_iovas');
    const ranges: IovaRange[] = [];
    for (let k = 0; k < n; k++) {
      const bytes = this.readMemory(c.call.pid, a.get('allowed_iovas') + BigInt(k * RANGE_SIZE), RANGE_SIZE);
      if (!bytes) return ret(fail('EFAULT'));
      const e = new StructBuf(iommu_iova_range, bytes, c.le);
      const r = { start: e.get('start'), last: e.get('last') };
      if (r.start >= r.last || ranges.some((o) => o.start <= r.last && r.start <= o.last)) return ret(fail('EINVAL'));
      ranges.push(r);
    }
    return ret(ioas.allow(ranges));
  }

  /** Checks shared by MAP and COPY, in the kernel's order. */
  private mapChecks(flags: number, values: bigint[]): number {
    if (flags & ~MAP_FLAGS) return fail('EOPNOTSUPP');
    if (values.some((v) => v >= ULONG_MAX)) return fail('EOVERFLOW');
    if (!(flags & PROT)) return fail('EINVAL');
    return 0;
  }

  private map(c: CallCtx, a: StructBuf): Verdict {
    const flags = a.num('flags');
    if (a.num('__reserved') !== 0) return ret(fail('EOPNOTSUPP'));
    const err = this.mapChecks(flags, [a.get('iova'), a.get('length')]);
    if (err) return ret(err);
    const ioas = this.ioas(a.num('ioas_id'));
    if (!ioas) return ret(fail('ENOENT'));
    const uptr = a.get('user_va');
    const length = a.get('length');
    if (length === 0n) return ret(fail('EINVAL'));
    if (uptr + length > ULONG_MAX) return ret(fail('EOVERFLOW'));
    const at = ioas.map([{ vaddr: uptr, length }], flags & IOMMU_IOAS_MAP_FIXED_IOVA ? a.get('iova') : null, flags);
    if (typeof at === 'number') return ret(at);
    return respond(c, a.set('iova', at));
  }

  private copy(c: CallCtx, a: StructBuf): Verdict {
    const flags = a.num('flags');
    const length = a.get('length');
    const err = this.mapChecks(flags, [length, a.get('src_iova'), a.get('dst_iova')]);
    if (err) return ret(err);
    const src = this.ioas(a.num('src_ioas_id'));
    if (!src) return ret(fail('ENOENT'));
    if (length === 0n) return ret(fail('EINVAL'));
    const srcIova = a.get('src_iova');
    if (srcIova + length - 1n > ULONG_MAX) return ret(fail('EOVERFLOW'));
    const pieces = src.pieces(srcIova, length);
    if (!pieces) return ret(fail('ENOENT'));
    const dst = this.ioas(a.num('dst_ioas_id'));
    if (!dst) return ret(fail('ENOENT'));
    const at = dst.map(pieces, flags & IOMMU_IOAS_MAP_FIXED_IOVA ? a.get('dst_iova') : null, flags);
    if (typeof at === 'number') return ret(at);
    return respond(c, a.set('dst_iova', at));
  }

  private unmap(c: CallCtx, a: StructBuf): Verdict {
    const ioas = this.ioas(a.num('ioas_id'));
    if (!ioas) return ret(fail('ENOENT'));
    const iova = a.get('iova');
    const length = a.get('length');
    let removed: bigint;
    if (iova === 0n && length === ULONG_MAX) {
      removed = ioas.unmap(0n, ULONG_MAX).removed;
    } else {
      if (iova >= ULONG_MAX || length >= ULONG_MAX) return ret(fail('EOVERFLOW'));
      if (length === 0n) return ret(fail('EINVAL'));
      if (iova + length - 1n > ULONG_MAX) return ret(fail('EOVERFLOW'));
      const r = ioas.unmap(iova, iova + length - 1n);
      if (r.err) return ret(r.err);
      removed = r.removed;
    }
    return respond(c, a.set('length', removed));
  }

  private option(c: CallCtx, a: StructBuf): Verdict {
    if (a.num('__reserved') !== 0) return ret(fail('EOPNOTSUPP'));
    const op = a.num('op');
    const val = a.get('val64');
    let err = 0;
    switch (a.num('option_id')) {
      case IOMMU_OPTION_RLIMIT_MODE:
        if (a.num('object_id') !== 0) return ret(fail('EOPNOTSUPP'));
        if (op === IOMMU_OPTION_OP_GET) a.set('val64', this.rlimitMm ? 1 : 0);
        else if (op !== IOMMU_OPTION_OP_SET) err = fail('EOPNOTSUPP');
        else if (this.objects.size > 0) err = fail('EBUSY');
        else if (val > 1n) err = fail('EINVAL');
        else this.rlimitMm = val === 1n;
        break;
      case IOMMU_OPTION_HUGE_PAGES: {
        const ioas = this.ioas(a.num('object_id'));
        if (!ioas) return ret(fail('ENOENT'));
        if (op === IOMMU_OPTION_OP_GET) a.set('val64', ioas.hugePages ? 1 : 0);
        else if (op !== IOMMU_OPTION_OP_SET) err = fail('EOPNOTSUPP');
        else if (val > 1n) err = fail('EINVAL');
        else err = ioas.setHugePages(val === 1n);
        break;
      }
      default:
        return ret(fail('EOPNOTSUPP'));
    }
    if (err) return ret(err);
    // Only val64 is copied back.
    const off = locate(a.type, 'val64').offset;
    return ret(0, [{ addr: c.call.arg + BigInt(off), bytes: a.bytes.slice(off, off + 8) }]);
  }

  /** IOMMU_VFIO_IOAS: which IOAS a legacy container on this iommufd would use. */
  private vfioIoasCmd(c: CallCtx, a: StructBuf): Verdict {
    if (a.num('__reserved') !== 0) return ret(fail('EOPNOTSUPP'));
    switch (a.num('op')) {
      case IOMMU_VFIO_IOAS_GET:
      {
        const ioas = this.compatIoas();
        if (!ioas) return ret(fail('ENODEV'));
        return respond(c, a.set('ioas_id', ioas.id));
      }
      case IOMMU_VFIO_IOAS_SET: {
        const ioas = this.ioas(a.num('ioas_id'));
        if (!ioas) return ret(fail('ENOENT'));
        this.vfioIoas = ioas;
        return ret(0);
      }
      case IOMMU_VFIO_IOAS_CLEAR:
        this.vfioIoas = null;
        return ret(0);
      default:
        return ret(fail('EOPNOTSUPP'));
    }
  }

  private hwptAlloc(c: CallCtx, a: StructBuf): Verdict {
    if (a.num('__reserved') !== 0) return ret(fail('EOPNOTSUPP'));
    if ((a.num('data_type') === 0) !== (a.num('data_len') === 0)) return ret(fail('EINVAL'));
    if (!(this.objects.get(a.num('dev_id')) instanceof BoundDevice)) return ret(fail('ENOENT'));
    const pt = this.objects.get(a.num('pt_id'));
    // Nesting, dirty tracking, faults and PASID need IOMMU features the emulated one lacks.
    if (pt instanceof Hwpt) return ret(fail('EOPNOTSUPP'));
    if (!(pt instanceof Ioas)) return ret(fail('EINVAL'));
    if (a.num('flags') !== 0 || a.num('data_type') !== 0) return ret(fail('EOPNOTSUPP'));
    const hwpt = this.alloc((id) => new Hwpt(id, pt, false));
    const err = pt.addDomain(hwpt);
    if (err) {
      this.objects.delete(hwpt.id);
      return ret(err);
    }
    return respond(c, a.set('out_hwpt_id', hwpt.id));
  }

  /** The emulated IOMMU driver reports no driver-specific data (as one without hw_info). */
  private hwInfo(c: CallCtx, a: StructBuf): Verdict {
    // 6.12's u32 __reserved is where newer headers put out_max_pasid_log2 and __reserved[3].
    const rsvAt = locate(a.type, 'out_max_pasid_log2').offset;
    if (a.num('flags') !== 0 || a.bytes.subarray(rsvAt, rsvAt + 4).some((b) => b !== 0)) return ret(fail('EOPNOTSUPP'));
    if (!(this.objects.get(a.num('dev_id')) instanceof BoundDevice)) return ret(fail('ENOENT'));
    a.set('data_len', 0).set('out_data_type', IOMMU_HW_INFO_TYPE_NONE).set('out_capabilities', 0).set('out_max_pasid_log2', 0);
    return respond(c, a);
  }

  /** The file went: every object goes with it. */
  dispose(): void {
    this.objects.clear();
    this.vfioIoas = null;
  }

  get objectCount(): number {
    return this.objects.size;
  }
}

/**
 * get_user(size), size ≥ min_size, then copy_struct_from_user: the struct
 * zero-extended to the kernel's size, E2BIG if the caller's bytes past it
 * are not all zero.
 */
function prologue(c: CallCtx): StructBuf | Verdict {
  const e = c.call.entry;
  const t = c.structType();
  if (c.readable() < 4) return ret(fail('EFAULT'));
  const size = new StructBuf(t, e, c.le).num('size');
  if (size < c.desc.minsz) return ret(fail('EINVAL'));
  if (c.readable() < Math.min(size, t.size)) return ret(fail('EFAULT'));
  for (let k = t.size; k < Math.min(size, c.readable()); k++) if (e[k] !== 0) return ret(fail('E2BIG'));
  const bytes = new Uint8Array(t.size);
  bytes.set(e.subarray(0, Math.min(size, t.size)));
  return new StructBuf(t, bytes, c.le);
}

/** iommufd_ucmd_respond: min(size, sizeof) bytes back. */
function respond(c: CallCtx, a: StructBuf): Verdict {
  return c.reply(0, a, Math.min(a.num('size'), a.type.size));
}

function rangeBytes(r: IovaRange, le: boolean): Uint8Array {
  return encodeStruct(iommu_iova_range, { start: r.start, last: r.last }, le);
}
