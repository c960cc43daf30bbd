// Builds the native engine and the C fixtures once before any test file runs,
// and dist/ (the emulator's answering worker runs compiled code), so a fresh
// checkout's `npx vitest run` works without `npm run build`.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtCliUnavailable } from './helpers/builtCli.js';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  for (const dir of ['native', 'test/fixtures', 'test/realkernel/clients']) {
    try {
      execFileSync('make', ['-s', '-C', path.join(root, dir)], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: Buffer };
      // Tests that need the build skip themselves with a message; say why here once.
      process.stderr.write(`global-setup: building ${dir} failed:\n${err.stderr?.toString() ?? String(e)}\n`);
    }
  }
  // Emulation answers calls from a worker thread, which runs compiled code
  // even when the test runs the sources: compile when dist/ is stale.
  const why = builtCliUnavailable();
  if (why) process.stderr.write(`global-setup: ${why}\n`);
}
