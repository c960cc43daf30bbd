import { describe, expect, it } from 'vitest';
import { Prompt } from '../../src/tui/state/prompt.js';

describe('Prompt', () => {
  it('edits a line and submits it', () => {
    const p = new Prompt();
    p.open('filter', 'fd=3');
    for (const ch of ' err') p.key({ ch, name: ch === ' ' ? 'space' : ch });
    p.key({ name: 'left' });
    p.key({ name: 'left' });
    p.key({ name: 'backspace' });
    expect(p.text).toBe('fd=3 rr');
    p.key({ ch: 'e', name: 'e' });
    expect(p.key({ name: 'enter' })).toEqual({ done: 'submit', kind: 'filter', text: 'fd=3 err' });
    expect(p.active).toBe(false);
  });

  it('cancels on Escape and ignores control characters', () => {
    const p = new Prompt();
    p.open('search');
    p.key({ ch: '\x1b', name: 'x' });
    p.key({ ch: 'a', name: 'a', ctrl: true });
    p.key({ ch: 'q', name: 'q' });
    expect(p.text).toBe('q');
    expect(p.key({ name: 'escape' })).toEqual({ done: 'cancel' });
    expect(p.active).toBe(false);
    expect(p.key({ ch: 'z', name: 'z' })).toBeNull();
  });
});
