// `vfiotrace export --format perfetto`: the Chrome trace-event JSON document
// is well formed (parses, required keys per phase), times are microseconds
// and never go back on a track, and it carries the ioctls, the process
// lifecycle and the EEH PE state.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run as exportCmd } from '../../src/commands/export.js';
import { micros, PE_COUNTER } from '../../src/render/perfetto.js';
import { encodeRecording } from '../../src/trace/writer.js';
import { spaprPrefix } from '../audit/qemu.js';
import { runCli, tmp } from '../integration/helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GOLDEN = path.join(HERE, '../golden/spapr-eeh.ppc64le.vft');

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  s?: string;
  cat?: string;
  args?: Record<string, unknown>;
}
interface Doc {
  displayTimeUnit: string;
  otherData: Record<string, unknown>;
  traceEvents: TraceEvent[];
}

async function exportFile(file: string): Promise<{ code: number; doc: Doc; stderr: string }> {
  const dir = tmp();
  const r = await runCli(exportCmd, ['--format', 'perfetto', file], dir, 'out.json');
  return { code: r.code, doc: JSON.parse(r.stdout) as Doc, stderr: r.stderr };
}

/** Every structural promise of the format, checked on any exported document. */
function checkStructure(doc: Doc): void {
  expect(Array.isArray(doc.traceEvents)).toBe(true);
  const lastTs = new Map<string, number>();
  for (const e of doc.traceEvents) {
    expect(typeof e.ph).toBe('string');
    expect(typeof e.name).toBe('string');
    expect(Number.isInteger(e.pid)).toBe(true);
    if (e.ph === 'M') {
      expect(['process_name', 'thread_name']).toContain(e.name);
      expect(typeof e.args?.name).toBe('string');
      continue;
    }
    expect(typeof e.ts).toBe('number');
    expect(e.ts!).toBeGreaterThanOrEqual(0);
    if (e.ph === 'X') {
      expect(Number.isInteger(e.tid)).toBe(true);
      expect(typeof e.dur).toBe('number');
      expect(e.dur!).toBeGreaterThanOrEqual(0);
      // Complete slices on one thread track follow each other and never overlap.
      const key = `X ${e.pid}/${e.tid}`;
      expect(e.ts!).toBeGreaterThanOrEqual(lastTs.get(key) ?? 0);
      lastTs.set(key, e.ts! + e.dur!);
    } else if (e.ph === 'C') {
      const key = `C ${e.pid}/${e.name}`;
      expect(e.ts!).toBeGreaterThanOrEqual(lastTs.get(key) ?? 0);
      lastTs.set(key, e.ts!);
      expect(typeof e.args?.state).toBe('number');
    } else if (e.ph === 'i') {
      expect(['g', 'p', 't']).toContain(e.s);
    } else {
      throw new Error(`unexpected phase ${e.ph}`);
    }
  }
}

