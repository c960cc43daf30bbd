// A container (/dev/vfio/vfio): API version, extensions, IOMMU selection,
// then everything else goes to the chosen backend. EEH_PE_OP is answered
// here because it needs the groups' PE.

import type { Backend } from '../decode/ioctlDesc.js';
import { backendOfIommuType } from '../decode/resolve.js';
import { fail } from './errno.js';
import { CallCtx } from './ctx.js';
import type { Profile } from './profile.js';
import { Spapr } from './spapr.js';
import { Type1 } from './type1.js';
import { ret, type Verdict } from './types.js';
import {
  VFIO_API_VERSION, VFIO_DMA_CC_IOMMU, VFIO_EEH, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR,
} from '../../decoders/container.js';
import { EEH_ERR_FUNCS, EEH_ERR_TYPES, VFIO_EEH_PE_INJECT_ERR } from '../../decoders/eeh.js';
import type { ProtectionDomain } from './eeh.js';
import { ioctlTable, type IoctlTable } from '../model/ioctlName.js';

/** What a container knows of a group set to it: that it is there, and its PE. */
export interface ContainerMember {
  readonly pe: ProtectionDomain;
}

/** A call the container answers itself. */
type ContainerCall = (ct: Container, c: CallCtx) => Verdict;

export class Container {
  /** The calls the container answers itself; any other is its backend's. */
  static readonly calls: IoctlTable<ContainerCall> = ioctlTable<ContainerCall>({
    VFIO_GET_API_VERSION: () => ret(VFIO_API_VERSION),
    VFIO_CHECK_EXTENSION: (ct, c) => ret(ct.checkExtension(Number(BigInt.asIntN(32, c.call.arg)))),
    VFIO_SET_IOMMU: (ct, c) => ct.setIommu(Number(BigInt.asIntN(32, c.call.arg))),
    VFIO_EEH_PE_OP: (ct, c) => ct.eeh(c),
  });

  readonly groups = new Set<ContainerMember>();
  iommuType: number | null = null;
  backend: Type1 | Spapr | null = null;

  constructor(readonly profile: Profile) {}

  /** The decoders' name for the selected backend (narrows colliding numbers). */
  backendName(): Backend | null {
    return this.iommuType === null ? null : backendOfIommuType(this.iommuType);
  }

  /** IOMMU types this machine's backends accept. */
  private supportedTypes(): number[] {
    return this.profile.iommu === 'type1'
      ? [VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU]
      : [VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU];
  }

  checkExtension(ext: number): number {
    const set = this.iommuType !== null;
    if (this.supportedTypes().includes(ext)) return 1;
    if (this.profile.iommu === 'type1') {
      switch (ext) {
        case VFIO_UNMAP_ALL:
          return 1;
        case VFIO_UPDATE_VADDR:
        case VFIO_DMA_CC_IOMMU:
          // Both need a live backend to answer (coherent x86 IOMMU: 1).
          return set ? 1 : 0;
        default:
          return 0;
      }
    }
    if (ext === VFIO_EEH) return this.profile.eeh ? 1 : 0;
    return 0;
  }

  handle(c: CallCtx): Verdict {
    const own = Container.calls.get(c.name);
    if (own) return own(this, c);
    // Until an IOMMU is set there is no backend to ask: EINVAL.
    return this.backend ? this.backend.handle(c) : ret(fail('EINVAL'));
  }

  private setIommu(type: number): Verdict {
    if (this.groups.size === 0 || this.iommuType !== null) return ret(fail('EINVAL'));
    if (!this.supportedTypes().includes(type)) return ret(fail('ENODEV'));
    this.iommuType = type;
    this.backend =
      type === VFIO_TYPE1_IOMMU || type === VFIO_TYPE1v2_IOMMU
        ? new Type1(type === VFIO_TYPE1v2_IOMMU, this.profile)
        : new Spapr(type === VFIO_SPAPR_TCE_v2_IOMMU);
    return ret(0);
  }

  /** The last group left: the kernel releases the backend with it. */
  detach(g: ContainerMember): void {
    this.groups.delete(g);
    if (this.groups.size === 0) {
      this.iommuType = null;
      this.backend = null;
    }
  }

  private eeh(c: CallCtx): Verdict {
    // Per group in the container (one here): no PE → ENODEV, then 12 bytes copied in.
    if (!this.profile.eeh) return ret(fail('ENODEV'));
    // The PE of the container's group (the kernel's EEH support takes one group per container).
    const pe = [...this.groups][0]?.pe;
    if (!pe) return ret(fail('EINVAL'));
    const a = c.args();
    if (!('bytes' in a)) return a;
    if (a.num('flags') !== 0) return ret(fail('EINVAL'));
    const op = a.num('op');
    if (op > VFIO_EEH_PE_INJECT_ERR) return ret(fail('EINVAL'));
    if (op === VFIO_EEH_PE_INJECT_ERR) {
      if (a.num('argsz') < a.type.size || c.readable() < a.type.size) return ret(a.num('argsz') < a.type.size ? fail('EINVAL') : fail('EFAULT'));
      if (a.num('err.type') >= EEH_ERR_TYPES.length || a.num('err.func') >= EEH_ERR_FUNCS.length) return ret(fail('EINVAL'));
    }
    // Nothing is written back; GET_STATE answers in the return value.
    return ret(pe.op(op));
  }
}
