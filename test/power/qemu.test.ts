// The cross-built recorders run under qemu-user. ptrace does not exist
// there, so this covers what can run: option parsing, the compiled-in rule
// table, and the record writer producing a header and records in the
// target's byte order (--selftest-synthetic); then `vfiotrace show` on this
// x86_64 machine decodes those files. docs/power.md lists what stays untested.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run as show } from '../../src/commands/show.js';
import { captureRules } from '../../src/decode/captureRules.js';
import { EndReason, ProcessEventKind, RuleKind, type IoctlRecord } from '../../src/trace/events.js';
import { engineBuildId } from '../../src/trace/native.js';
import { parseRecording } from '../../src/trace/reader.js';
import { runCli, tmp } from '../integration/helpers.js';
import { QEMU, RECORDER, crossDir, crossUnavailable, make, qemuUnavailable, recorderUnavailable, type CrossArch } from './build.js';
import { registry } from '../../decoders/index.js';

const EMULATED: CrossArch[] = ['ppc64le', 'ppc64', 'aarch64'];

function runUnder(arch: CrossArch, args: string[]) {
  const r = spawnSync(QEMU[arch] as string, [path.join(crossDir(arch), 'vfiotrace-record'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `vfiotrace show` text of a recording, with the exit code checked. */
async function showText(file: string): Promise<string> {
  const r = await runCli(show, [file], tmp());
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

let hostText: string | null = null;
beforeAll(async () => {
  // The same synthetic records from this host's native recorder, for comparison.
  if (recorderUnavailable() !== null) return;
  const file = path.join(tmp(), 'host.vft');
  const r = spawnSync(RECORDER, ['--selftest-synthetic', file]);
  if (r.status === 0) hostText = await showText(file);
});

describe.each(EMULATED)('%s recorder under qemu-user', (arch) => {
  const skip = crossUnavailable(arch) ?? qemuUnavailable(arch);
  const itq = it.skipIf(skip !== null);
  const why = skip ? ` (skipped: ${skip})` : '';
  const rules = captureRules(arch, registry());

  beforeAll(() => {
    if (skip === null) expect(make(`cross-${arch}`)).toBeNull();
  });

  itq(`reports its table and rejects bad usage${why}`, () => {
    const v = runUnder(arch, ['--version']);
    expect(v.code).toBe(0);
    // Built from the same sources as this machine's engine: the same build id.
    expect(v.stdout).toBe(`vfiotrace-record 0.1.0 (${arch}, ${rules.length} capture rules, engine build ${engineBuildId()})\n`);
    const bad = runUnder(arch, ['--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('-o FILE is required');
    const cap = runUnder(arch, ['-o', '/dev/null', '-s', '-1', 'true']);
    expect(cap.code).toBe(2);
    expect(cap.stderr).toContain("invalid -s value: '-1'");
  });

  itq(`says clearly that it cannot trace without ptrace${why}`, () => {
    const file = path.join(tmp(), 'none.vft');
    const r = runUnder(arch, ['-o', file, '--', '/bin/true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vfiotrace-record: cannot trace the command: ptrace: /);
  });

  itq(`writes a valid header and records in ${arch === 'ppc64' ? 'big' : 'little'}-endian order${why}`, async () => {
    const file = path.join(tmp(), `${arch}.vft`);
    const r = runUnder(arch, ['--selftest-synthetic', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bytes = new Uint8Array(readFileSync(file));
    // byte-order mark as written by the target, read raw
    expect([...bytes.subarray(8, 12)]).toEqual(arch === 'ppc64' ? [0x0a, 0x0b, 0x0c, 0x0d] : [0x0d, 0x0c, 0x0b, 0x0a]);
    const { header, records } = parseRecording(bytes);
    expect(header).toMatchObject({ arch, byteOrder: arch === 'ppc64' ? 'be' : 'le', wordSize: 8, producer: 'vfiotrace-record 0.1.0' });
    expect(header.argv).toEqual(['vfiotrace-record', '--selftest-synthetic']);

    const ioctls = records.filter((x): x is IoctlRecord => x.type === 'ioctl');
    expect(ioctls.map((x) => x.ruleKind)).toEqual([RuleKind.None, RuleKind.Integer, RuleKind.Fixed, RuleKind.Sized, RuleKind.CString]);
    const le = header.byteOrder === 'le';
    for (const x of ioctls) {
      // each request is the table's own number for this ABI, with its rule kind
      const rule = rules.find((q) => q.request === Number(x.request));
      expect(rule?.kind).toBe(x.ruleKind);
      expect(x.ret).toBe(-25n);
      if (x.ruleKind === RuleKind.Sized) {
        const argsz = new DataView(x.entry.buffer, x.entry.byteOffset).getUint32(0, le);
        expect(argsz).toBe(rule?.minsz);
        expect(x.entry.length).toBe(argsz);
      }
      if (x.ruleKind === RuleKind.Fixed) expect(new DataView(x.entry.buffer, x.entry.byteOffset).getInt32(0, le)).toBe(3);
    }
    const first = records[0];
    expect(first?.type === 'process' && first.kind).toBe(ProcessEventKind.Start);
    const end = records.at(-1);
    expect(end?.type === 'end' && [end.reason, end.events]).toEqual([EndReason.Exited, 5n]);

    // Decoded here, it reads exactly like the same records from this host's recorder.
    const text = await showText(file);
    expect(text).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_GET_API_VERSION, 0\) = -1 ENOTTY/);
    expect(text).toContain('VFIO_GROUP_GET_DEVICE_FD, "0000:00:00.0") = -1 ENOTTY');
    if (hostText !== null) expect(text).toBe(hostText);
  });
});
