// Generates C from the descriptions: static asserts on ioctl numbers, struct
// sizes and field offsets, and a program that fills each struct with random
// bytes and prints every field as C reads it. What a given header lacks
// (older kernels) is left out, by looking at which names the header defines.

import type { StructType, Type } from '../../src/decode/dsl.js';
import type { Registry } from '../../src/decode/registry.js';
import { encodeIo } from '../../src/decode/encoding.js';

/** What a header text defines: struct bodies by tag, and #define'd names. */
export interface HeaderIndex {
  bodies: Map<string, string>;
  defines: Set<string>;
}

export function indexHeader(text: string): HeaderIndex {
  const bodies = new Map<string, string>();
  const re = /struct\s+(\w+)\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    let depth = 1;
    let k = re.lastIndex;
    while (k < text.length && depth > 0) {
      const c = text[k];
      if (c === '{') depth++;
      else if (c === '}') depth--;
      k++;
    }
    // Comments can mention names that are not members.
    const body = text.slice(re.lastIndex, k - 1).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    bodies.set(m[1] as string, body);
  }
  const defines = new Set<string>();
  for (const d of text.matchAll(/#define\s+(\w+)/g)) defines.add(d[1] as string);
  // enum constants count as defined names too (iommufd's commands are an enum).
  for (const d of text.matchAll(/^\s*(IOMMUFD_CMD_\w+|VFIO_\w+|IOMMU_\w+)\s*(=|,)/gm)) defines.add(d[1] as string);
  return { bodies, defines };
}

function hasMember(body: string, name: string): boolean {
  return new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\s*(\\[[^\\]]*\\])?\\s*;`).test(body);
}

/** One scalar reachable at a fixed offset: its C access path and where it lives. */
export interface Leaf {
  path: string;
  offset: number;
  size: number;
  signed: boolean;
}

/** Fixed-layout scalar leaves of a struct (flexible arrays and caps excluded). */
export function leaves(t: StructType, prefix = '', base = 0, out: Leaf[] = []): Leaf[] {
  t.fields.forEach((f, k) => {
    const off = base + (t.offsets[k] ?? 0);
    const ft: Type = f.type;
    const name = f.name === '' ? '' : prefix + f.name;
    switch (ft.kind) {
      case 'scalar':
        out.push({ path: name, offset: off, size: ft.size, signed: ft.signed });
        break;
      case 'struct':
      case 'union':
        leaves(ft, f.name === '' ? prefix : name + '.', off, out);
        break;
      case 'array':
        if (ft.elem.kind === 'scalar') for (let e = 0; e < ft.count; e++) out.push({ path: `${name}[${e}]`, offset: off + e * ft.elem.size, size: ft.elem.size, signed: ft.elem.signed });
        break;
      case 'uuid':
        for (let e = 0; e < 16; e++) out.push({ path: `${name}[${e}]`, offset: off + e, size: 1, signed: false });
        break;
      default:
        break;
    }
  });
  return out;
}

/** Whether every member a leaf path goes through exists in this header. */
function pathExists(idx: HeaderIndex, t: StructType, path: string): boolean {
  let cur: StructType = t;
  let body = idx.bodies.get(t.name);
  if (body === undefined) return false;
  const parts = path.replace(/\[\d+\]/g, '').split('.');
  for (const part of parts) {
    if (!hasMember(body as string, part)) return false;
    const f = findMember(cur, part);
    if (!f) return false;
    if ((f.kind === 'struct' || f.kind === 'union') && f.name) {
      cur = f;
      body = idx.bodies.get(f.name);
      if (body === undefined) return false;
    }
  }
  return true;
}

function findMember(t: StructType, name: string): Type | null {
  for (const f of t.fields) {
    if (f.name === name) return f.type;
    if (f.name === '' && (f.type.kind === 'struct' || f.type.kind === 'union')) {
      const r = findMember(f.type, name);
      if (r) return r;
    }
  }
  return null;
}

/** Every struct's size is checked only when the header's struct has all of our members (same version). */
function complete(idx: HeaderIndex, t: StructType): boolean {
  const body = idx.bodies.get(t.name);
  if (body === undefined) return false;
  for (const f of t.fields) {
    if (f.type.kind === 'caps') continue;
    if (f.name === '') {
      if (f.type.kind === 'struct' || f.type.kind === 'union') {
        for (const g of f.type.fields) if (!hasMember(body, g.name)) return false;
      }
      continue;
    }
    if (!hasMember(body, f.name)) return false;
  }
  return true;
}

export interface LayoutC {
  source: string;
  /** How many asserts of each kind were emitted, and what was left out. */
  counts: { ioctls: number; sizes: number; offsets: number };
  skipped: string[];
}

/** Static asserts for numbers (with `arch`'s encoding), sizes and offsets. */
export function layoutC(reg: Registry, idx: HeaderIndex, includes: string[], arch: string, numbersOnly = false): LayoutC {
  const lines = ['#include <stddef.h>', ...includes.map((h) => `#include <${h}>`), '#define CHECK(e) _Static_assert(e, #e)'];
  const counts = { ioctls: 0, sizes: 0, offsets: 0 };
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const d of reg.ioctls) {
    if (seen.has(d.name)) continue;
    seen.add(d.name);
    if (!idx.defines.has(d.name)) {
      skipped.push(d.name);
      continue;
    }
    lines.push(`CHECK((unsigned int)${d.name} == 0x${encodeIo(arch, d.nr).toString(16)}u);`);
    counts.ioctls++;
  }
  if (!numbersOnly) {
    for (const t of reg.structs.values()) {
      if (!idx.bodies.has(t.name)) {
        skipped.push(`struct ${t.name}`);
        continue;
      }
      if (complete(idx, t)) {
        lines.push(`CHECK(sizeof(struct ${t.name}) == ${t.size});`);
        counts.sizes++;
      } else skipped.push(`sizeof(struct ${t.name}) (header has an older layout)`);
      for (const f of t.fields) {
        if (f.name === '' || f.type.kind === 'caps') continue;
        if (!hasMember(idx.bodies.get(t.name) as string, f.name)) {
          skipped.push(`${t.name}.${f.name}`);
          continue;
        }
        const off = t.offsets[t.fields.indexOf(f)] as number;
        lines.push(`CHECK(offsetof(struct ${t.name}, ${f.name}) == ${off});`);
        if (f.type.kind !== 'flex') lines.push(`CHECK(sizeof(((struct ${t.name} *)0)->${f.name}) == ${f.type.size});`);
        counts.offsets++;
      }
      for (const l of leaves(t)) {
        if (l.path.includes('[') || !l.path.includes('.') && t.fields.some((f) => f.name === l.path)) continue;
        if (!pathExists(idx, t, l.path)) continue;
        lines.push(`CHECK(offsetof(struct ${t.name}, ${l.path}) == ${l.offset});`);
        counts.offsets++;
      }
    }
  }
  return { source: lines.join('\n') + '\n', counts, skipped };
}

