#!/usr/bin/env node
// Writes the man page, dist/man/vfiotrace.1, from the compiled commands'
// --help definitions (src/commands/manPage.ts). Part of `npm run build:ts`;
// package.json's "man" field installs it with the package.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const { manPage } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'commands', 'manPage.js')).href);
const out = path.join(root, 'dist', 'man', 'vfiotrace.1');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, await manPage({ version: pkg.version, summary: pkg.description }));
