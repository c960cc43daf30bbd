// Tests that run the compiled CLI (bin/vfiotrace.js → dist/) as users do:
// compile first when some source is newer than its output.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_BIN = path.join(ROOT, 'bin', 'vfiotrace.js');

function stale(dir: string): boolean {
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (stale(rel)) return true;
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const js = path.join(ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
      if (!existsSync(js) || statSync(js).mtimeMs < statSync(path.join(ROOT, rel)).mtimeMs) return true;
    }
  }
  return false;
}

/** Compiles src/ and decoders/ when dist/ is older; throws if the CLI cannot be built. */
export function ensureBuiltCli(): void {
  if (stale('src') || stale('decoders')) {
    // tsc still writes its output when another part of the tree has type errors.
    spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'ignore', timeout: 180_000 });
  }
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli.js'))) throw new Error('the CLI could not be built (npm run build:ts)');
}
