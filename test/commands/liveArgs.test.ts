// The checks every live command shares: -p, -s and the command's executable.

import { describe, expect, it } from 'vitest';
import { checkLiveArgs, parsePayloadCap } from '../../src/commands/liveArgs.js';
import { MAX_PAYLOAD_CAP } from '../../src/trace/native.js';

describe('parsePayloadCap', () => {
  it('takes 0 to the engine bound of 64 MiB and nothing else', () => {
    expect(MAX_PAYLOAD_CAP).toBe(64 * 1024 * 1024);
    expect(parsePayloadCap('0')).toBe(0);
    expect(parsePayloadCap('4096')).toBe(4096);
    expect(parsePayloadCap(String(MAX_PAYLOAD_CAP))).toBe(MAX_PAYLOAD_CAP);
    for (const bad of [String(MAX_PAYLOAD_CAP + 1), '1073741824', '-1', '', '4k', '1e3', ' 1', '0x10']) {
      expect(parsePayloadCap(bad), bad).toBeNull();
    }
  });
});

describe('checkLiveArgs', () => {
  it('parses repeated and comma-separated pids', () => {
    expect(checkLiveArgs({ pids: ['12', '34,56'], payloadCap: '0', command: [] })).toEqual({ pids: [12, 34, 56], payloadCap: 0 });
  });

  it('names the first bad value in one line', () => {
    expect(checkLiveArgs({ pids: ['0'], payloadCap: '4096', command: [] })).toEqual({ error: "invalid process id: '0'" });
    expect(checkLiveArgs({ pids: ['1,'], payloadCap: '4096', command: [] })).toEqual({ error: "invalid process id: ''" });
    expect(checkLiveArgs({ pids: [], payloadCap: '67108865', command: ['true'] })).toEqual({ error: "invalid -s value: '67108865' (bytes, 0 to 64 MiB)" });
    expect(checkLiveArgs({ pids: [], payloadCap: '4096', command: ['/nonexistent/vfiotrace-no-such'] })).toEqual({
      error: "cannot run '/nonexistent/vfiotrace-no-such': No such file or directory",
    });
  });

  it('says why a command cannot run, as exec would: not executable, a directory, not on PATH', () => {
    const err = (cmd: string) => (checkLiveArgs({ pids: [], payloadCap: '4096', command: [cmd] }) as { error?: string }).error;
    expect(err('/etc/passwd')).toBe("cannot run '/etc/passwd': Permission denied");
    expect(err('/tmp')).toBe("cannot run '/tmp': Is a directory");
    expect(err('vfiotrace-no-such-command')).toBe("cannot run 'vfiotrace-no-such-command': command not found in PATH");
  });

  it('finds a command on PATH', () => {
    expect(checkLiveArgs({ pids: [], payloadCap: '4096', command: ['sh', '-c', 'true'] })).toEqual({ pids: [], payloadCap: 4096 });
  });
});
