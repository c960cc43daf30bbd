#!/usr/bin/env node
// The release build: one way from this checkout's sources to the npm package
// (docs/install.md).
//
//   node scripts/release.mjs [--out DIR]        (npm run release; DIR: release/)
//
// 1. Copies the checkout's files (git ls-files: tracked and new, not
//    ignored) into DIR/stage, so nothing built or left lying here gets in.
// 2. Builds there: TypeScript and the man page (npm run build:ts), then the
//    engine and the static recorder for every arch (make -C native cross).
// 3. Checks each binary against its directory: ELF machine, byte order,
//    type, a static recorder, the glibc an engine needs (src/release/checks.ts).
// 4. Packs with npm, scripts off, from a package.json without scripts or
//    devDependencies: installing the package never builds anything.
// 5. Lists the contents and checks them: every required file, nothing from
//    tests or build trees, the size budget.
// Prints the listing; the last line is the tarball's path. Exit 1 on a problem.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function die(lines) {
  for (const l of [lines].flat()) process.stderr.write(`release: ${l}\n`);
  process.exit(1);
}

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    die(`${cmd} ${args.join(' ')} failed${out ? `:\n${out}` : `: ${e.message}`}`);
  }
}

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
if ((outAt >= 0 && args[outAt + 1] === undefined) || args.some((a, k) => a !== '--out' && k !== outAt + 1)) {
  die('usage: node scripts/release.mjs [--out DIR]');
}
const out = path.resolve(outAt >= 0 ? args[outAt + 1] : path.join(root, 'release'));
const stage = path.join(out, 'stage');
if (!existsSync(path.join(root, 'node_modules', 'typescript'))) die('node_modules/ has no typescript: run `npm install` first');

// 1. Stage the sources.
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root).split('\0').filter(Boolean);
for (const f of files) {
  const from = path.join(root, f);
  if (!existsSync(from) && !isLink(from)) continue; // deleted in the working tree
  mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
  cpSync(from, path.join(stage, f), { verbatimSymlinks: true });
}
symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

// 2. Build.
run('npm', ['run', '--silent', 'build:ts'], stage);
run('make', ['-s', '-C', 'native', '-j2', 'cross'], stage);

// 3. Check the binaries, with the staged build's own definitions.
const checks = await import(pathToFileURL(path.join(stage, 'dist', 'src', 'release', 'checks.js')).href);
const bad = checks.allBinaryProblems(stage);
if (bad.length > 0) die(bad);

// 4. Pack.
const pkgFile = path.join(stage, 'package.json');
const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
delete pkg.scripts;
delete pkg.devDependencies;
writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], stage));
const tarball = path.join(out, packed.filename);

// 5. List and check the contents.
const listing = [...packed.files].sort((a, b) => a.path.localeCompare(b.path));
for (const f of listing) process.stdout.write(`${String(f.size).padStart(9)}  ${f.path}\n`);
const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
process.stdout.write(`${listing.length} files, ${packed.unpackedSize} bytes; packed ${packed.size} bytes, sha256 ${sha256}\n`);
const wrong = checks.contentProblems(listing.map((f) => f.path), { packed: packed.size, unpacked: packed.unpackedSize });
if (wrong.length > 0) die(wrong);
process.stdout.write(`${tarball}\n`);
