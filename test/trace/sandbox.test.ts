import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VFIO_PATHS, sandboxArgv } from '../../src/trace/sandbox.js';
import { sandboxUnavailable } from '../helpers/trace.js';

const why = sandboxUnavailable();
if (why) console.warn(`skipping sandbox run tests: ${why}`);

describe('sandboxArgv', () => {
  it('refuses paths outside /dev and empty commands', () => {
    expect(() => sandboxArgv(['true'], { files: ['/etc/passwd'] })).toThrow(/under \/dev/);
    expect(() => sandboxArgv(['true'], { files: ['/dev/../etc/x'] })).toThrow(/under \/dev/);
    expect(() => sandboxArgv([])).toThrow(/empty command/);
  });

  it('uses a user namespace only when asked or when not root', () => {
    expect(sandboxArgv(['true'], { userNamespace: true }).slice(0, 4)).toEqual(['unshare', '-U', '-r', '-m']);
    expect(sandboxArgv(['true'], { userNamespace: false }).slice(0, 2)).toEqual(['unshare', '-m']);
  });
});

describe.skipIf(why !== null)('sandbox run', () => {
  const run = (cmd: string[], files?: string[]) => {
    const argv = sandboxArgv(cmd, files ? { files } : {});
    return spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  };

  it('puts regular files at the VFIO paths and keeps the usual nodes working', () => {
    const r = run([
      'sh',
      '-c',
      'for f in "$@"; do [ -f "$f" ] && echo "file $f"; done; [ -c /dev/null ] && echo null-ok; echo x > /dev/null && head -c 4 /dev/urandom | wc -c',
      'sh',
      ...DEFAULT_VFIO_PATHS,
    ]);
    expect(r.status).toBe(0);
    for (const p of DEFAULT_VFIO_PATHS) expect(r.stdout).toContain(`file ${p}`);
    expect(r.stdout).toContain('null-ok');
    expect(r.stdout.trim().endsWith('4')).toBe(true);
    // nothing leaked into the host's /dev
    expect(existsSync('/dev/vfio/42')).toBe(false);
  });

  it('takes any list of paths and passes the exit status through', () => {
    const r = run(['sh', '-c', '[ -f /dev/vfio/7 ] && [ ! -e /dev/vfio/42 ] && exit 5'], ['/dev/vfio/7']);
    expect(r.status).toBe(5);
  });
});
