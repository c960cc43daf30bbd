// The import graph of src/, decoders/ and bench/: no file imports itself
// back through others, and rooms (src/<dir>, decoders) depend one way:
// decoders/ is written in decode/'s DSL and hands decode/ its registry.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

function graph(): Map<string, Set<string>> {
  const files = new Set(['src', 'decoders', 'bench'].flatMap(tsFiles));
  const edges = new Map<string, Set<string>>();
  for (const f of files) {
    const deps = new Set<string>();
    const text = readFileSync(path.join(ROOT, f), 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^;]*?from\s+'(\.[^']+)'/g)) {
      const target = path.normalize(path.join(path.dirname(f), m[1]!)).replace(/\.js$/, '.ts');
      if (files.has(target)) deps.add(target);
    }
    edges.set(f, deps);
  }
  return edges;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const comp: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      on.delete(w);
      comp.push(w);
      if (w === v) break;
    }
    if (comp.length > 1) out.push(comp.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** src/<dir> is a room; a file directly in src/ (cli.ts, version.ts) is one of its own. */
const room = (f: string): string => {
  const [top, sub] = f.split(path.sep);
  if (top !== 'src' || sub === undefined) return top!;
  return sub.endsWith('.ts') ? f : `src/${sub}`;
};

describe('the import graph', () => {
  const edges = graph();

  it('has no cycle between files', () => {
    expect(edges.size).toBeGreaterThan(150);
    expect(cycles(edges)).toEqual([]);
  });

  it('has rooms that depend one way (no cycle of rooms, of any length)', () => {
    const rooms = new Map<string, Set<string>>();
    for (const [f, deps] of edges) {
      const from = rooms.get(room(f)) ?? new Set<string>();
      for (const d of deps) if (room(d) !== room(f)) from.add(room(d));
      rooms.set(room(f), from);
    }
    expect(rooms.size).toBeGreaterThan(8);
    expect(cycles(rooms)).toEqual([]);
  });
});
