import { describe, expect, it } from 'vitest';
import { buildDetail, hexDump } from '../../src/tui/state/detail.js';
import { EventStore } from '../../src/tui/state/eventStore.js';
import { formatSummary, summarizeStore } from '../../src/tui/state/summary.js';
import { fakeIoctl } from './fakeEvents.js';

describe('detail pane model', () => {
  it('flattens the tree with offsets and sides', () => {
    const lines = buildDetail(fakeIoctl({ seq: 3, findings: [{ rule: 'eeh-flags', severity: 'error', message: 'flags must be 0' }] }));
    expect(lines[0]?.text).toContain('VFIO_EEH_PE_OP');
    const op = lines.find((l) => l.node?.name === 'op');
    expect(op?.side).toBe('in');
    expect(op?.text).toContain('VFIO_EEH_PE_GET_STATE');
    expect(op?.text).toContain('@8+4');
    expect(lines.some((l) => l.style === 'finding' && l.text.includes('eeh-flags'))).toBe(true);
  });

  it('flags an event re-read from disk only when it decodes differently than in sequence', () => {
    const ev = fakeIoctl({ seq: 3 });
    expect(buildDetail(ev, 'VFIO_EEH_PE_OP').some((l) => l.text.includes('re-read'))).toBe(false);
    const note = buildDetail(ev, 'VFIO_IOMMU_SPAPR_TCE_REMOVE').find((l) => l.text.includes('re-read'));
    expect(note?.text).toContain('in sequence it was VFIO_IOMMU_SPAPR_TCE_REMOVE');
  });

  it('says so when there is no event', () => {
    expect(buildDetail(null)[0]?.text).toMatch(/no event/);
  });

  it('highlights exactly the selected field bytes and marks differences', () => {
    const a = Uint8Array.from({ length: 40 }, (_, i) => i);
    const b = a.slice();
    b[9] = 0xff;
    const lines = hexDump(a, 8, 4, b);
    expect(lines).toHaveLength(3);
    const flat = lines.flatMap((l) => l.bytes);
    expect(flat.map((x, i) => (x.hl ? i : -1)).filter((i) => i >= 0)).toEqual([8, 9, 10, 11]);
    expect(flat.filter((x) => x.diff)).toHaveLength(1);
    expect(lines[2]?.offset).toBe(32);
  });
});

describe('summary table', () => {
  it('counts calls and errors per ioctl', () => {
    const s = new EventStore();
    s.add(fakeIoctl({ seq: 0 }));
    s.add(fakeIoctl({ seq: 1, ret: -5, errno: 'EIO' }));
    s.add(fakeIoctl({ seq: 2, name: 'VFIO_GROUP_GET_STATUS' }));
    const rows = summarizeStore(s);
    expect(rows[0]).toMatchObject({ ioctl: 'VFIO_EEH_PE_OP', calls: 2, errors: 1 });
    expect(formatSummary(rows).at(-1)).toMatch(/total\s+3\s+1/);
  });
});
