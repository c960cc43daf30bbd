import { describe, expect, it } from 'vitest';
import { EventStore, ROW } from '../../src/tui/state/eventStore.js';
import { ViewState } from '../../src/tui/state/viewState.js';
import { parseFilter } from '../../src/tui/state/filter.js';
import { ProcessEventKind } from '../../src/trace/events.js';
import { fakeIoctl, fakeProcess } from './fakeEvents.js';

function filled(n: number, keepFull = 100): { store: EventStore; view: ViewState } {
  const store = new EventStore(keepFull);
  for (let i = 0; i < n; i++) {
    store.add(fakeIoctl({
      seq: i,
      fd: 3 + (i % 4),
      tid: 100 + (i % 2),
      name: i % 5 === 0 ? 'VFIO_IOMMU_MAP_DMA' : 'VFIO_EEH_PE_OP',
      ret: i % 7 === 0 ? -22 : 0,
      errno: i % 7 === 0 ? 'EINVAL' : null,
      findings: i % 11 === 0 ? [{ rule: 'r', severity: 'warning', message: 'm' }] : [],
    }));
  }
  const view = new ViewState(store);
  view.setHeight(10);
  view.sync();
  return { store, view };
}

describe('EventStore', () => {
  it('keeps compact rows for every event and full events only for recent ones', () => {
    const { store } = filled(500, 100);
    expect(store.length).toBe(500);
    expect(store.row(0).name).toBe('VFIO_IOMMU_MAP_DMA');
    expect(store.row(7).flags & ROW.ERROR).toBeTruthy();
    expect(store.row(7).retText).toContain('EINVAL');
    expect(store.row(1).args).toBe('{argsz=40, flags=0, op=VFIO_EEH_PE_GET_STATE}');
    expect(store.event(499)?.seq).toBe(499);
    expect(store.isKept(499)).toBe(true);
    expect(store.isKept(10)).toBe(false);
    expect(store.event(10)).toBeNull();
    store.loader = (i, seq) => fakeIoctl({ seq });
    expect(store.event(10)?.seq).toBe(10);
    expect(store.errors).toBe(Math.ceil(500 / 7));
    expect(store.indexOfSeq(321)).toBe(321);
  });

  it('names ambiguous calls by their candidates', () => {
    const store = new EventStore();
    store.add(fakeIoctl({ seq: 0, name: null }));
    expect(store.row(0).name).toBe('VFIO_EEH_PE_OP|VFIO_DEVICE_FEATURE');
  });
});

