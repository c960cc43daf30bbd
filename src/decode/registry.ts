// The registry: families' descriptions, indexed for lookup. decode/ knows no
// family: decoders/index.ts builds the registry of all of them and hands it
// to whoever decodes (createDecoder, captureRules take it as an argument).

import type { StructType } from './dsl.js';
import type { Family, IoctlDesc } from './ioctlDesc.js';

export interface Registry {
  families: readonly Family[];
  ioctls: readonly IoctlDesc[];
  /** Descriptions sharing an _IOC_NR, in family order. */
  byNr: ReadonlyMap<number, readonly IoctlDesc[]>;
  byName: ReadonlyMap<string, readonly IoctlDesc[]>;
  /** Every struct reachable from a description, by C tag (for layout checks). */
  structs: ReadonlyMap<string, StructType>;
}

function collectStructs(t: StructType, into: Map<string, StructType>): void {
  if (t.name && into.has(t.name)) return;
  if (t.name) into.set(t.name, t);
  for (const f of t.fields) {
    const ft = f.type;
    if (ft.kind === 'struct' || ft.kind === 'union') collectStructs(ft, into);
    else if (ft.kind === 'array' && (ft.elem.kind === 'struct' || ft.elem.kind === 'union')) collectStructs(ft.elem, into);
    else if (ft.kind === 'flex' && (ft.elem.kind === 'struct' || ft.elem.kind === 'union')) collectStructs(ft.elem, into);
    else if (ft.kind === 'caps') {
      collectStructs(ft.header, into);
      for (const c of ft.caps.values()) collectStructs(c.type, into);
    }
  }
}

export function buildRegistry(families: readonly Family[]): Registry {
  const ioctls: IoctlDesc[] = [];
  const byNr = new Map<number, IoctlDesc[]>();
  const byName = new Map<string, IoctlDesc[]>();
  const structs = new Map<string, StructType>();
  for (const fam of families) {
    for (const d of fam.ioctls) {
      ioctls.push(d);
      const a = byNr.get(d.nr) ?? [];
      a.push(d);
      byNr.set(d.nr, a);
      const b = byName.get(d.name) ?? [];
      b.push(d);
      byName.set(d.name, b);
      if (d.arg.kind === 'struct') collectStructs(d.arg.type, structs);
    }
    for (const s of fam.structs) collectStructs(s, structs);
  }
  return { families, ioctls, byNr, byName, structs };
}

/**
 * The kernel name a user's word means (`eeh_pe_op`, `VFIO_EEH_PE_OP`,
 * `ioas_map`): case does not matter and the `VFIO_`/`IOMMU_` prefix may be
 * left out. One resolver for every place that takes an ioctl name (-e, decode).
 * `known` says which names exist; null when none matches.
 */
export function resolveIoctlName(word: string, known: (name: string) => boolean): string | null {
  const upper = word.toUpperCase();
  for (const name of [upper, 'VFIO_' + upper, 'IOMMU_' + upper]) if (known(name)) return name;
  return null;
}
