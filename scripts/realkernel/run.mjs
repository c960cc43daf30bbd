#!/usr/bin/env node
// Records the real-kernel corpus in a guest and writes it out:
//   node scripts/realkernel/run.mjs [--kernel 6.1|6.12|all] [--out DIR] [--update-golden]
// --out DIR writes DIR/<series>/<client>.<device>.{vft,out} and manifest.json;
// --update-golden writes them into test/realkernel/golden/ (review the diff).
// Prints the boot and corpus times measured.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bootGuest, CORPUS, ROOT } from './boot.mjs';
import { prepareKernel, SERIES } from './fetch.mjs';

export const GOLDEN_DIR = path.join(ROOT, 'test', 'realkernel', 'golden');

/** Writes one guest run as a corpus directory (what the goldens look like). */
export function writeCorpus(run, dir) {
  mkdirSync(dir, { recursive: true });
  const manifest = { release: run.release, devices: run.devices, clients: CORPUS, status: run.status };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const [name, bytes] of Object.entries(run.items)) {
    if (name.endsWith('.err')) continue;
    writeFileSync(path.join(dir, name), bytes);
  }
}

function parseArgs(argv) {
  const o = { kernels: Object.keys(SERIES), out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kernel') {
      const k = argv[++i];
      o.kernels = k === 'all' ? Object.keys(SERIES) : [k];
    } else if (a === '--out') o.out = argv[++i];
    else if (a === '--update-golden') o.out = GOLDEN_DIR;
    else throw new Error(`unknown option ${a} (usage: run.mjs [--kernel 6.1|6.12|all] [--out DIR] [--update-golden])`);
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const series of o.kernels) {
    const kernel = prepareKernel(series);
    const run = await bootGuest(kernel);
    const t = run.times;
    process.stdout.write(
      `${kernel.release}: wall ${(run.wallMs / 1000).toFixed(1)} s; guest up to /init ${t.hello.toFixed(2)} s, ` +
        `modules+binding ${(t.corpusStart - t.hello).toFixed(2)} s, corpus ${(t.corpusEnd - t.corpusStart).toFixed(2)} s ` +
        `(${Object.keys(run.status).filter((k) => !k.endsWith('.client')).length} recordings, exit codes ${[...new Set(Object.values(run.status))].join(',')})\n`,
    );
    const perEntry = CORPUS.map((e) => {
      const s = run.devices.reduce((sum, d) => sum + (run.itemTimes[`${e.name}.${d.name}`] ?? 0), 0);
      return `${e.name} ${s.toFixed(2)}`;
    });
    process.stdout.write(`  recording each entry on all devices, s: ${perEntry.join(', ')}\n`);
    if (o.out) writeCorpus(run, path.join(o.out, series));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    process.stderr.write(`realkernel: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
