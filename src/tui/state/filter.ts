// The `/` filter and `:` search language. Terms are separated by spaces and
// must all match:
//   fd=N  tid=N  pid=N      exact numbers
//   kind=container|group|…  fd kind
//   errors (err)            the call failed
//   findings (warn)         the audit flagged it
//   !TERM                   negation
//   anything else           case-insensitive substring of the ioctl name
// Name terms are resolved once per distinct name, so a filter over a million
// rows only compares integers.

import { EventStore, ROW } from './eventStore.js';

type Term =
  | { t: 'num'; field: 'fd' | 'tid' | 'pid'; value: number }
  | { t: 'kind'; value: string }
  | { t: 'errors' }
  | { t: 'findings' }
  | { t: 'name'; text: string };

interface Clause { neg: boolean; term: Term }

export interface Filter {
  text: string;
  clauses: Clause[];
}

export type ParseResult = { ok: true; filter: Filter | null } | { ok: false; error: string };

const KINDS = ['container', 'group', 'device', 'iommufd', 'migration', 'dmabuf', 'other'];

export function parseFilter(text: string): ParseResult {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return { ok: true, filter: null };
  const clauses: Clause[] = [];
  for (const raw of words) {
    const neg = raw.startsWith('!');
    const w = neg ? raw.slice(1) : raw;
    if (w === '') return { ok: false, error: 'a lone "!" negates nothing' };
    const m = /^(fd|tid|pid|kind)=(.*)$/i.exec(w);
    let term: Term;
    if (m) {
      const field = (m[1] ?? '').toLowerCase();
      const v = m[2] ?? '';
      if (field === 'kind') {
        if (!KINDS.includes(v.toLowerCase())) return { ok: false, error: `unknown fd kind "${v}" (one of ${KINDS.join(', ')})` };
        term = { t: 'kind', value: v.toLowerCase() };
      } else {
        if (!/^-?\d+$/.test(v)) return { ok: false, error: `${field}= needs a number, got "${v}"` };
        term = { t: 'num', field: field as 'fd' | 'tid' | 'pid', value: Number(v) };
      }
    } else if (/^(errors?|err)$/i.test(w)) term = { t: 'errors' };
    else if (/^(findings?|warn)$/i.test(w)) term = { t: 'findings' };
    else term = { t: 'name', text: w.toLowerCase() };
    clauses.push({ neg, term });
  }
  return { ok: true, filter: { text: words.join(' '), clauses } };
}

/** A predicate over store indices, with name matches cached per interned name. */
export function compileFilter(f: Filter, store: EventStore): (i: number) => boolean {
  const nameCache = f.clauses.map(() => new Map<number, boolean>());
  return (i: number) => {
    for (let c = 0; c < f.clauses.length; c++) {
      const clause = f.clauses[c];
      if (!clause) continue;
      const term = clause.term;
      let hit: boolean;
      switch (term.t) {
        case 'num':
          hit = (term.field === 'fd' ? store.fd(i) : term.field === 'tid' ? store.tid(i) : store.pid(i)) === term.value
            && (store.flags(i) & (ROW.END)) === 0;
          break;
        case 'kind':
          hit = (store.flags(i) & (ROW.PROCESS | ROW.END)) === 0 && store.fdKind(i) === term.value;
          break;
        case 'errors':
          hit = (store.flags(i) & ROW.ERROR) !== 0;
          break;
        case 'findings':
          hit = (store.flags(i) & ROW.FINDING) !== 0;
          break;
        case 'name': {
          const id = store.nameId(i);
          const cache = nameCache[c];
          let v = cache?.get(id);
          if (v === undefined) {
            v = store.names.get(id).toLowerCase().includes(term.text);
            cache?.set(id, v);
          }
          hit = v;
          break;
        }
      }
      if (hit === clause.neg) return false;
    }
    return true;
  };
}
