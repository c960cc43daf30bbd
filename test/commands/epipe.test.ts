// A reader that goes away (`vfiotrace … | head -1`) ends the output quietly:
// no stack trace, status 141 (128 + SIGPIPE) as a tool killed by SIGPIPE
// reports it. The pipe's read end is closed before vfiotrace starts (perl,
// from Debian's essential perl-base, makes the pipe), so every write fails.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN as BIN, ensureBuiltCli } from '../helpers/builtCli.js';
import { tmp } from '../integration/helpers.js';
import { x86Session } from './recordings.js';

function intoClosedPipe(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('perl', ['-e', 'pipe(R, W) or die; close R; open(STDOUT, ">&W") or die; close W; exec @ARGV or die', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr };
}

beforeAll(() => ensureBuiltCli(), 200_000);

describe('output into a closed pipe', () => {
  const dir = tmp();
  const file = path.join(dir, 'x.vft');
  writeFileSync(file, x86Session().bytes);

  for (const args of [['--help'], ['decode', 'VFIO_GET_API_VERSION', '--fd-kind', 'container'], ['show', file], ['show', '--json', file], ['audit', '--help'], ['show', '--help']]) {
    it(`vfiotrace ${args.join(' ')}: no stack trace, exit 141`, () => {
      const r = intoClosedPipe(args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(141);
    });
  }
});
