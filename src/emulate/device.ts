// The vfio-pci device fd: device/region/IRQ info, interrupt setup, resets and
// features. Region data itself never comes here: the fd is a real file (see
// backing.ts) and reads, writes and mmaps go straight to it.

import { fail } from './errno.js';
import { CallCtx, capsReply, isVerdict } from './ctx.js';
import { regionOffset, regionSizes, type BackingFile } from './backing.js';
import { flexElemSize, StructBuf } from './encode.js';
import { findCapability, PCI_CAP_ID } from './pciConfig.js';
import { splitAddress, type Profile } from './profile.js';
import { ret, type Verdict } from './types.js';
import type { FdLookup } from './group.js';
import { ioctlTable, isIoctl, type IoctlTable } from '../model/ioctlName.js';
import {
  VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_RESET, VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_NORESIZE, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_ERR_IRQ_INDEX,
  VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_REGIONS,
  VFIO_PCI_REQ_IRQ_INDEX, VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
  VFIO_REGION_INFO_FLAG_CAPS, VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
} from '../../decoders/device.js';
import {
  VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
  VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, VFIO_DEVICE_FEATURE_MASK, VFIO_DEVICE_FEATURE_PROBE, VFIO_DEVICE_FEATURE_SET,
} from '../../decoders/feature.js';
import {
  VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TYPE_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_TYPE_MASK,
} from '../../decoders/irqs.js';

type IrqType = 'none' | 'intx' | 'msi' | 'msix';

/** A call the device answers; `viaCdev`: the device was opened through its cdev. */
type DeviceCall = (d: Device, c: CallCtx, viaCdev: boolean) => Verdict;

export class Device {
  /** The calls the device answers; any other is refused (see handle). */
  static readonly calls: IoctlTable<DeviceCall> = ioctlTable<DeviceCall>({
    VFIO_DEVICE_GET_INFO: (d, c) => d.info(c),
    VFIO_DEVICE_GET_REGION_INFO: (d, c) => d.regionInfo(c),
    VFIO_DEVICE_GET_IRQ_INFO: (d, c) => d.irqInfo(c),
    VFIO_DEVICE_SET_IRQS: (d, c) => d.setIrqs(c),
    VFIO_DEVICE_RESET: (d) => {
      if (!d.profile.pci.reset) return ret(fail('EINVAL'));
      d.reset();
      return ret(0);
    },
    VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: (d, c) => d.hotResetInfo(c),
    VFIO_DEVICE_PCI_HOT_RESET: (d, c, viaCdev) => d.hotReset(c, viaCdev),
    VFIO_DEVICE_FEATURE: (d, c) => d.feature(c),
  });

  private irqType: IrqType = 'none';
  /** Per IRQ index: the eventfds set for each vector (-1: none). */
  readonly triggers: number[][] = [[], [], [], [], []];
  intxMasked = false;
  resets = 0;
  private inUse = false;
  private readonly sizes: bigint[];

  constructor(
    readonly profile: Profile,
    readonly backing: BackingFile,
    private readonly fds: FdLookup,
    /** Raises an interrupt: adds 1 to eventfd `fd` of process `pid` (none in unit tests). */
    private readonly signal: (pid: number, fd: number) => void = () => {},
  ) {
    this.sizes = regionSizes(profile);
  }

  /** The loopback trigger (DATA_NONE or DATA_BOOL with ACTION_TRIGGER): the
   * kernel signals the eventfd of each vector asked for (for BOOL, of each
   * vector whose byte is non-zero) that has one; vectors without one are
   * skipped. */
  private loopback(c: CallCtx, index: number, start: number, count: number, dataType: number): void {
    const fds = this.triggers[index] ?? [];
    const data = c.call.entry.subarray(c.desc.minsz);
    for (let k = 0; k < count; k++) {
      const fd = fds[start + k];
      if (fd === undefined || fd < 0) continue;
      if (dataType === VFIO_IRQ_SET_DATA_BOOL && !data[k]) continue;
      this.signal(c.call.pid, fd);
    }
  }

  /** `viaCdev`: the device was opened through its cdev (some answers differ from the group path's). */
  handle(c: CallCtx, viaCdev = false): Verdict {
    const h = Device.calls.get(c.name);
    if (h) return h(this, c, viaCdev);
    // A cdev-only ioctl on a group-path fd (BIND → EINVAL) or anything else.
    return ret(isIoctl(c.name, 'VFIO_DEVICE_BIND_IOMMUFD') ? fail('EINVAL') : fail('ENOTTY'));
  }

