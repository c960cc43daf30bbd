// Process events, the end of a trace and the VFIO state read as names, not
// raw numbers: the names come from the decoders' and renderers' tables.
import { describe, expect, it } from 'vitest';
import type { SessionSnapshot } from '../../src/model/snapshot.js';
import { EndReason, ProcessEventKind } from '../../src/trace/events.js';
import { buildDetail } from '../../src/tui/state/detail.js';
import { summarize } from '../../src/tui/state/rowSummary.js';
import { stateLines } from '../../src/tui/stateView.js';
import { fakeEnd, fakeProcess } from './fakeEvents.js';

describe('process and end events', () => {
  it('name signals in the list row and the detail', () => {
    const sig = fakeProcess(4, ProcessEventKind.Signal, 17);
    expect(summarize(sig).name).toBe('--- SIGCHLD ---');
    const detail = buildDetail(sig).map((l) => l.text).join('\n');
    expect(detail).toContain('signal SIGCHLD');
    expect(detail).not.toMatch(/kind \d|value \d/);
    const killed = fakeProcess(5, ProcessEventKind.Killed, 9, 1);
    expect(summarize(killed).name).toBe('+++ killed by SIGKILL (core dumped) +++');
    expect(buildDetail(killed).map((l) => l.text).join('\n')).toContain('killed by SIGKILL (core dumped)');
  });

  it('describe each kind by its fields', () => {
    const text = (kind: ProcessEventKind, value: number, other: number, t: string) =>
      buildDetail(fakeProcess(1, kind, value, other, t)).map((l) => l.text).join('\n');
    expect(text(ProcessEventKind.Start, 0, 99, 'qemu')).toMatch(/start[\s\S]*parent 99[\s\S]*comm qemu/);
    expect(text(ProcessEventKind.Exec, 0, 0, '/usr/bin/qemu')).toMatch(/exec[\s\S]*path \/usr\/bin\/qemu/);
    expect(text(ProcessEventKind.Exit, 42, 0, '')).toMatch(/exit[\s\S]*status 42/);
  });

  it('name the reason a trace ended', () => {
    const exited = buildDetail(fakeEnd(9, EndReason.Exited, 0)).map((l) => l.text).join('\n');
    expect(exited).toMatch(/end of trace #9: exited, status 0/);
    expect(exited).not.toMatch(/reason \d/);
    const killed = buildDetail(fakeEnd(9, EndReason.Killed, 15)).map((l) => l.text).join('\n');
    expect(killed).toMatch(/killed by SIGTERM/);
    expect(summarize(fakeEnd(9, EndReason.Killed, 15)).name).toBe('=== trace ended: killed by SIGTERM ===');
  });
});

function snapshot(): SessionSnapshot {
  const dma = {
    mappings: [{ iova: '0x100000', size: '0x1000', vaddr: '0x7f0000000000', flags: 3, seq: 9 }],
    mappedBytes: '0x1000',
    failedMaps: 0,
  };
  return {
    seq: 20,
    processes: [{
      pid: 100, exited: false, fds: [], closedFds: [],
      extensions: [{ id: 3, answer: 0, seq: 1 }, { id: 1, answer: 0, seq: 2 }, { id: 7, answer: 1, seq: 3 }, { id: 5, answer: null, seq: 4 }],
      containers: [{
        id: 'container#1', fd: 3, iommu: null, groups: [{ id: 'group#2', number: '42', seq: 5, ok: true, errno: null }], pgsizes: null, dma, spapr: null,
        eeh: { ops: [], lastState: null, pendingReset: null },
      }],
      groups: [{ id: 'group#2', fd: 4, number: '42', container: { id: 'container#1', fd: 3, seq: 5, ok: true, errno: null }, devices: ['device#3'] }],
      devices: [{
        id: 'device#3', fd: 5, name: '0000:01:00.0', via: 'group', group: 'group#2', bind: null, attach: null,
        info: { flags: 3, numRegions: 9, numIrqs: 5 },
        regions: [{ index: 0, flags: 7, size: '0x1000', offset: '0x0', seq: 7 }],
        irqs: [{ index: 2, count: 8, flags: 0, eventfds: [{ vector: 0, fd: 9 }] }],
        migrationFds: [],
      }],
      iommufds: [],
    }],
  };
}

describe('VFIO state pane', () => {
  it('names extensions with their answers, and flags by their bits', () => {
    const text = stateLines(snapshot()).join('\n');
    expect(text).toContain('extensions: VFIO_TYPE1v2_IOMMU=no VFIO_TYPE1_IOMMU=no VFIO_SPAPR_TCE_v2_IOMMU=yes VFIO_EEH=failed');
    expect(text).toContain('flags VFIO_DEVICE_FLAGS_RESET|VFIO_DEVICE_FLAGS_PCI');
    expect(text).toContain('flags VFIO_DMA_MAP_FLAG_READ|VFIO_DMA_MAP_FLAG_WRITE');
    expect(text).toContain('VFIO_REGION_INFO_FLAG_READ|VFIO_REGION_INFO_FLAG_WRITE|VFIO_REGION_INFO_FLAG_MMAP');
    expect(text).toContain('irq VFIO_PCI_MSIX_IRQ_INDEX: count 8');
    expect(text).not.toMatch(/\b\d=\d\b|flags 0x|flags 3\b/);
  });
});