/** A program printing, per struct and round, the random bytes and every leaf as C reads it. */
export function valuesC(reg: Registry, idx: HeaderIndex, includes: string[], rounds: number): { source: string; structs: string[] } {
  const lines = ['#include <stdio.h>', '#include <stdint.h>', '#include <string.h>', ...includes.map((h) => `#include <${h}>`)];
  lines.push('static uint64_t st = 0x9E3779B97F4A7C15ull;');
  lines.push('static unsigned char rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return (unsigned char)(st >> 24); }');
  lines.push('static void dump(const void *p, size_t n) { const unsigned char *b = p; for (size_t k = 0; k < n; k++) printf("%02x", b[k]); }');
  const structs: string[] = [];
  const body: string[] = [];
  for (const t of reg.structs.values()) {
    if (!complete(idx, t)) continue;
    structs.push(t.name);
    body.push(`  for (int r = 0; r < ${rounds}; r++) {`);
    body.push(`    struct ${t.name} s; unsigned char *p = (unsigned char *)&s; for (size_t k = 0; k < sizeof s; k++) p[k] = rnd();`);
    body.push(`    printf("S ${t.name} "); dump(&s, sizeof s); printf("\\n");`);
    for (const l of leaves(t)) {
      if (!pathExists(idx, t, l.path)) continue;
      const fmt = l.signed ? '%lld' : '%llu';
      const cast = l.signed ? '(long long)' : '(unsigned long long)';
      // Unsigned 8-byte members may be pointers (vfio_bitmap.data): go through uintptr_t.
      const access = l.size === 8 && !l.signed ? `(uintptr_t)s.${l.path}` : `s.${l.path}`;
      body.push(`    printf("F ${l.path} ${fmt}\\n", ${cast}${access});`);
    }
    body.push('  }');
  }
  lines.push('int main(void) {', ...body, '  return 0;', '}');
  return { source: lines.join('\n') + '\n', structs };
}
