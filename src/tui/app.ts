// The blessed screen: widgets that draw ViewState, one key dispatcher, and a
// frame timer. Events are stored as they arrive; drawing happens at most
// every FRAME_MS, so a fast trace never starves the keyboard.

import blessed from 'blessed';
import type { Readable, Writable } from 'node:stream';
import { buildDetail, type DetailLine } from './state/detail.js';
import { EventStore } from './state/eventStore.js';
import { Prompt } from './state/prompt.js';
import { formatSummary, summarizeStore } from './state/summary.js';
import { ViewState, type Pane } from './state/viewState.js';
import { esc, fit, listHeader, rowTagged } from './format.js';
import { detailPane, findingsPane, hexPane } from './panes.js';
import { HELP_LINES } from './help.js';
import { EehView } from './eehView.js';
import { RateMeter } from './state/rate.js';
import type { TuiSource } from './source.js';
import { installTerminalGuard, type TerminalGuard } from './terminal.js';

/** Minimum time between frames: at most ~29 frames/s. */
export const FRAME_MS = 34;
const LOADING_FRAME_MS = 100;

export interface TuiOptions {
  /** Full events kept in memory for the detail pane. */
  keepFull?: number;
  /** Called after each drawn frame (benchmarks). */
  onFrame?: () => void;
}

type Box = blessed.Widgets.BoxElement;

/** Streams for the screen (default: the process's stdin/stdout). */
export interface ScreenIO {
  input?: Readable;
  output?: Writable;
  terminal?: string;
}

export class TuiApp {
  readonly store: EventStore;
  readonly view: ViewState;
  readonly prompt = new Prompt();
  private screen: blessed.Widgets.Screen | null = null;
  private header!: Box;
  private list!: Box;
  private detail!: Box;
  private hex!: Box;
  private side!: Box;
  private status!: Box;
  private overlay!: Box;
  private eehView: EehView | null = null;
  private status_: 'running' | 'ended' | 'error' = 'running';
  private endText = '';
  private detailLines: DetailLine[] = [];
  private detailEpoch = -1;
  private lastDraw = 0;
  private drawTimer: NodeJS.Timeout | null = null;
  private tick: NodeJS.Timeout | null = null;
  private dirty = true;
  private seen = 0;
  private summary: { length: number; at: number; lines: readonly string[] } | null = null;
  private readonly rate = new RateMeter(Date.now());
  /** The rate text last drawn: the tick redraws when it would read differently (e.g. decays to 0). */
  private shownRate = '';
  private guard: TerminalGuard | null = null;
  private quitResolve: ((code: number) => void) | null = null;
  frames = 0;
  /** Whether the source is still delivering, finished, or failed. */
  get state(): 'running' | 'ended' | 'error' {
    return this.status_;
  }
  /** Smoothed and total time spent drawing (ms), for pacing and benchmarks. */
  drawCost = 0;
  drawTotalMs = 0;

  constructor(readonly source: TuiSource, private readonly opts: TuiOptions = {}) {
    this.store = new EventStore(opts.keepFull ?? 500);
    if (source.reload) this.store.loader = source.reload;
    this.view = new ViewState(this.store);
  }

  /** Run until the user quits; resolves to the exit code. */
  run(screenOpts: ScreenIO = {}): Promise<number> {
    this.build(screenOpts);
    const done = new Promise<number>((resolve) => (this.quitResolve = resolve));
    this.source
      .run({
        event: (ev, own) => {
          this.store.add(ev, own);
          this.dirty = true;
        },
        late: (f) => {
          this.store.addFinding(f.seq, f.finding);
          this.dirty = true;
        },
        note: (t) => {
          this.view.message = t;
          this.dirty = true;
        },
      })
      .then(
        () => {
          this.status_ = 'ended';
          this.dirty = true;
        },
        (e: unknown) => {
          this.status_ = 'error';
          this.endText = e instanceof Error ? e.message : String(e);
          this.view.message = `error: ${this.endText}`;
          this.dirty = true;
        },
      );
    // Redraws for new events; keys ask for their own frame (requestDraw).
    // While a recording loads nobody reads the rows flying by: 10 frames/s
    // leave the CPU to decoding.
    this.tick = setInterval(() => {
      const loading = this.source.mode === 'file' && this.status_ === 'running';
      const now = Date.now();
      this.rate.observe(this.store.length, now);
      if (loading && now - this.lastDraw < LOADING_FRAME_MS) return;
      if (this.dirty || this.store.length !== this.seen || this.rateText(now) !== this.shownRate) this.requestDraw();
      this.seen = this.store.length;
    }, FRAME_MS);
    this.draw();
    return done;
  }