  private reset(): void {
    this.resets++;
    this.backing.resetConfig();
  }

  /** GET_DEVICE_FD gave the device to a client. */
  opened(): void {
    this.inUse = true;
  }

  /** The last reference to the device file went: vfio-pci disables its
   * interrupts and resets the function (its config space comes back). */
  closed(): void {
    if (!this.inUse) return;
    this.inUse = false;
    this.irqType = 'none';
    for (const t of this.triggers) t.length = 0;
    this.intxMasked = false;
    this.backing.resetConfig();
  }

  private info(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    a.set('flags', VFIO_DEVICE_FLAGS_PCI | (this.profile.pci.reset ? VFIO_DEVICE_FLAGS_RESET : 0))
      .set('num_regions', VFIO_PCI_NUM_REGIONS)
      .set('num_irqs', VFIO_PCI_NUM_IRQS)
      .set('cap_offset', 0);
    return c.reply(0, a, Math.min(a.num('argsz'), a.type.size));
  }

  private regionInfo(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    const index = a.num('index');
    // No VGA region on this function, and no device-specific regions.
    if (index >= VFIO_PCI_NUM_REGIONS || index === VFIO_PCI_VGA_REGION_INDEX) return ret(fail('EINVAL'));
    const size = this.sizes[index] ?? 0n;
    const bar = this.profile.pci.bars.find((b) => b.index === index);
    let flags = 0;
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    else if (index === VFIO_PCI_ROM_REGION_INDEX) flags = size > 0n ? VFIO_REGION_INFO_FLAG_READ : 0;
    else if (bar) flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | (bar.mmap ? VFIO_REGION_INFO_FLAG_MMAP : 0);
    a.set('flags', flags).set('size', size).set('offset', regionOffset(index)).set('cap_offset', 0);
    const caps = [];
    const msix = this.profile.pci.msix;
    // The MSI-X table may be mmapped (interrupt remapping isolates MSI): say so.
    if (msix && bar && bar.mmap && msix.tableBar === index) caps.push(c.cap(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, {}));
    return c.reply(0, capsReply(a, caps, VFIO_REGION_INFO_FLAG_CAPS, c.desc.minsz));
  }

  /** vfio-pci's IRQ count per index. */
  irqCount(index: number): number {
    const p = this.profile.pci;
    switch (index) {
      case VFIO_PCI_INTX_IRQ_INDEX:
        return p.intx ? 1 : 0;
      case VFIO_PCI_MSI_IRQ_INDEX:
        return p.msi;
      case VFIO_PCI_MSIX_IRQ_INDEX:
        return p.msix?.vectors ?? 0;
      case VFIO_PCI_ERR_IRQ_INDEX:
        return p.pcie ? 1 : 0;
      case VFIO_PCI_REQ_IRQ_INDEX:
        return 1;
      default:
        return 0;
    }
  }

  private irqInfo(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    const index = a.num('index');
    if (index >= VFIO_PCI_NUM_IRQS) return ret(fail('EINVAL'));
    if (index === VFIO_PCI_ERR_IRQ_INDEX && !this.profile.pci.pcie) return ret(fail('EINVAL'));
    let flags = VFIO_IRQ_INFO_EVENTFD;
    if (index === VFIO_PCI_INTX_IRQ_INDEX) flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    // 6.5+ can add vectors to an enabled MSI-X capability (dynamic MSI-X,
    // which x86 interrupt remapping supports): not NORESIZE when there is one.
    else if (index !== VFIO_PCI_MSIX_IRQ_INDEX || this.profile.kernel === '6.1' || !this.profile.pci.msix) flags |= VFIO_IRQ_INFO_NORESIZE;
    a.set('flags', flags).set('count', this.irqCount(index));
    return c.reply(0, a, c.desc.minsz);
  }

