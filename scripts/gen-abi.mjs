#!/usr/bin/env node
// Writes docs/abi.md from the compiled ioctl descriptions
// (src/decode/abiReference.ts). Run after `npm run build` whenever a
// description changes; test/decoders/abiReference.test.ts says when.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(path.join(root, 'dist', p)).href);
const { abiReference } = await load('src/decode/abiReference.js');
const { families } = await load('decoders/index.js');
writeFileSync(path.join(root, 'docs', 'abi.md'), abiReference(families));
