// A one-line editor for the filter, search and write prompts. Kept out of
// blessed's textbox so keystrokes are handled in one place and testable.

export type PromptKind = 'filter' | 'search' | 'write';

export interface KeyIn {
  /** Printable character, if any. */
  ch?: string | undefined;
  /** blessed key name: "enter", "escape", "backspace", "left", ... */
  name?: string | undefined;
  ctrl?: boolean | undefined;
}

export class Prompt {
  kind: PromptKind | null = null;
  text = '';
  cursor = 0;

  get active(): boolean {
    return this.kind !== null;
  }

  open(kind: PromptKind, initial = ''): void {
    this.kind = kind;
    this.text = initial;
    this.cursor = initial.length;
  }

  /** Returns 'submit' with the text, 'cancel', or null while editing. */
  key(k: KeyIn): { done: 'submit'; kind: PromptKind; text: string } | { done: 'cancel' } | null {
    if (!this.kind) return null;
    const name = k.name ?? '';
    if (name === 'enter' || name === 'return') {
      const out = { done: 'submit' as const, kind: this.kind, text: this.text };
      this.kind = null;
      return out;
    }
    if (name === 'escape' || (k.ctrl && (name === 'c' || name === 'g'))) {
      this.kind = null;
      return { done: 'cancel' };
    }
    if (name === 'backspace') {
      if (this.cursor > 0) {
        this.text = this.text.slice(0, this.cursor - 1) + this.text.slice(this.cursor);
        this.cursor--;
      }
    } else if (name === 'delete') {
      this.text = this.text.slice(0, this.cursor) + this.text.slice(this.cursor + 1);
    } else if (name === 'left') this.cursor = Math.max(0, this.cursor - 1);
    else if (name === 'right') this.cursor = Math.min(this.text.length, this.cursor + 1);
    else if (name === 'home' || (k.ctrl && name === 'a')) this.cursor = 0;
    else if (name === 'end' || (k.ctrl && name === 'e')) this.cursor = this.text.length;
    else if (k.ctrl && name === 'u') {
      this.text = this.text.slice(this.cursor);
      this.cursor = 0;
    } else if (!k.ctrl && k.ch && k.ch.length === 1 && k.ch >= ' ' && k.ch !== '\x7f') {
      this.text = this.text.slice(0, this.cursor) + k.ch + this.text.slice(this.cursor);
      this.cursor++;
    }
    return null;
  }

  label(): string {
    return this.kind === 'filter' ? 'filter' : this.kind === 'search' ? 'search' : 'write recording to';
  }
}