  private build(o: ScreenIO): void {
    // @types/blessed swaps the input/output stream types; the runtime wants these.
    const io = { ...(o.input ? { input: o.input } : {}), ...(o.output ? { output: o.output } : {}), ...(o.terminal ? { terminal: o.terminal } : {}) };
    const screen = blessed.screen({
      smartCSR: true,
      // Decoded strings may carry UTF-8: send it as is whatever terminfo says.
      forceUnicode: true,
      title: 'vfiotrace',
      warnings: false,
      autoPadding: true,
      ...(io as Record<string, unknown>),
    });
    this.screen = screen;
    this.guard = installTerminalGuard(
      () => {
        this.source.detach();
        this.teardown();
      },
      (code) => this.quit(code),
    );
    const box = (opts: blessed.Widgets.BoxOptions): Box =>
      blessed.box({ parent: screen, tags: true, wrap: false, ...opts });
    this.header = box({ top: 0, left: 0, width: '100%', height: 2, style: { fg: 'white', bg: 'blue' } });
    this.list = box({ top: 2, left: 0, width: '100%', height: '50%-2', border: { type: 'line' }, label: ' events ' });
    this.detail = box({ top: '50%', left: 0, width: '50%', height: '50%-1', border: { type: 'line' }, label: ' detail ' });
    this.hex = box({ top: '50%', left: '50%', width: '50%', height: '25%', border: { type: 'line' }, label: ' bytes ' });
    this.side = box({ top: '75%', left: '50%', width: '50%', height: '25%-1', border: { type: 'line' }, label: ' findings ' });
    this.status = box({ bottom: 0, left: 0, width: '100%', height: 1, style: { fg: 'black', bg: 'white' } });
    this.overlay = box({
      top: 'center', left: 'center', width: '80%', height: '90%', border: { type: 'line' }, hidden: true, scrollable: true,
      style: { border: { fg: 'yellow' } },
    });
    this.eehView = new EehView(screen, () => this.source.eehTimelines?.() ?? []);
    screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) =>
      this.onKey(ch, key),
    );
    screen.on('resize', () => this.requestDraw());
    const clickIn = (el: Box, pane: () => Pane, fn: (y: number) => void) =>
      el.on('click', (m: blessed.Widgets.Events.IMouseEventArg) => {
        this.view.setFocus(pane());
        fn(m.y - (el.atop as number) - 1);
        this.requestDraw();
      });
    clickIn(this.list, () => 'list', (y) => this.view.clickRow(y - 1));
    clickIn(this.detail, () => 'detail', (y) => {
      const h = this.innerHeight(this.detail);
      this.view.moveDetail(this.view.detailTop + y - this.view.detailCursor, this.detailLines.length, h);
    });
    clickIn(this.side, () => this.view.side, (y) => {
      const v = this.view;
      if (v.side !== 'findings') return;
      // Same scroll as findingsPane: the cursor's row is the last one shown.
      const top = Math.max(0, v.findCursor - this.innerHeight(this.side) + 1);
      v.findCursor = Math.max(0, Math.min(top + y, this.store.findingsTotal - 1));
    });
    screen.enableMouse();
  }

  private innerHeight(el: Box): number {
    return Math.max(1, (el.height as number) - 2);
  }

  private onKey(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined): void {
    const name = key?.name;
    const full = key?.full ?? name ?? ch ?? '';
    if (this.prompt.active) {
      const r = this.prompt.key({ ch, name, ctrl: key?.ctrl });
      if (r?.done === 'submit') this.submit(r.kind, r.text);
      this.requestDraw();
      return;
    }
    if (full === 'C-c') return void this.quit();
    if (this.eehView?.visible && this.eehView.key(full)) return void this.requestDraw();
    if (full === 'S-e' || ch === 'E') {
      this.eehView?.toggle();
      return void this.requestDraw();
    }
    if (this.view.overlay !== 'none') {
      const page = Math.max(1, (this.overlay.height as number) - 3);
      const by: Record<string, number> = { up: -1, k: -1, down: 1, j: 1, pageup: -page, pagedown: page };
      if (by[full] !== undefined) this.overlay.scroll(by[full] ?? 0);
      else if (full === 'escape' || full === 'q' || full === '?' || full === 's' || full === 'enter') {
        this.view.overlay = 'none';
        this.overlay.setScroll(0);
      }
      this.requestDraw();
      return;
    }
    const v = this.view;
    // Keys may arrive between frames: move over the detail of the current selection.
    v.sync();
    this.refreshDetail();
    const dh = this.innerHeight(this.detail);
    const pane = v.focus;
    const move = (d: number) => {
      if (pane === 'list') v.move(d);
      else if (pane === 'detail') v.moveDetail(d, this.detailLines.length, dh);
      else if (pane === 'findings') v.findCursor = Math.max(0, Math.min(v.findCursor + d, this.store.findingsTotal - 1));
      else v.stateTop = Math.max(0, v.stateTop + d);
    };
    switch (full) {
      case 'q': return void this.quit();
      case 'up': case 'k': move(-1); break;
      case 'down': case 'j': move(1); break;
      case 'pageup': move(-(pane === 'list' ? v.height - 1 : dh - 1)); break;
      case 'pagedown': move(pane === 'list' ? v.height - 1 : dh - 1); break;
      case 'g': case 'home': if (pane === 'list') v.home(); else move(-1e9); break;
      case 'S-g': case 'G': case 'end': if (pane === 'list') v.end(); else move(1e9); break;
      case 'tab': v.cycleFocus(1); break;
      case 'S-tab': v.cycleFocus(-1); break;
      case 'enter': this.enter(); break;
      case '/': this.prompt.open('filter', v.filter?.text ?? ''); break;
      case ':': this.prompt.open('search', v.searchText); break;
      case 'n': v.searchNext(1); break;
      case 'S-n': case 'N': v.searchNext(-1); break;
      case 'space': v.togglePause(); break;
      case 'f': v.toggleFollow(); break;
      case 'h': v.toggleOwn(); break;
      case 's': v.overlay = 'summary'; break;
      case '?': v.overlay = 'help'; break;
      case 'w':
        if (this.source.write) this.prompt.open('write', `vfiotrace-${new Date().toISOString().replace(/[:.]/g, '-')}.vft`);
        else v.message = 'this source cannot write a recording';
        break;
      case 'escape': v.message = ''; break;
      default:
        if (ch === '?') v.overlay = 'help';
        else if (ch === 'G') v.end();
        else if (ch === 'N') v.searchNext(-1);
        else return;
    }
    this.requestDraw();
  }

  private enter(): void {
    const v = this.view;
    if (v.focus === 'list') v.setFocus('detail');
    else if (v.focus === 'findings') {
      const f = this.store.allFindings()[v.findCursor];
      if (f && v.selectIndex(this.store.indexOfSeq(f.seq))) v.setFocus('list');
    } else v.setFocus('list');
  }

  private submit(kind: 'filter' | 'search' | 'write', text: string): void {
    if (kind === 'filter') this.view.setFilter(text);
    else if (kind === 'search') this.view.setSearch(text);
    else if (this.source.write) {
      const path = text.trim();
      if (!path) return;
      this.view.message = `writing ${path}...`;
      this.source.write(path).then(
        (d) => { this.view.message = d; this.requestDraw(); },
        (e: unknown) => { this.view.message = `write failed: ${e instanceof Error ? e.message : String(e)}`; this.requestDraw(); },
      );
    }
  }

  /** Draw now if a frame is due, else once the frame interval has passed. */
  requestDraw(): void {
    this.dirty = true;
    if (this.drawTimer) return;
    // At most 30 frames/s, and drawing never takes more than a quarter of the
    // time, so heavy ingestion still gets most of the CPU.
    const gap = Math.max(FRAME_MS, this.drawCost * 3);
    const wait = Math.max(0, gap - (Date.now() - this.lastDraw));
    this.drawTimer = setTimeout(() => {
      this.drawTimer = null;
      this.draw();
    }, wait);
  }

  private draw(): void {
    const screen = this.screen;
    if (!screen) return;
    const t0 = performance.now();
    this.lastDraw = Date.now();
    this.dirty = false;
    const v = this.view;
    v.sync();
    const listH = this.innerHeight(this.list) - 1;
    v.setHeight(listH);
    this.drawHeader();
    const lw = (this.list.width as number) - 2;
    const rows = [listHeader(lw)];
    for (const r of v.visible()) rows.push(rowTagged(this.store, r.index, lw, r.pos === v.selected, v.focus === 'list'));
    this.list.setContent(rows.join('\n'));
    this.list.setLabel(` events ${v.count}${this.ownText()}${v.filter ? ` (filter: ${esc(v.filter.text)})` : ''} `);
    this.drawDetail();
    this.drawSide();
    this.drawStatus();
    this.drawOverlay();
    this.eehView?.draw();
    for (const [el, p] of [[this.list, 'list'], [this.detail, 'detail'], [this.side, v.side]] as const) {
      el.style.border = { fg: v.focus === p ? 'green' : 'white' };
    }
    screen.render();
    this.frames++;
    const cost = performance.now() - t0;
    this.drawCost = this.drawCost * 0.8 + cost * 0.2;
    this.drawTotalMs += cost;
    this.opts.onFrame?.();
  }

  /** What the list leaves out of vfiotrace's own wrapper, and the key that lists it. */
  private ownText(): string {
    const v = this.view;
    if (v.hiddenOwn > 0) return ` (+${v.hiddenOwn} hidden: vfiotrace's own, h shows)`;
    return v.showOwn && this.store.own > 0 ? ` (${this.store.own} of vfiotrace's own, h hides)` : '';
  }

  private rateText(now: number): string {
    return `${this.rate.perSecond(now).toFixed(0)}/s`;
  }

  private drawHeader(): void {
    const s = this.store;
    this.shownRate = this.rateText(this.lastDraw);
    const v = this.view;
    const state = this.status_ === 'running' ? (v.paused ? 'paused' : 'running') : this.status_;
    const pids = this.source.pids();
    const w = (this.header.width as number) || 80;
    const via = this.source.backend !== undefined ? ` [${this.source.backend}]` : '';
    const l1 = `vfiotrace  ${this.source.mode === 'file' ? 'recording' : 'target'}: ${this.source.title}${via}`;
    // Host-wide, the pids are strangers: name them.
    const named = this.source.hostWide?.() === true ? pids.map((p) => `${p} ${this.source.processName?.(p) ?? '?'}`) : pids.map(String);
    const shown = named.length > 6 ? `${named.slice(0, 6).join(',')} +${named.length - 6}` : named.join(',');
    const hidden = v.hiddenOwn > 0 ? `, ${v.hiddenOwn} hidden` : '';
    const l2 = `pids ${shown || '-'}  events ${s.length} (ioctls ${s.ioctls}, errors ${s.errors}${hidden})  ${this.status_ === 'running' ? `${this.loadingText()}${this.shownRate}  ` : ''}[${state}${v.follow ? ', follow' : ''}]  findings ${s.findingsTotal}${s.lost > 0 ? `  LOST ${s.lost}` : ''}  ? help`;
    this.header.setContent(`${esc(fit(l1, w))}\n${esc(fit(l2, w))}`);
  }

  /** "loading 42%  " while a recording is read (the list is usable meanwhile), else empty. */
  private loadingText(): string {
    const p = this.source.progress?.();
    if (!p || p.total <= 0) return '';
    return `loading ${Math.min(100, Math.floor((p.read * 100) / p.total))}%  `;
  }

  /** Rebuild the detail lines when the selected event changed. */
  private refreshDetail(): void {
    const v = this.view;
    if (this.detailEpoch === v.selectionEpoch) return;
    this.detailEpoch = v.selectionEpoch;
    const idx = v.selectedIndex;
    const ev = idx >= 0 ? this.store.event(idx) : null;
    const reread = idx >= 0 && !this.store.isKept(idx);
    this.detailLines = buildDetail(ev, reread ? this.store.row(idx).name : null);
  }

  private drawDetail(): void {
    const v = this.view;
    const idx = v.selectedIndex;
    this.refreshDetail();
    const h = this.innerHeight(this.detail);
    v.moveDetail(0, this.detailLines.length, h);
    const w = (this.detail.width as number) - 2;
    this.detail.setContent(detailPane(this.detailLines, v.detailTop, v.detailCursor, v.focus === 'detail', h, w).join('\n'));
    const ev = idx >= 0 ? this.store.event(idx) : null;
    this.hex.setContent(hexPane(ev, this.detailLines[v.detailCursor]?.node ?? null).join('\n'));
  }

  private drawSide(): void {
    const v = this.view;
    const h = this.innerHeight(this.side);
    const w = (this.side.width as number) - 2;
    if (v.side === 'findings') {
      this.side.setLabel(` findings (${this.store.findingsTotal}) `);
      const all = this.store.allFindings();
      v.findCursor = Math.min(v.findCursor, Math.max(0, all.length - 1));
      this.side.setContent(findingsPane(all, v.findCursor, v.focus === 'findings', h, w).join('\n'));
    } else {
      this.side.setLabel(' VFIO state ');
      const lines = this.source.stateLines?.() ?? ['(no session model for this source)'];
      v.stateTop = Math.min(v.stateTop, Math.max(0, lines.length - h));
      this.side.setContent(lines.slice(v.stateTop, v.stateTop + h).map((l) => esc(fit(l, w))).join('\n'));
    }
  }

  private drawStatus(): void {
    const w = (this.status.width as number) || 80;
    if (this.prompt.active) {
      const p = this.prompt;
      this.status.setContent(esc(fit(`${p.label()}: ${p.text}_   (Enter apply, Esc cancel)`, w)));
      return;
    }
    const hint = `[${this.view.focus}] j/k move  Tab pane  / filter  : search  n/N next  space pause  f follow  s summary  w write  q quit`;
    this.status.setContent(esc(fit(this.view.message || hint, w)));
  }

  private drawOverlay(): void {
    const v = this.view;
    if (v.overlay === 'none') {
      this.overlay.hide();
      return;
    }
    let lines = HELP_LINES;
    if (v.overlay === 'summary') {
      // A full pass over the store: redone only when events arrived, at most once a second.
      const now = Date.now();
      if (!this.summary || (this.summary.length !== this.store.length && now - this.summary.at > 1000)) {
        this.summary = { length: this.store.length, at: now, lines: formatSummary(summarizeStore(this.store)) };
      }
      lines = this.summary.lines;
    }
    this.overlay.setLabel(v.overlay === 'help' ? ' keys (j/k scroll, Esc closes) ' : ' summary (j/k scroll, Esc closes) ');
    this.overlay.setContent(lines.map(esc).join('\n'));
    this.overlay.show();
    this.overlay.setFront();
  }

  /** Stop the source (an attached target is detached, a spawned one ended), restore the terminal, resolve run(). */
  quit(code = 0): void {
    this.source.detach();
    this.teardown();
    const r = this.quitResolve;
    this.quitResolve = null;
    r?.(code);
  }

  private teardown(): void {
    if (this.tick) clearInterval(this.tick);
    if (this.drawTimer) clearTimeout(this.drawTimer);
    this.tick = null;
    this.drawTimer = null;
    this.guard?.dispose();
    this.guard = null;
    const s = this.screen;
    this.screen = null;
    s?.destroy();
  }
}