describe('export --format perfetto', () => {
  it('the golden EEH session: slices per call with decoded args, lifecycle instants, the PE state track', async () => {
    const { code, doc, stderr } = await exportFile(GOLDEN);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    checkStructure(doc);
    expect(doc.otherData.arch).toBe('ppc64le');
    const ev = doc.traceEvents;
    expect(ev.find((e) => e.ph === 'M' && e.name === 'process_name')?.args?.name).toBe('qemu-system-ppc64');
    const calls = ev.filter((e) => e.ph === 'X' && e.cat !== 'eeh' || (e.ph === 'X' && String(e.name).startsWith('VFIO_EEH_PE_OP')));
    // One slice per ioctl of the recording (31), in microseconds since the start.
    expect(calls).toHaveLength(31);
    const refused = calls.find((e) => e.args?.errno === 'EINVAL')!;
    expect(refused.name).toBe('VFIO_EEH_PE_OP RESET_HOT');
    expect(refused.args).toMatchObject({ request: 'VFIO_EEH_PE_OP', fd: 3, fd_path: '/dev/vfio/vfio', ret: -1, arg: '{argsz=12, flags=0x1, op=VFIO_EEH_PE_RESET_HOT}' });
    const inject = calls.find((e) => e.name === 'VFIO_EEH_PE_OP INJECT_ERR')!;
    expect(inject.ts).toBe(24000); // 24 ms after the start
    const map = calls.find((e) => e.name === 'VFIO_IOMMU_MAP_DMA')!;
    expect(map.args?.in).toMatchObject({ iova: 0, size: 0x40000000 });
    expect(ev.filter((e) => e.ph === 'i').map((e) => e.name)).toEqual(['start (forked by 1)', 'exited with 0', 'end of trace (exited)']);
    // The PE: NORMAL from ENABLE, STOPPED from INJECT_ERR until RESET_HOT, RESET, NORMAL after RESET_DEACTIVATE.
    const pe = ev.filter((e) => e.ph === 'X' && e.cat === 'eeh' && !e.name.startsWith('VFIO_'));
    expect(pe.map((e) => e.name)).toEqual(['NORMAL', 'STOPPED', 'RESET', 'NORMAL']);
    expect(pe[1]).toMatchObject({ ts: 24000, dur: 3000 });
    expect(ev.filter((e) => e.ph === 'C').map((e) => e.args?.state)).toEqual([PE_COUNTER.NORMAL, PE_COUNTER.STOPPED, PE_COUNTER.RESET, PE_COUNTER.NORMAL]);
    const names = new Map(ev.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args?.name]));
    expect(names.get(pe[0]!.tid)).toBe('EEH PE state, container fd 3');
  });

  it('threads get their own tracks; times stay monotonic per thread when threads interleave', async () => {
    const s = spaprPrefix().eeh(1);
    for (let i = 0; i < 20; i++) s.eeh(4);
    s.exit();
    // Odd calls on a second thread, entered before the previous call on the main one returned.
    s.records.forEach((r, i) => {
      if (r.type !== 'ioctl' || i < 5) return;
      if (i % 2 === 1) {
        r.tid = s.pid + 1;
        r.tEntry -= 700n;
      }
    });
    const dir = tmp();
    const file = path.join(dir, 'threads.vft');
    writeFileSync(file, encodeRecording(s.header, s.records));
    const { code, doc } = await exportFile(file);
    expect(code).toBe(0);
    checkStructure(doc);
    const tids = new Set(doc.traceEvents.filter((e) => e.ph === 'X' && e.name.startsWith('VFIO_')).map((e) => e.tid));
    expect(tids).toEqual(new Set([s.pid, s.pid + 1]));
    expect(doc.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args?.name)).toEqual(
      expect.arrayContaining([`main ${s.pid}`, `thread ${s.pid + 1}`]),
    );
  });

  it('a recording cut short: exit 1 with a one-line error, and a complete document of what came before', async () => {
    const dir = tmp();
    const bytes = readFileSync(GOLDEN);
    const cut = path.join(dir, 'cut.vft');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const { code, doc, stderr } = await exportFile(cut);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('cut.vft');
    checkStructure(doc);
    expect(doc.traceEvents.filter((e) => e.ph === 'X').length).toBeGreaterThan(5);
  });

  it('refuses a missing file and an unknown format with one line', async () => {
    const dir = tmp();
    const missing = await runCli(exportCmd, ['--format', 'perfetto', path.join(dir, 'nope.vft')], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vfiotrace: .*nope\.vft: no such file\n$/);
    const bad = await runCli(exportCmd, ['--format', 'svg', GOLDEN], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('svg');
  });

  it('micros: nanoseconds as exact microseconds', () => {
    expect(micros(0)).toBe('0');
    expect(micros(24_000_000)).toBe('24000');
    expect(micros(1_250)).toBe('1.250');
    expect(micros(1_000_007)).toBe('1000.007');
  });
});
