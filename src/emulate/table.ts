// Finds which ioctl a request means on a given fd kind and container backend,
// from the decoders/ descriptions (the only place the numbers live).

import type { Backend, IoctlDesc } from '../decode/dsl.js';
import type { FdKind } from '../decode/types.js';

export class IoctlTable {
  private readonly byNameMap = new Map<string, IoctlDesc>();

  constructor(readonly all: readonly IoctlDesc[]) {
    for (const d of all) this.byNameMap.set(d.name, d);
  }

  byName(name: string): IoctlDesc {
    const d = this.byNameMap.get(name);
    if (!d) throw new Error(`no description for ${name}`);
    return d;
  }

  /**
   * The ioctl `request` means on this fd kind. `backend` narrows container
   * ioctls (numbers 12-21 differ between type1 and sPAPR); with no backend
   * set, backend-specific container ioctls do not match.
   */
  resolve(request: number, kind: FdKind, backend: Backend | null): IoctlDesc | null {
    // VFIO and iommufd requests are _IO(';', nr): type byte 0x3B, no size.
    if (((request >>> 8) & 0xff) !== 0x3b) return null;
    const nr = request & 0xff;
    for (const d of this.all) {
      if (d.nr !== nr || !d.fdKinds.includes(kind)) continue;
      if (d.backends === 'any') return d;
      if (backend !== null && d.backends.includes(backend)) return d;
    }
    return null;
  }
}
