// The renderers on events the real decoder produced from raw byte vectors,
// in both byte orders (x86_64 little-endian, ppc64 big-endian). Wording that
// belongs to the decoder (meanings, reasons) is matched loosely.

import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { renderJson } from '../../src/render/json.js';
import { TextRenderer } from '../../src/render/text.js';
import { type IoctlRecord, RuleKind } from '../../src/trace/events.js';
import { makeHeader } from '../../src/trace/writer.js';
import { registry } from '../../decoders/index.js';

function words(bigEndian: boolean, ...w: number[]): Uint8Array {
  const b = new Uint8Array(w.length * 4);
  const dv = new DataView(b.buffer);
  w.forEach((x, i) => dv.setUint32(i * 4, x, !bigEndian));
  return b;
}

function rec(o: Partial<IoctlRecord>): IoctlRecord {
  return {
    type: 'ioctl', offset: 0, flags: 0, pid: 7, tid: 7, tEntry: 1000n, tExit: 3000n, fd: 3n, request: 0n, arg: 0x7ff0n,
    ret: 0n, wantLen: 0, inFault: null, outFault: null, ruleKind: RuleKind.None, fdPath: '/dev/vfio/vfio',
    entry: new Uint8Array(0), exit: new Uint8Array(0), ...o,
  };
}

describe.each([
  ['x86_64', 0, false],
  ['ppc64', 0x20000000, true],
] as const)('text and JSON from the %s decoder', (arch, dirNone, be) => {
  const header = makeHeader({ arch });
  const req = (n: number): bigint => BigInt(dirNone + n);
  const lines = (): { text: string[]; json: Record<string, unknown>[] } => {
    const d = createDecoder(header, { registry: registry() });
    const t = new TextRenderer(header, { duration: true });
    const evs = [
      rec({ request: req(0x3b65), arg: 5n, ret: 1n, ruleKind: RuleKind.Integer }),
      rec({ fd: 4n, fdPath: '/dev/vfio/42', request: req(0x3b67), ruleKind: RuleKind.Sized, wantLen: 8, entry: words(be, 8, 0), exit: words(be, 8, 3) }),
      rec({ request: req(0x3b79), ret: 2n, ruleKind: RuleKind.Sized, wantLen: 40, entry: words(be, 40, 0, 4, 0, 0, 0, 0, 0, 0, 0), exit: words(be, 40, 0, 4, 0, 0, 0, 0, 0, 0, 0) }),
      rec({ request: req(0x3b79), ret: -22n, ruleKind: RuleKind.Sized, wantLen: 8, entry: words(be, 8, 0), exit: words(be, 8, 0) }),
      rec({ fd: 4n, fdPath: '/dev/vfio/42', request: req(0x3b6a), ret: 5n, ruleKind: RuleKind.CString, wantLen: 14, entry: new TextEncoder().encode('0000:06:0d.0\x1b[') }),
      rec({ fd: 5n, fdPath: 'anon_inode:[vfio-device]', request: req(0x3b6b), ruleKind: RuleKind.Sized, wantLen: 24, entry: words(be, 24, 0, 0, 0, 0, 0), exit: words(be, 24, 3, 9, 5, 0, 0) }),
    ].map((r) => d.decode(r));
    return { text: evs.map((e) => t.render(e)).join('').trimEnd().split('\n'), json: evs.map((e) => JSON.parse(renderJson(e)) as Record<string, unknown>) };
  };

  it('prints entry fields, => kernel-written fields, results and findings', () => {
    const all = lines().text;
    // Findings (which the decoder may add to) follow their call's line.
    const text = all.filter((l) => !l.startsWith('  ^ '));
    const after = (i: number): string[] => {
      const at = all.indexOf(text[i]!);
      const out: string[] = [];
      for (let j = at + 1; j < all.length && all[j]!.startsWith('  ^ '); j++) out.push(all[j]!);
      return out;
    };
    expect(text[0]).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_CHECK_EXTENSION, VFIO_EEH\) = 1 \(.*supported\) <0\.000002>$/);
    expect(text[1]).toMatch(/^ioctl\(4<\/dev\/vfio\/42>, VFIO_GROUP_GET_STATUS, \{argsz=8\} => \{flags=VFIO_GROUP_FLAGS_VIABLE\|VFIO_GROUP_FLAGS_CONTAINER_SET\}\) = 0( \(success\))? <0\.000002>$/);
    expect(text[2]).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_EEH_PE_OP, \{argsz=40, flags=0(x0)?, op=VFIO_EEH_PE_GET_STATE\}\) = 2 \(.*VFIO_EEH_PE_STATE_STOPPED\) <0\.000002>$/);
    expect(text[3]).toMatch(/^ioctl\(3<\/dev\/vfio\/vfio>, VFIO_EEH_PE_OP, \{argsz=8, .*\}\) = -1 EINVAL \(Invalid argument: .*argsz < 12.*\) <0\.000002>$/);
    expect(after(3).some((l) => /^  \^ error argsz-below-minsz: /.test(l))).toBe(true);
    // The tracee's escape sequence is shown escaped, never raw.
    expect(text[4]).toMatch(/^ioctl\(4<\/dev\/vfio\/42>, VFIO_GROUP_GET_DEVICE_FD, "0000:06:0d\.0\\(x1b|033|e)\[.*"\) = 5 \(.*device fd.*\) <0\.000002>$/);
    expect(text[5]).toMatch(/^ioctl\(5<anon_inode:\[vfio-device\]>, VFIO_DEVICE_GET_INFO, \{argsz=24\} => \{flags=VFIO_DEVICE_FLAGS_RESET\|VFIO_DEVICE_FLAGS_PCI, num_regions=9, num_irqs=5, .*\}\) = 0( \(success\))? <0\.000002>$/);
    expect(text).toHaveLength(6);
    expect(all.join('\n')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it('JSON carries the decoded payloads keyed by C field names', () => {
    const { json } = lines();
    expect(json[1]).toMatchObject({ ioctl: 'VFIO_GROUP_GET_STATUS', fd_kind: 'group', ret: 0, errno: null, in: { argsz: 8 }, out: { flags: 3 } });
    expect(json[1]!.in).not.toHaveProperty('flags'); // in: what the caller provides; out: what the kernel writes
    expect(json[2]).toMatchObject({ ioctl: 'VFIO_EEH_PE_OP', ret: 2, in: { argsz: 40, flags: 0, op: 4 } });
    expect(json[3]).toMatchObject({ ret: -1, errno: 'EINVAL' });
    expect((json[3]!.findings as { rule: string }[]).map((f) => f.rule)).toContain('argsz-below-minsz');
    expect(json[4]).toMatchObject({ ret: 5, new_fd: { fd: 5, kind: 'device' } });
    expect(['0000:06:0d.0\x1b[', '0000:06:0d.0\\x1b[']).toContain(json[4]!.in); // raw, or as the decoder escaped it
    expect(json[5]).toMatchObject({ fd_kind: 'device', out: { flags: 3, num_regions: 9, num_irqs: 5 } });
    expect(json[0]).toMatchObject({ request: Number(req(0x3b65)), dur: 2000, ts: 1000 });
  });
});
