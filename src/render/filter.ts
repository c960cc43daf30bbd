// -e: which ioctl events to show. A comma list of ioctl names, family names
// ("eeh", "type1") and fd kinds ("container", "device"); a leading `!`
// negates the list. `trace=` may prefix it, as in strace. Process events
// always pass. Several -e options must all pass.

import { resolveIoctlName } from '../decode/registry.js';
import { registry } from '../../decoders/index.js';
import type { DecodedEvent, DecodedIoctl, FdKind } from '../decode/types.js';

const FD_KINDS: ReadonlySet<string> = new Set<FdKind>(['container', 'group', 'device', 'iommufd', 'migration', 'dmabuf', 'other']);

/** Extra words: all ioctls, ones no decoder knows, ones the fd could not disambiguate. */
const SPECIAL = new Set(['all', 'none', 'unknown', 'ambiguous']);

export interface FilterVocabulary {
  /** Known ioctl names (kernel spelling), for validating -e. */
  ioctls?: Iterable<string>;
  /** Known family names. */
  families?: Iterable<string>;
}

export type EventFilter = (ev: DecodedEvent) => boolean;

interface Clause {
  negate: boolean;
  names: Set<string>;
  families: Set<string>;
  kinds: Set<string>;
  special: Set<string>;
}

function matches(c: Clause, ev: DecodedIoctl): boolean {
  if (c.special.has('all')) return true;
  if (ev.ioctl !== null && c.names.has(ev.ioctl)) return true;
  if (ev.family !== null && c.families.has(ev.family)) return true;
  if (c.kinds.has(ev.fdKind)) return true;
  if (c.special.has('unknown') && ev.resolution === 'unknown') return true;
  if (c.special.has('ambiguous') && ev.resolution === 'ambiguous') return true;
  return false;
}

/** Parses -e expressions; throws an Error naming the first unknown word. */
export function parseFilter(exprs: string[], vocab: FilterVocabulary = {}): EventFilter | null {
  if (exprs.length === 0) return null;
  const ioctls = vocab.ioctls ? new Set(vocab.ioctls) : null;
  const families = vocab.families ? new Set(vocab.families) : null;
  const clauses: Clause[] = [];
  for (let expr of exprs) {
    expr = expr.trim();
    if (expr.startsWith('trace=')) expr = expr.slice(6);
    const negate = expr.startsWith('!');
    if (negate) expr = expr.slice(1);
    const c: Clause = { negate, names: new Set(), families: new Set(), kinds: new Set(), special: new Set() };
    for (const raw of expr.split(',')) {
      const w = raw.trim();
      if (w === '') continue;
      const lower = w.toLowerCase();
      if (SPECIAL.has(lower)) c.special.add(lower);
      else if (FD_KINDS.has(lower)) c.kinds.add(lower);
      else if (families?.has(lower) ?? (families === null && /^[a-z0-9_]+$/.test(w))) c.families.add(lower);
      else {
        const name = ioctls === null ? w.toUpperCase() : resolveIoctlName(w, (n) => ioctls.has(n));
        if (name === null) throw new Error(`-e: unknown ioctl, family or fd kind: ${w}`);
        c.names.add(name);
      }
    }
    clauses.push(c);
  }
  return (ev) => {
    if (ev.kind !== 'ioctl') return true;
    for (const c of clauses) {
      if (matches(c, ev) === c.negate) return false;
    }
    return true;
  };
}

/** The names the decoders know, for validating -e words. */
export function filterVocabulary(): FilterVocabulary {
  const r = registry();
  return { ioctls: r.byName.keys(), families: r.families.map((f) => f.name) };
}
