// The package's version, read from package.json (the one definition), for
// --version and the recording header's producer.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** package.json's "version", found above this file in src/ or dist/src/. */
export function packageVersion(): string {
  if (cached !== null) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const v = (JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string });
      if (v.name === 'vfiotrace' && typeof v.version === 'string') return (cached = v.version);
    }
    dir = path.dirname(dir);
  }
  return (cached = 'unknown');
}
