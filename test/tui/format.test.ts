import { describe, expect, it } from 'vitest';
import { esc, fit, hexTagged, listHeader, rowText } from '../../src/tui/format.js';
import { hexDump } from '../../src/tui/state/detail.js';
import { EventStore } from '../../src/tui/state/eventStore.js';
import { fakeIoctl } from './fakeEvents.js';

describe('list row text', () => {
  it('fits the width and keeps the arguments when the return meaning is long', () => {
    const s = new EventStore();
    const ev = fakeIoctl({ seq: 0, ret: -22, errno: 'EINVAL' });
    ev.ret = { ...ev.ret, meaning: 'x'.repeat(200) };
    s.add(ev);
    const t = rowText(s, 0, 140);
    expect(t).toHaveLength(140);
    expect(t).toContain('3<container>');
    expect(t).toContain('{argsz=40, flags=0, op=VFIO_EEH_PE_GET_STATE}');
    expect(t).toContain('= -1 EINVAL');
  });

  it('at 80 columns gives the arguments the room, cutting the name and the return meaning first', () => {
    const s = new EventStore();
    const ev = fakeIoctl({ seq: 0, ret: 2 });
    ev.ret = { ...ev.ret, meaning: 'VFIO_EEH_PE_STATE_STOPPED' };
    s.add(ev);
    const long = fakeIoctl({ seq: 1, name: 'VFIO_DEVICE_GET_REGION_INFO', ret: -22, errno: 'EINVAL' });
    long.ret = { ...long.ret, meaning: 'argsz below minsz' };
    s.add(long);
    // An 80-column terminal leaves 78 inside the list's border.
    const header = listHeader(78).replace(/\{\/?bold\}/g, '');
    for (const i of [0, 1]) {
      const t = rowText(s, i, 78);
      expect(t).toHaveLength(78);
      expect(t).toContain('{argsz=40, flags=0, op=');
      // The arguments start under their column title.
      expect(t.indexOf('{argsz')).toBe(header.indexOf('args'));
    }
    expect(rowText(s, 0, 78)).toMatch(/VFIO_EEH_PE_OP .*op=VFIO_EEH.*= 2/);
    expect(rowText(s, 1, 78)).toMatch(/VFIO_DEVICE_G\S*~ .*= -1 EINVAL/);
    // With room, nothing is cut.
    const wide = rowText(s, 0, 160);
    expect(wide).toContain('{argsz=40, flags=0, op=VFIO_EEH_PE_GET_STATE} = 2 (VFIO_EEH_PE_STATE_STOPPED)');
  });

  it('escapes braces so arguments never become blessed tags', () => {
    expect(esc('{bold}x{/bold}')).toBe('{open}bold{close}x{open}/bold{close}');
  });

  it('escapes control characters, line separators and bidi overrides as the text output does', () => {
    const shown = esc('dev\u2028name\u202e\x1b[31m\n');
    expect(shown).not.toMatch(/[\u2028\u202e\x1b\n]/);
    expect(shown).toBe('dev\\u2028name\\u202e\\x1b[31m\\n');
    // Cut to width after escaping, so the escape cannot push a column out of line.
    expect(fit('a\u202eb', 6)).toBe('a\\u20~');
  });

  it('wraps highlighted hex bytes in a yellow background', () => {
    const line = hexDump(Uint8Array.from([1, 2, 3, 4]), 1, 2)[0];
    expect(line && hexTagged(line)).toContain('{black-fg}{yellow-bg}02{/yellow-bg}{/black-fg}');
  });
});

describe('panes', () => {
  it('shows entry and exit bytes with the field highlighted and kernel-written bytes marked', async () => {
    const { hexPane, findingsPane } = await import('../../src/tui/panes.js');
    const ev = fakeIoctl({ seq: 1 });
    ev.record.exit[12] = 0x7f;
    const op = ev.in?.children?.find((c) => c.name === 'op') ?? null;
    const lines = hexPane(ev, op);
    expect(lines[0]).toContain('op @8+4');
    const exitStart = lines.findIndex((l) => l.includes('exit'));
    expect(lines[exitStart + 1]).toContain('{magenta-fg}7f{/magenta-fg}');
    expect(lines[1]).toContain('{yellow-bg}04{/yellow-bg}');
    expect(findingsPane([], 0, true, 5, 40)).toEqual(['no findings']);
    const f = findingsPane([{ seq: 3, finding: { rule: 'r', severity: 'error', message: 'm' } }], 0, true, 5, 40);
    expect(f[0]).toMatch(/^\{inverse\}\{red-fg\}#3 error \[r\] m/);
  });
});