  private setIrqs(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    const flags = a.num('flags');
    const index = a.num('index');
    const start = a.num('start');
    const count = a.num('count');
    const U32_MAX = 0xffffffff;
    if (index >= VFIO_PCI_NUM_IRQS || count >= U32_MAX - start || flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) return ret(fail('EINVAL'));
    const max = this.irqCount(index);
    if (start >= max || start + count > max) return ret(fail('EINVAL'));
    const dataType = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    const elem = dataType === VFIO_IRQ_SET_DATA_NONE ? 0 : dataType === VFIO_IRQ_SET_DATA_BOOL ? 1 : dataType === VFIO_IRQ_SET_DATA_EVENTFD ? 4 : -1;
    if (elem < 0) return ret(fail('EINVAL'));
    const hdr = c.desc.minsz;
    if (elem > 0 && a.num('argsz') - hdr < count * elem) return ret(fail('EINVAL'));
    if (elem > 0 && c.readable() < hdr + count * elem) return ret(fail('EFAULT'));
    const action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    const TRIGGER = VFIO_IRQ_SET_ACTION_TRIGGER;
    const supported =
      index === VFIO_PCI_INTX_IRQ_INDEX
        ? [VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK, TRIGGER].includes(action)
        : action === TRIGGER;
    if (!supported) return ret(fail('ENOTTY'));
    const eventfds: number[] = [];
    if (dataType === VFIO_IRQ_SET_DATA_EVENTFD) {
      const dv = new DataView(c.call.entry.buffer, c.call.entry.byteOffset + hdr, count * 4);
      for (let k = 0; k < count; k++) {
        const fd = dv.getInt32(k * 4, c.le);
        if (fd >= 0) {
          const p = this.fds.path(c.call.pid, fd);
          if (p === null) return ret(fail('EBADF'));
          if (p !== 'anon_inode:[eventfd]') return ret(fail('EINVAL'));
        }
        eventfds.push(fd);
      }
    }
    const disable = dataType === VFIO_IRQ_SET_DATA_NONE && count === 0;
    if (index === VFIO_PCI_INTX_IRQ_INDEX) {
      if (action === TRIGGER) {
        if (disable && this.irqType === 'intx') {
          this.irqType = 'none';
          this.triggers[index] = [];
          return ret(0);
        }
        if (!(this.irqType === 'intx' || this.irqType === 'none') || start !== 0 || count !== 1) return ret(fail('EINVAL'));
        if (dataType === VFIO_IRQ_SET_DATA_EVENTFD) {
          this.triggers[index] = eventfds;
          this.irqType = eventfds[0]! >= 0 ? 'intx' : 'none';
          return ret(0);
        }
        if (this.irqType !== 'intx') return ret(fail('EINVAL'));
        // The loopback signals whether or not INTx is masked, as vfio-pci's does.
        this.loopback(c, index, start, count, dataType);
        return ret(0);
      }
      if (this.irqType !== 'intx' || start !== 0 || count !== 1) return ret(fail('EINVAL'));
      if (action === VFIO_IRQ_SET_ACTION_MASK && dataType === VFIO_IRQ_SET_DATA_EVENTFD) return ret(fail('ENOTTY'));
      // An unmask eventfd (virqfd) changes nothing now; DATA_BOOL acts only on true.
      if (dataType === VFIO_IRQ_SET_DATA_EVENTFD) return ret(0);
      if (dataType === VFIO_IRQ_SET_DATA_BOOL && !c.call.entry[c.desc.minsz]) return ret(0);
      this.intxMasked = action === VFIO_IRQ_SET_ACTION_MASK;
      return ret(0);
    }
    if (index === VFIO_PCI_MSI_IRQ_INDEX || index === VFIO_PCI_MSIX_IRQ_INDEX) {
      const kind: IrqType = index === VFIO_PCI_MSI_IRQ_INDEX ? 'msi' : 'msix';
      if (disable && this.irqType === kind) {
        this.irqType = 'none';
        this.triggers[index] = [];
        return ret(0);
      }
      if (!(this.irqType === kind || this.irqType === 'none')) return ret(fail('EINVAL'));
      if (dataType !== VFIO_IRQ_SET_DATA_EVENTFD) {
        if (this.irqType !== kind) return ret(fail('EINVAL'));
        this.loopback(c, index, start, count, dataType);
        return ret(0);
      }
      const t = this.triggers[index]!;
      eventfds.forEach((fd, k) => (t[start + k] = fd));
      this.irqType = kind;
      return ret(0);
    }
    // ERR and REQ: a single eventfd slot each.
    if (count > 1) return ret(fail('EINVAL'));
    if (dataType === VFIO_IRQ_SET_DATA_EVENTFD) this.triggers[index] = eventfds;
    else if (disable) this.triggers[index] = [];
    else this.loopback(c, index, start, count, dataType);
    return ret(0);
  }

