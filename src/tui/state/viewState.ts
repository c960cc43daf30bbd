// What the user is looking at, independent of any widget: which rows pass the
// filter, which is selected, where the list is scrolled, follow/pause, the
// search, which pane has focus. Widgets read this and draw; keys call methods.

import { EventStore, ROW } from './eventStore.js';
import { compileFilter, parseFilter, type Filter } from './filter.js';

export type Pane = 'list' | 'detail' | 'findings' | 'state';
export const PANES: readonly Pane[] = ['list', 'detail', 'findings', 'state'];

export type Overlay = 'none' | 'help' | 'summary';

/** Store indices that pass the filter, growable; identity when unfiltered. */
class RowSet {
  private idx = new Int32Array(1024);
  length = 0;
  constructor(readonly identity: boolean) {}
  push(i: number): void {
    if (this.identity) {
      this.length = i + 1;
      return;
    }
    if (this.length >= this.idx.length) {
      const n = new Int32Array(this.idx.length * 2);
      n.set(this.idx);
      this.idx = n;
    }
    this.idx[this.length++] = i;
  }
  at(pos: number): number {
    return this.identity ? pos : (this.idx[pos] ?? -1);
  }
  /** Position of the first row whose store index is >= i. */
  lowerBound(i: number): number {
    if (this.identity) return Math.min(Math.max(i, 0), this.length);
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.idx[mid] ?? 0) < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class ViewState {
  private rows = new RowSet(true);
  private pred: ((i: number) => boolean) | null = null;
  private search: ((i: number) => boolean) | null = null;
  /** Store rows already considered for `rows`. */
  private absorbed = 0;
  filter: Filter | null = null;
  /** List the events of vfiotrace's own wrapper processes (hidden by default). */
  showOwn = false;
  searchText = '';
  /** Position in the filtered rows, -1 when empty. */
  selected = -1;
  top = 0;
  height = 20;
  follow = true;
  paused = false;
  focus: Pane = 'list';
  overlay: Overlay = 'none';
  message = '';
  /** Detail pane: selected line and scroll. */
  detailCursor = 0;
  detailTop = 0;
  /** Bumped when the selected event changes, so the detail is rebuilt. */
  selectionEpoch = 0;
  /** Findings pane cursor, state pane scroll. */
  findCursor = 0;
  stateTop = 0;
  /** Which pane the lower right shows: the last focused of findings/state. */
  side: 'findings' | 'state' = 'findings';

  constructor(readonly store: EventStore) {}

  get count(): number {
    return this.rows.length;
  }

  /** Store index of the selected row, or -1. */
  get selectedIndex(): number {
    return this.selected < 0 ? -1 : this.rows.at(this.selected);
  }

  /** Store index of the row at a filtered position. */
  indexAt(pos: number): number {
    return pos >= 0 && pos < this.rows.length ? this.rows.at(pos) : -1;
  }

  /** Take in events that arrived since the last call (unless paused). */
  sync(): boolean {
    if (this.paused || this.absorbed >= this.store.length) return false;
    const before = this.rows.length;
    // The first event of vfiotrace's own ends the shortcut of listing every row.
    if (this.rows.identity && !this.identityOk()) this.rows = this.collect(this.absorbed);
    for (let i = this.absorbed; i < this.store.length; i++) if (this.rows.identity || this.passes(i)) this.rows.push(i);
    this.absorbed = this.store.length;
    if (this.rows.length === before) return false;
    if (this.follow || this.selected < 0) this.select(this.rows.length - 1);
    else this.clampTop();
    return true;
  }

  /** Events of vfiotrace's own wrapper processes not listed (h lists them). */
  get hiddenOwn(): number {
    return this.showOwn ? 0 : this.store.own;
  }

  /** h: list the events of vfiotrace's own wrapper processes too, or hide them again. */
  toggleOwn(): void {
    this.showOwn = !this.showOwn;
    this.rebuild();
    const n = this.store.own;
    const what = `${n} event${n === 1 ? '' : 's'} of vfiotrace's own processes`;
    this.message = this.showOwn ? `showing ${what} (h hides them)` : `hiding ${what} (h shows them)`;
  }

  private passes(i: number): boolean {
    if (!this.showOwn && (this.store.flags(i) & ROW.OWN) !== 0) return false;
    return this.pred === null || this.pred(i);
  }

  /** Every row passes: no filter, and no event of vfiotrace's own to hide. */
  private identityOk(): boolean {
    return this.pred === null && (this.showOwn || this.store.own === 0);
  }

  /** The rows of store indices [0, upTo) that pass. */
  private collect(upTo: number): RowSet {
    const rows = new RowSet(this.identityOk());
    if (rows.identity) rows.length = upTo;
    else for (let i = 0; i < upTo; i++) if (this.passes(i)) rows.push(i);
    return rows;
  }

  /** The rows again after the filter or the own-events toggle changed; the selection stays on its event when it still passes. */
  private rebuild(): void {
    const keep = this.selectedIndex;
    this.rows = this.collect(this.absorbed);
    this.selected = -1;
    this.top = 0;
    if (this.rows.length > 0) this.select(keep < 0 ? this.rows.length - 1 : Math.min(this.rows.lowerBound(keep), this.rows.length - 1));
    else this.selectionEpoch++;
  }

  setHeight(h: number): void {
    this.height = Math.max(1, h);
    this.clampTop();
  }

  private clampTop(): void {
    const maxTop = Math.max(0, this.rows.length - this.height);
    if (this.selected >= 0) {
      if (this.selected < this.top) this.top = this.selected;
      if (this.selected >= this.top + this.height) this.top = this.selected - this.height + 1;
    }
    this.top = Math.min(Math.max(0, this.top), maxTop);
  }

  select(pos: number): void {
    const n = this.rows.length;
    const next = n === 0 ? -1 : Math.min(Math.max(pos, 0), n - 1);
    if (next !== this.selected) {
      this.selected = next;
      this.selectionEpoch++;
      this.detailCursor = 0;
      this.detailTop = 0;
    }
    this.clampTop();
  }

  /** Manual movement: leaving the last row stops following the tail. */
  move(delta: number): void {
    this.select(this.selected + delta);
    if (delta < 0) this.follow = false;
  }

  pageDown(): void { this.move(Math.max(1, this.height - 1)); }
  pageUp(): void { this.move(-Math.max(1, this.height - 1)); }
  home(): void { this.follow = false; this.select(0); }
  end(): void { this.select(this.rows.length - 1); }

  /** A click on the list at a screen row relative to the list's first row. */
  clickRow(y: number): void {
    if (y < 0 || y >= this.height) return;
    const pos = this.top + y;
    if (pos < this.rows.length) {
      this.follow = false;
      this.select(pos);
    }
  }

  toggleFollow(): void {
    this.follow = !this.follow;
    if (this.follow) {
      this.paused = false;
      this.sync();
      this.end();
    }
    this.message = this.follow ? 'following the tail' : 'not following';
  }

  togglePause(): void {
    this.paused = !this.paused;
    if (this.paused) this.follow = false;
    else this.sync();
    this.message = this.paused ? 'view paused (events are still collected)' : 'view resumed';
  }

  /** Apply a filter; the selection stays on the same event when it still passes. */
  setFilter(text: string): { ok: true } | { ok: false; error: string } {
    const parsed = parseFilter(text);
    if (!parsed.ok) {
      this.message = `filter: ${parsed.error}`;
      return parsed;
    }
    this.filter = parsed.filter;
    this.pred = parsed.filter ? compileFilter(parsed.filter, this.store) : null;
    this.rebuild();
    this.message = parsed.filter ? `filter: ${parsed.filter.text} (${this.rows.length} rows)` : 'filter cleared';
    return { ok: true };
  }

  setSearch(text: string): { ok: true } | { ok: false; error: string } {
    const parsed = parseFilter(text);
    if (!parsed.ok) {
      this.message = `search: ${parsed.error}`;
      return parsed;
    }
    this.searchText = parsed.filter?.text ?? '';
    this.search = parsed.filter ? compileFilter(parsed.filter, this.store) : null;
    if (this.search) this.searchNext(1);
    return { ok: true };
  }

  /**
   * n / N: the next (dir 1) or previous (-1) row matching the search, or an
   * error/finding when no search is set. The message says which match of
   * how many, and when the search went past the end and came round.
   */
  searchNext(dir: 1 | -1): boolean {
    const match = this.search ?? ((i: number) => (this.store.flags(i) & (ROW.ERROR | ROW.FINDING)) !== 0);
    const what = this.searchText ? `search: ${this.searchText}` : 'next error or finding';
    const n = this.rows.length;
    const from = this.selected;
    for (let k = 1; k <= n; k++) {
      const pos = (((from + dir * k) % n) + n) % n;
      if (match(this.rows.at(pos))) {
        if (pos < from || dir < 0) this.follow = false;
        this.select(pos);
        const { nth, total } = this.matchRank(match, pos);
        const wrapped = from >= 0 && (dir > 0 ? pos <= from : pos >= from);
        this.message = `${what}  match ${nth}/${total}${wrapped ? ` (search wrapped to ${dir > 0 ? 'top' : 'bottom'})` : ''}`;
        return true;
      }
    }
    this.message = this.searchText ? `search: no match for ${this.searchText}` : 'no errors or findings';
    return false;
  }

  /** Matches up to and including `pos`, and in all rows (one pass over the filtered rows). */
  private matchRank(match: (i: number) => boolean, pos: number): { nth: number; total: number } {
    let nth = 0;
    let total = 0;
    for (let p = 0; p < this.rows.length; p++) {
      if (!match(this.rows.at(p))) continue;
      total++;
      if (p <= pos) nth++;
    }
    return { nth, total };
  }

  cycleFocus(dir: 1 | -1 = 1): void {
    const i = PANES.indexOf(this.focus);
    this.setFocus(PANES[(i + dir + PANES.length) % PANES.length] ?? 'list');
  }

  setFocus(p: Pane): void {
    this.focus = p;
    if (p === 'findings' || p === 'state') this.side = p;
  }

  /** Select a store index (e.g. from a finding); false when the filter hides it. */
  selectIndex(index: number): boolean {
    if (index < 0) return false;
    const pos = this.rows.lowerBound(index);
    if (pos >= this.rows.length || this.rows.at(pos) !== index) {
      this.message = 'that event is hidden by the filter or the pause';
      return false;
    }
    this.follow = false;
    this.select(pos);
    return true;
  }

  /** Detail pane cursor over `lines` lines shown `height` at a time. */
  moveDetail(delta: number, lines: number, height: number): void {
    this.detailCursor = Math.min(Math.max(0, this.detailCursor + delta), Math.max(0, lines - 1));
    if (this.detailCursor < this.detailTop) this.detailTop = this.detailCursor;
    if (this.detailCursor >= this.detailTop + height) this.detailTop = this.detailCursor - height + 1;
  }

  /** Filtered positions currently on screen. */
  visible(): { pos: number; index: number }[] {
    const out: { pos: number; index: number }[] = [];
    const end = Math.min(this.rows.length, this.top + this.height);
    for (let p = this.top; p < end; p++) out.push({ pos: p, index: this.rows.at(p) });
    return out;
  }
}
