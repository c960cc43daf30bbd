// Golden recordings: one QEMU-like sPAPR + EEH session (scenario.ts) recorded
// on x86_64, ppc64le and ppc64 (big-endian). Whatever host made a recording,
// `vfiotrace show` must print the same text and JSON for it; only the request
// number differs (powerpc's _IOC_NONE is 1 at bit 29, so every VFIO number
// carries 0x20000000 there).
//
// Regenerate after a deliberate change to the scenario or the output:
//   UPDATE_GOLDEN=1 npx vitest run test/golden

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run as show } from '../../src/commands/show.js';
import { parseRecording } from '../../src/trace/reader.js';
import { runCli, tmp } from '../integration/helpers.js';
import { SPAPR_EEH_SESSION, spaprEehRecording } from './scenario.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const ARCHES = ['x86_64', 'ppc64le', 'ppc64'] as const;
const PPC_IOC_NONE = 0x20000000;

const vft = (arch: string): string => path.join(HERE, `spapr-eeh.${arch}.vft`);
const TEXT = path.join(HERE, 'spapr-eeh.txt');
const JSONL = path.join(HERE, 'spapr-eeh.jsonl');

if (UPDATE) {
  for (const arch of ARCHES) writeFileSync(vft(arch), spaprEehRecording(arch));
}

async function showFile(file: string, extra: string[] = []): Promise<string> {
  const dir = tmp();
  const r = await runCli(show, [...extra, file], dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

type Json = Record<string, unknown>;
const jsonLines = (s: string): Json[] => s.trimEnd().split('\n').map((l) => JSON.parse(l) as Json);

describe('golden sPAPR + EEH recordings', () => {
  it.each(ARCHES)('%s: the committed file is what the scenario generates', (arch) => {
    const committed = new Uint8Array(readFileSync(vft(arch)));
    expect(Buffer.compare(committed, spaprEehRecording(arch))).toBe(0);
  });

  it.each(ARCHES)('%s: the header says which host made it', (arch) => {
    const { header, records } = parseRecording(new Uint8Array(readFileSync(vft(arch))));
    expect(header.arch).toBe(arch);
    expect(header.byteOrder).toBe(arch === 'ppc64' ? 'be' : 'le');
    expect(header.wordSize).toBe(8);
    const first = records.find((r) => r.type === 'ioctl');
    expect(first?.type === 'ioctl' && Number(first.request)).toBe(arch.startsWith('ppc') ? 0x20003b64 : 0x3b64);
  });

  it('x86_64 decodes to the committed text and JSON', async () => {
    const text = await showFile(vft('x86_64'));
    const json = await showFile(vft('x86_64'), ['--json']);
    if (UPDATE) {
      writeFileSync(TEXT, text);
      writeFileSync(JSONL, json);
    }
    expect(text).toBe(readFileSync(TEXT, 'utf8'));
    expect(json).toBe(readFileSync(JSONL, 'utf8'));
  });

  it('the expected output is a real decode of the session', () => {
    const text = readFileSync(TEXT, 'utf8');
    const calls = text.split('\n').filter((l) => l.startsWith('ioctl('));
    expect(calls).toHaveLength(SPAPR_EEH_SESSION.length);
    for (const [k, l] of calls.entries()) expect(l, l).toContain(`, ${SPAPR_EEH_SESSION[k]!.ioctl}, `);
    expect(text).toMatch(/VFIO_EEH_PE_OP, \{argsz=40, flags=0x0, op=VFIO_EEH_PE_INJECT_ERR, err=\{type=EEH_ERR_TYPE_64, func=EEH_ERR_FUNC_DMA_RD_DATA, addr=0x8000000000, mask=0xffffffffffff0000\}\}\) = 0 \(success\)/);
    expect(text).toContain('PE state VFIO_EEH_PE_STATE_STOPPED');
    expect(text).toMatch(/flags=0x1, op=VFIO_EEH_PE_RESET_HOT\}\) = -1 EINVAL[^\n]*\n {2}\^ error eeh-flags-nonzero/);
    expect(text).toMatch(/start_addr=0x800000000000000/);
    // a capability chain and a flexible __s32 array, both in the producer's byte order
    expect(text).toContain('caps=[{header={id=1, version=1, next=0}, nr_areas=2, reserved=0x0, areas=[{offset=0x0, size=0x8000}, {offset=0x10000, size=0x10000}]}]');
    expect(text).toContain('index=VFIO_PCI_MSIX_IRQ_INDEX, start=0, count=2, data=[10, -1]}) = 0');
    const json = jsonLines(readFileSync(JSONL, 'utf8')).filter((o) => o.type === 'ioctl');
    for (const o of json) expect(o.resolution, String(o.ioctl)).not.toBe('ambiguous');
  });

  it.each(['ppc64le', 'ppc64'])('%s decodes exactly like x86_64', async (arch) => {
    expect(await showFile(vft(arch))).toBe(readFileSync(TEXT, 'utf8'));
    const want = jsonLines(readFileSync(JSONL, 'utf8'));
    const got = jsonLines(await showFile(vft(arch), ['--json']));
    expect(got).toHaveLength(want.length);
    got.forEach((o, k) => {
      const w = want[k]!;
      if (o.type === 'ioctl') {
        expect(o.request).toBe((Number(w.request) | PPC_IOC_NONE) >>> 0);
        o.request = w.request;
      }
      expect(o).toEqual(w);
    });
  });

  it('decodes the same where code generation from strings is disallowed (a hardened Node)', () => {
    const bin = path.join(HERE, '..', '..', 'bin', 'vfiotrace.js');
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', bin, 'show', vft('x86_64')], { encoding: 'utf8' });
    expect(out).toBe(readFileSync(TEXT, 'utf8'));
  });

  it.each(['ppc64le', 'ppc64'])('%s: -T and -ttt times match x86_64 too', async (arch) => {
    const flags = ['-T', '-ttt'];
    expect(await showFile(vft(arch), flags)).toBe(await showFile(vft('x86_64'), flags));
  });
});