describe('ViewState', () => {
  it('follows the tail as events arrive, and stops following on upward movement', () => {
    const { store, view } = filled(50);
    expect(view.selected).toBe(49);
    expect(view.top).toBe(40);
    view.move(-3);
    expect(view.follow).toBe(false);
    store.add(fakeIoctl({ seq: 50 }));
    view.sync();
    expect(view.count).toBe(51);
    expect(view.selected).toBe(46);
    view.toggleFollow();
    expect(view.selected).toBe(50);
  });

  it('pause freezes the visible rows while the store keeps collecting', () => {
    const { store, view } = filled(20);
    view.togglePause();
    for (let i = 20; i < 30; i++) store.add(fakeIoctl({ seq: i }));
    expect(view.sync()).toBe(false);
    expect(view.count).toBe(20);
    expect(store.length).toBe(30);
    view.togglePause();
    expect(view.count).toBe(30);
  });

  it('pages, jumps to both ends and clamps', () => {
    const { view } = filled(100);
    view.home();
    expect(view.selected).toBe(0);
    expect(view.top).toBe(0);
    view.pageDown();
    expect(view.selected).toBe(9);
    view.pageDown();
    expect(view.top).toBe(9);
    view.move(-1000);
    expect(view.selected).toBe(0);
    view.end();
    expect(view.selected).toBe(99);
    expect(view.top).toBe(90);
    view.move(5);
    expect(view.selected).toBe(99);
  });

  it('filters by name, fd, tid, errors, findings and negation, keeping the selected event', () => {
    const { view } = filled(100);
    view.home();
    view.move(15); // store index 15: MAP_DMA, fd 6
    expect(view.setFilter('map_dma').ok).toBe(true);
    expect(view.count).toBe(20);
    expect(view.selectedIndex).toBe(15);
    view.setFilter('fd=4');
    expect(view.count).toBe(25);
    for (const r of view.visible()) expect(r.index % 4).toBe(1);
    view.setFilter('errors');
    expect(view.count).toBe(15);
    view.setFilter('findings tid=100');
    expect(view.visible().every((r) => r.index % 22 === 0)).toBe(true);
    view.setFilter('!eeh');
    expect(view.count).toBe(20);
    view.setFilter('');
    expect(view.count).toBe(100);
    expect(view.filter).toBeNull();
  });

  it('rejects malformed filters with a message and keeps the old one', () => {
    const { view } = filled(10);
    view.setFilter('errors');
    const r = view.setFilter('fd=abc');
    expect(r.ok).toBe(false);
    expect(view.message).toMatch(/fd= needs a number/);
    expect(view.filter?.text).toBe('errors');
    expect(parseFilter('kind=bogus').ok).toBe(false);
    expect(parseFilter('kind=device').ok).toBe(true);
  });

  it('applies the filter to events that arrive later', () => {
    const { store, view } = filled(10);
    view.setFilter('errors');
    const before = view.count;
    store.add(fakeIoctl({ seq: 10, ret: -1, errno: 'EPERM' }));
    store.add(fakeIoctl({ seq: 11 }));
    view.sync();
    expect(view.count).toBe(before + 1);
  });

  it('n/N search wraps around, and with no search jumps between errors and findings', () => {
    const { view } = filled(30);
    view.home();
    view.searchNext(1);
    expect(view.selectedIndex).toBe(7);
    view.searchNext(1);
    expect(view.selectedIndex).toBe(11);
    view.searchNext(-1);
    expect(view.selectedIndex).toBe(7);
    view.setSearch('map_dma fd=3');
    expect(view.selectedIndex).toBe(20);
    view.searchNext(1);
    expect(view.selectedIndex).toBe(0);
  });

  it('says which match of how many n/N landed on, and when the search wrapped', () => {
    const { view } = filled(30);
    view.home();
    view.move(7);
    // MAP_DMA on fd 3: rows 0 and 20.
    view.setSearch('map_dma fd=3');
    expect(view.selectedIndex).toBe(20);
    expect(view.message).toBe('search: map_dma fd=3  match 2/2');
    view.searchNext(1);
    expect(view.selectedIndex).toBe(0);
    expect(view.message).toBe('search: map_dma fd=3  match 1/2 (search wrapped to top)');
    view.searchNext(-1);
    expect(view.selectedIndex).toBe(20);
    expect(view.message).toBe('search: map_dma fd=3  match 2/2 (search wrapped to bottom)');
    view.searchNext(-1);
    expect(view.message).toBe('search: map_dma fd=3  match 1/2');
    // Without a search: errors (every 7th row) and findings (every 11th), counted the same way.
    view.setSearch('');
    view.home();
    view.searchNext(1);
    expect(view.selectedIndex).toBe(7);
    expect(view.message).toBe('next error or finding  match 2/7');
  });

  it('maps clicks to rows and ignores clicks past the end', () => {
    const { view } = filled(5);
    view.clickRow(2);
    expect(view.selected).toBe(2);
    view.clickRow(8);
    expect(view.selected).toBe(2);
  });

  it('only materialises visible rows for many events', () => {
    const store = new EventStore(10);
    const ev = fakeIoctl({ seq: 0 });
    for (let i = 0; i < 300_000; i++) store.add({ ...ev, seq: i });
    const view = new ViewState(store);
    view.setHeight(40);
    view.sync();
    expect(view.visible()).toHaveLength(40);
    expect(view.visible()[39]?.index).toBe(299_999);
    view.setFilter('fd=3');
    expect(view.count).toBe(300_000);
  });

  it('cycles pane focus', () => {
    const { view } = filled(1);
    view.cycleFocus();
    expect(view.focus).toBe('detail');
    view.cycleFocus(-1);
    view.cycleFocus(-1);
    expect(view.focus).toBe('state');
  });
});

