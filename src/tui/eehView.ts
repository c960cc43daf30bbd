// The `E` view: the EEH timeline (state/eehTimeline.ts) in a box over the
// panes, the band coloured by state. Scrolls with j/k and PgUp/PgDn; Esc,
// q or E close it.

import blessed from 'blessed';
import { BAND_CHAR, eehViewLines } from './state/eehTimeline.js';
import { esc } from './format.js';
import type { PeTimeline } from '../model/eehTimeline.js';

const COLOUR: Readonly<Record<string, string>> = {
  [BAND_CHAR.NORMAL]: 'green-fg',
  [BAND_CHAR.STOPPED]: 'red-fg',
  [BAND_CHAR.STOPPED_DMA]: 'magenta-fg',
  [BAND_CHAR.RESET]: 'yellow-fg',
  [BAND_CHAR.UNAVAIL]: 'red-fg',
  [BAND_CHAR.UNKNOWN]: 'white-fg',
  [BAND_CHAR.DISABLED]: 'gray-fg',
};

/** A band line with each run of one state in its colour. */
function colourBand(line: string): string {
  return esc(line).replace(/(=+|X+|x+|R+|U+|\?+|-+)/g, (run) => {
    const c = COLOUR[run[0]!];
    return c ? `{${c}}{bold}${run}{/bold}{/${c}}` : run;
  });
}

export class EehView {
  private readonly box: blessed.Widgets.BoxElement;
  private top = 0;
  visible = false;

  constructor(screen: blessed.Widgets.Screen, private readonly timelines: () => readonly PeTimeline[]) {
    this.box = blessed.box({
      parent: screen, top: 'center', left: 'center', width: '95%', height: '90%', border: { type: 'line' }, hidden: true,
      tags: true, wrap: false, label: ' EEH timeline (j/k scroll, Esc closes) ', style: { border: { fg: 'cyan' } },
    });
  }

  toggle(): void {
    this.visible = !this.visible;
    this.top = 0;
  }

  /** Keys while the view is open; true when the key was the view's. */
  key(full: string): boolean {
    const page = Math.max(1, (this.box.height as number) - 3);
    const by: Record<string, number> = { up: -1, k: -1, down: 1, j: 1, pageup: -page, pagedown: page, g: -1e9, home: -1e9 };
    if (by[full] !== undefined) this.top = Math.max(0, this.top + (by[full] ?? 0));
    else if (full === 'escape' || full === 'q' || full === 'S-e' || full === 'E') this.visible = false;
    else return false;
    return true;
  }

  draw(): void {
    if (!this.visible) {
      this.box.hide();
      return;
    }
    const w = Math.max(20, (this.box.width as number) - 2);
    const h = Math.max(1, (this.box.height as number) - 2);
    const lines = eehViewLines(this.timelines(), w);
    this.top = Math.min(this.top, Math.max(0, lines.length - h));
    const shown = lines.slice(this.top, this.top + h).map((l) => (l.startsWith('state ') ? colourBand(l) : esc(l.slice(0, w))));
    this.box.setContent(shown.join('\n'));
    this.box.show();
    this.box.setFront();
  }
}
