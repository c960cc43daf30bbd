#!/usr/bin/env node
// Writes the standalone recorder's capture-rule table for one architecture:
//   node scripts/gen-c-rules.mjs ARCH OUT.c
// Run by native/cross.mk. It needs the compiled decoders (dist/, from
// `npm run build:ts`). OUT.c is rewritten only when its text changes, so make
// relinks only when the rules did.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [arch, out] = process.argv.slice(2);
if (!arch || !out) {
  process.stderr.write('usage: gen-c-rules.mjs ARCH OUT.c\n');
  process.exit(2);
}
const mod = path.join(root, 'dist', 'src', 'decode', 'emitCRules.js');
if (!existsSync(mod)) {
  process.stderr.write(`gen-c-rules: ${mod} is missing: run \`npm run build:ts\` first\n`);
  process.exit(1);
}
const { emitCRules } = await import(pathToFileURL(mod).href);
const { registry } = await import(pathToFileURL(path.join(root, 'dist', 'decoders', 'index.js')).href);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let text;
try {
  text = emitCRules(arch, { producer: `vfiotrace-record ${pkg.version}`, registry: registry() });
} catch (e) {
  process.stderr.write(`gen-c-rules: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
let old = null;
try {
  old = readFileSync(out, 'utf8');
} catch {
  // first run
}
if (old !== text) {
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text);
}