describe('jumping to an event', () => {
  it('selects a store index when visible, and says so when the filter hides it', () => {
    const { view } = filled(30);
    expect(view.selectIndex(12)).toBe(true);
    expect(view.selectedIndex).toBe(12);
    expect(view.follow).toBe(false);
    view.setFilter('errors');
    expect(view.selectIndex(14)).toBe(true);
    expect(view.selectIndex(13)).toBe(false);
    expect(view.message).toMatch(/hidden/);
    expect(view.selectedIndex).toBe(14);
  });
});

describe("vfiotrace's own events", () => {
  /** 3 events of the wrapper, then 5 of the command, then one more of a wrapper process that lingered. */
  function session(): { store: EventStore; view: ViewState } {
    const store = new EventStore();
    const view = new ViewState(store);
    view.setHeight(10);
    for (let i = 0; i < 3; i++) store.add(fakeProcess(i, ProcessEventKind.Exec, 0, 0, '/usr/bin/mount', 200 + i), true);
    for (let i = 3; i < 8; i++) store.add(fakeIoctl({ seq: i, ret: i === 5 ? -22 : 0, errno: i === 5 ? 'EINVAL' : null }));
    view.sync();
    store.add(fakeProcess(8, ProcessEventKind.Exit, 0, 0, '', 202), true);
    view.sync();
    return { store, view };
  }

  it('are hidden by default and counted', () => {
    const { store, view } = session();
    expect(store.length).toBe(9);
    expect(store.own).toBe(4);
    expect(view.count).toBe(5);
    expect(view.hiddenOwn).toBe(4);
    expect(view.visible().map((r) => store.seq(r.index))).toEqual([3, 4, 5, 6, 7]);
  });

  it('h shows them in place and hides them again, the selection staying on its event', () => {
    const { store, view } = session();
    view.select(2);
    expect(store.seq(view.selectedIndex)).toBe(5);
    view.toggleOwn();
    expect(view.count).toBe(9);
    expect(view.hiddenOwn).toBe(0);
    expect(view.message).toMatch(/showing 4 events of vfiotrace's own processes/);
    expect(store.seq(view.selectedIndex)).toBe(5);
    expect(view.visible().map((r) => store.seq(r.index))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    view.toggleOwn();
    expect(view.count).toBe(5);
    expect(store.seq(view.selectedIndex)).toBe(5);
  });

  it('stay hidden under a filter, and a filter finds them once shown', () => {
    const { store, view } = session();
    view.setFilter('!errors');
    expect(view.count).toBe(4);
    expect(view.message).toMatch(/\(4 rows\)/);
    view.setFilter('exec');
    expect(view.count).toBe(0);
    view.toggleOwn();
    expect(view.visible().map((r) => store.seq(r.index))).toEqual([0, 1, 2]);
  });

  it('are counted once shown too, and arrive hidden or shown as the toggle says', () => {
    const { store, view } = session();
    view.toggleOwn();
    store.add(fakeProcess(9, ProcessEventKind.Exit, 0, 0, '', 201), true);
    view.sync();
    expect(view.count).toBe(10);
    view.toggleOwn();
    store.add(fakeProcess(10, ProcessEventKind.Exit, 0, 0, '', 200), true);
    view.sync();
    expect(view.count).toBe(5);
    expect(view.hiddenOwn).toBe(6);
  });
});
