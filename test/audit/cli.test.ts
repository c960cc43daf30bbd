// `vfiotrace audit FILE` on recordings written with src/trace/writer.ts:
// report shape, exit codes, --fail-on, --json, usage and trace errors.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Progress } from '../../src/audit/progress.js';
import type { JsonReport } from '../../src/audit/report.js';
import { run } from '../../src/commands/audit.js';
import { encodeRecording } from '../../src/trace/writer.js';
import { spaprPrefix, spaprSession, type1Session, type Session } from './qemu.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vft-audit-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, s: Session): string {
  const file = path.join(dir, name);
  writeFileSync(file, encodeRecording(s.header, s.records));
  return file;
}

async function audit(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  try {
    const code = await run(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** sPAPR session with an EEH reset never deactivated (error) and UNFREEZE on a NORMAL PE (warning). */
function misuse(): Session {
  const s = spaprPrefix();
  s.eeh(1).eeh(4, 0).eeh(2).eeh(6);
  return s.exit();
}

describe('vfiotrace audit FILE', () => {
  it('clean recording: exit 0, says so', async () => {
    const r = await audit([write('clean.vft', type1Session().exit())]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^no findings in \d+ events\n$/);
  });

  it('findings grouped by rule, most severe first, with example lines and the explanation', async () => {
    const r = await audit([write('bad.vft', misuse())]);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^2 findings \(1 error, 1 warning, 0 info\) under 2 rules in \d+ events$/);
    const first = lines.findIndex((l) => l.startsWith('error   eeh-reset-not-deactivated ×1'));
    const second = lines.findIndex((l) => l.startsWith('warning eeh-unfreeze-when-normal ×1'));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(r.out).toContain('VFIO_EEH_PE_OP, {argsz=40');
    expect(r.out).toContain('  | VFIO_EEH_PE_RESET_HOT and VFIO_EEH_PE_RESET_FUNDAMENTAL assert a reset');
    const brief = await audit(['--no-explain', path.join(dir, 'bad.vft')]);
    expect(brief.out).not.toContain('  | ');
  });

  it('--fail-on decides the exit code', async () => {
    const f = path.join(dir, 'bad.vft');
    expect((await audit(['--fail-on', 'error', f])).code).toBe(1);
    const s = spaprPrefix();
    s.eeh(1).eeh(4, 0).eeh(2); // only the warning
    const w = write('warn.vft', s.exit());
    expect((await audit(['--fail-on', 'error', w])).code).toBe(0);
    expect((await audit([w])).code).toBe(1);
    expect((await audit(['--fail-on', 'bogus', w])).code).toBe(2);
  });

  it('--json: counts, rules with examples and lines, every finding', async () => {
    const r = await audit(['--json', path.join(dir, 'bad.vft')]);
    const j = JSON.parse(r.out) as JsonReport;
    expect(j.counts).toEqual({ error: 1, warning: 1, info: 0 });
    expect(j.rules.map((x) => [x.rule, x.count])).toEqual([['eeh-reset-not-deactivated', 1], ['eeh-unfreeze-when-normal', 1]]);
    const ex = j.rules[1]!.examples[0]!;
    expect(Object.keys(ex.lines).map(Number)).toEqual(ex.events);
    expect(j.findings).toHaveLength(2);
    expect(j.error).toBeNull();
  });

  it('-o writes the report to a file', async () => {
    const o = path.join(dir, 'report.txt');
    const r = await audit(['-o', o, write('sp.vft', spaprSession().exit())]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(readFileSync(o, 'utf8')).toMatch(/^no findings/);
  });

  it('a cut-short recording: findings before the cut are reported, exit 2 with the byte offset', async () => {
    const bytes = readFileSync(path.join(dir, 'bad.vft'));
    const cut = path.join(dir, 'cut.vft');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const r = await audit(['--json', cut]);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.out) as JsonReport;
    expect(j.findings.map((f) => f.rule)).toContain('eeh-unfreeze-when-normal');
    expect(j.error).toMatch(/\d/);
    expect(r.err).toMatch(/^vfiotrace audit: .*cut\.vft: /);
  });

  it('a recording cut at a record boundary (no END record) is reported as incomplete, exit 2', async () => {
    const s = type1Session().exit();
    const noEnd = path.join(dir, 'noend.vft');
    const bytes = encodeRecording(s.header, s.records.filter((r) => r.type !== 'end'));
    writeFileSync(noEnd, bytes);
    const r = await audit([noEnd]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`vfiotrace audit: ${noEnd}: incomplete recording: it ends at byte ${bytes.length} without an END record (the tracer was stopped or the file was cut short)\n`);
    const j = await audit(['--json', noEnd]);
    expect(j.code).toBe(2);
    expect((JSON.parse(j.out) as JsonReport).error).toMatch(/incomplete recording/);
  });

  it('a directory and an empty file are named as such', async () => {
    const empty = path.join(dir, 'empty.vft');
    writeFileSync(empty, '');
    expect((await audit([dir])).err).toBe(`vfiotrace audit: ${dir}: is a directory\n`);
    expect((await audit([empty])).err).toBe(`vfiotrace audit: ${empty}: empty: not a vfiotrace recording\n`);
  });

  it('not a recording / missing file / usage errors → 2 with one line on stderr', async () => {
    const junk = path.join(dir, 'junk.vft');
    writeFileSync(junk, 'hello, world, this is not a recording at all........');
    for (const args of [[junk], [path.join(dir, 'nope.vft')], [], ['a.vft', 'b.vft'], ['-p', 'x'], ['-p', '1', 'f.vft'], ['--', '/nonexistent/prog']]) {
      const r = await audit(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^vfiotrace audit: /);
    }
  });

  it('--list-rules and --help', async () => {
    const r = await audit(['--list-rules']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('eeh-access-while-stopped (warning)');
    expect((await audit(['--help'])).code).toBe(0);
  });
});

describe('progress bar', () => {
  it('draws a bar with percentage and clears it', () => {
    const chunks: string[] = [];
    const fake = { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream;
    const p = new Progress(1000, fake);
    p.update(500, 42);
    p.update(600, 50); // throttled
    p.clear();
    expect(chunks).toEqual([`\r[${'#'.repeat(15)}${'.'.repeat(15)}]  50%  42 events`, '\r\x1b[K']);
  });
});
