// The interpreter against C: a generated program fills every described
// struct with random bytes and prints each field as C reads it; decoding the
// same bytes must give the same value for every field.

import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registry } from '../../decoders/index.js';
import { compileStruct, type Env } from '../../src/decode/compile.js';
import { decodeFields } from '../../src/decode/sinks/tree.js';
import type { FieldNode } from '../../src/decode/types.js';
import { indexHeader, valuesC } from './cgen.js';
import { HOST, hasGcc, headerText, trixieHeaders, type HeaderSet } from './kheaders.js';

function flatten(nodes: FieldNode[], into: Map<string, bigint>): void {
  for (const n of nodes) {
    if (n.value !== undefined) into.set(n.path, n.value);
    if (n.children) flatten(n.children, into);
  }
}

function decodeAll(name: string, bytes: Uint8Array): Map<string, bigint> {
  const t = registry().structs.get(name);
  if (!t) throw new Error(`no description for ${name}`);
  const env: Env = {
    dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    base: 0,
    bytes,
    le: true,
    len: bytes.length,
    cmp: null,
    ctx: { side: 'in', ret: 0, argsz: bytes.length, root: {} },
    findings: null,
    all: true,
  };
  const out: FieldNode[] = [];
  decodeFields(compileStruct(t), env, 0, bytes.length, '', out, env.ctx.root);
  const m = new Map<string, bigint>();
  flatten(out, m);
  return m;
}

function runAndCompare(set: HeaderSet, extraInc: string[]): { structs: number; fields: number } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vfiotrace-values-'));
  const { text, includes } = headerText(set);
  const prog = valuesC(registry(), indexHeader(text), includes, 3);
  const src = path.join(tmp, 'values.c');
  const exe = path.join(tmp, 'values');
  writeFileSync(src, prog.source);
  execFileSync('gcc', ['-O0', '-w', '-o', exe, ...[set.include, ...extraInc].flatMap((d) => ['-I', d]), src], { stdio: 'pipe' });
  const out = execFileSync(exe, { maxBuffer: 64 << 20 }).toString().split('\n');
  let cur: Map<string, bigint> | null = null;
  let structs = 0;
  let fields = 0;
  for (const line of out) {
    if (line.startsWith('S ')) {
      const [, name, hex] = line.split(' ');
      cur = decodeAll(name as string, Buffer.from(hex as string, 'hex'));
      structs++;
    } else if (line.startsWith('F ') && cur) {
      const [, p, v] = line.split(' ');
      expect(cur.get(p as string), `${p}`).toBe(BigInt(v as string));
      fields++;
    }
  }
  return { structs, fields };
}

const gcc = hasGcc();

describe.skipIf(!gcc)('decoded values equal what C reads', () => {
  it('host headers', () => {
    const r = runAndCompare(HOST, []);
    expect(r.structs).toBeGreaterThan(90); // 3 rounds × 30+ structs
    expect(r.fields).toBeGreaterThan(400);
  });

  const trixie = trixieHeaders();
  it.skipIf(!trixie.set)(`Debian 13 headers${trixie.set ? '' : ` (skipped: ${trixie.why})`}`, () => {
    const set = trixie.set as HeaderSet;
    const r = runAndCompare(set, [path.join(set.include, 'x86_64-linux-gnu')]);
    expect(r.structs).toBeGreaterThan(150);
    expect(r.fields).toBeGreaterThan(800);
  });
});