  private hotResetInfo(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    if (!this.profile.pci.reset) return ret(fail('ENODEV'));
    a.set('flags', 0).set('count', 1);
    const hdr = c.desc.minsz;
    const entry = a.type.fields.find((f) => f.name === 'devices');
    const elemSize = entry && entry.type.kind === 'flex' ? entry.type.elem.size : 0;
    // Too small: ENOSPC, yet the header still goes back with the count needed.
    if (a.num('argsz') < hdr + elemSize) return c.reply(fail('ENOSPC'), a, hdr);
    const { segment, bus, devfn } = splitAddress(this.profile.address);
    const out = new Uint8Array(Math.max(a.bytes.length, hdr + elemSize));
    out.set(a.bytes);
    const full = new StructBuf(a.type, out, c.le);
    full.set('flags', 0).set('count', 1).set('devices[0].group_id', this.profile.group).set('devices[0].segment', segment).set('devices[0].bus', bus).set('devices[0].devfn', devfn);
    return c.reply(0, full, hdr + elemSize);
  }

  private hotReset(c: CallCtx, viaCdev: boolean): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    if (a.num('flags') !== 0) return ret(fail('EINVAL'));
    const count = a.num('count');
    // Whether a slot or bus reset is possible at all: 6.1 asks before it
    // looks at count, 6.12 after refusing count 0.
    const v61 = this.profile.kernel === '6.1';
    if (v61 && !this.profile.pci.reset) return ret(fail('ENODEV'));
    // A group-path device names at least one group fd; a cdev-opened one none
    // (its iommufd proves ownership).
    if ((count === 0) !== viaCdev) return ret(fail('EINVAL'));
    if (!this.profile.pci.reset) return ret(fail('ENODEV'));
    if (viaCdev) {
      if (!this.profile.pci.hotResetWorks) return ret(fail('ENOTTY'));
      this.reset();
      return ret(0);
    }
    // At most the affected groups (1).
    if (count > 1) return ret(fail('EINVAL'));
    const hdr = c.desc.minsz;
    const need = hdr + flexElemSize(a.type, 'group_fds') * count;
    if (a.num('argsz') < need) return ret(fail('EINVAL'));
    if (c.readable() < need) return ret(fail('EFAULT'));
    const fd = a.num('group_fds[0]');
    const p = fd >= 0 ? this.fds.path(c.call.pid, fd) : null;
    if (p === null) return ret(fail('EBADF'));
    if (p !== `/dev/vfio/${this.profile.group}`) return ret(fail('EINVAL'));
    if (!this.profile.pci.hotResetWorks) return ret(fail('ENOTTY'));
    this.reset();
    return ret(0);
  }

  private feature(c: CallCtx): Verdict {
    const a = c.args();
    if (isVerdict(a)) return a;
    const flags = a.num('flags');
    const GET = VFIO_DEVICE_FEATURE_GET;
    const SET = VFIO_DEVICE_FEATURE_SET;
    const PROBE = VFIO_DEVICE_FEATURE_PROBE;
    if (flags & ~(VFIO_DEVICE_FEATURE_MASK | GET | SET | PROBE)) return ret(fail('EINVAL'));
    if (!(flags & PROBE) && flags & SET && flags & GET) return ret(fail('EINVAL'));
    const feature = flags & VFIO_DEVICE_FEATURE_MASK;
    const payload = a.num('argsz') - c.desc.minsz;
    // vfio-pci's power-management features (SET only); migration and the rest are absent.
    const needs: Record<number, number> = { [VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY]: 0, [VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP]: 8, [VFIO_DEVICE_FEATURE_LOW_POWER_EXIT]: 0 };
    const need = needs[feature];
    if (need === undefined) return ret(fail('ENOTTY'));
    if (flags & GET) return ret(fail('EINVAL'));
    if (flags & PROBE) return ret(0);
    if (!(flags & SET) || payload < need) return ret(fail('EINVAL'));
    return ret(0);
  }

  /** Whether config space still has the PCIe capability (for tests and docs). */
  hasPcie(): boolean {
    return findCapability(this.backing.config, PCI_CAP_ID.EXP) !== 0;
  }
}
