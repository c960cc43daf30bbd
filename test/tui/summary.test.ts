// The `s` summary orders its rows as `-c` does: by time spent, then calls, then name.
import { describe, expect, it } from 'vitest';
import { Summary } from '../../src/render/summary.js';
import { EventStore } from '../../src/tui/state/eventStore.js';
import { formatSummary, summarizeStore } from '../../src/tui/state/summary.js';
import { fakeIoctl } from './fakeEvents.js';

describe('summary overlay', () => {
  it('sorts as -c does, by time spent rather than by calls', () => {
    const store = new EventStore();
    const c = new Summary();
    const add = (seq: number, name: string, dur: number) => {
      const ev = fakeIoctl({ seq, name });
      ev.dur = dur;
      store.add(ev);
      c.add(ev);
    };
    let seq = 0;
    // Many cheap polls, a few slow resets, and two names tied on time and calls.
    for (let k = 0; k < 50; k++) add(seq++, 'VFIO_EEH_PE_OP', 1_000);
    for (let k = 0; k < 3; k++) add(seq++, 'VFIO_DEVICE_RESET', 900_000);
    add(seq++, 'VFIO_IOMMU_UNMAP_DMA', 5_000);
    add(seq++, 'VFIO_IOMMU_MAP_DMA', 5_000);
    const tui = summarizeStore(store).map((r) => r.ioctl);
    expect(tui).toEqual(c.sorted().map((r) => r.ioctl));
    expect(tui[0]).toBe('VFIO_DEVICE_RESET');
    const lines = formatSummary(summarizeStore(store));
    expect(lines[1]).toMatch(/^VFIO_DEVICE_RESET\s+3\s+0\s+2700\.0/);
  });
});
