// Tests that run the compiled CLI (bin/vfiotrace.js → dist/) as users do:
// compile first when some source is newer than its output. The one place
// that decides whether dist/ is stale.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_BIN = path.join(ROOT, 'bin', 'vfiotrace.js');

/** True when some .ts under `dir` is newer than its compiled .js (or has none). */
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

/**
 * Compiles src/ and decoders/ when dist/ is older. Returns why the CLI cannot
 * run (its entry `dist/src/<entry>` is missing after compiling), or null.
 */
export function builtCliUnavailable(entry = 'cli.js'): string | null {
  if (stale('src') || stale('decoders')) {
    // tsc still writes its output when another part of the tree has type errors.
    spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'ignore', timeout: 180_000 });
  }
  return existsSync(path.join(ROOT, 'dist', 'src', entry)) ? null : 'the CLI could not be built (npm run build:ts)';
}

/** As builtCliUnavailable, but throws the reason. */
export function ensureBuiltCli(): void {
  const why = builtCliUnavailable();
  if (why !== null) throw new Error(why);
}
