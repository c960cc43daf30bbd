// Text from the traced process never reaches a terminal raw: control
// characters, line separators and bidi controls are escaped in every output,
// text lines and the TUI alike (both go through src/render/escape.ts).

import { describe, expect, it } from 'vitest';
import { escapeControls, escapeRaw } from '../../src/render/escape.js';
import { esc } from '../../src/tui/format.js';

// Line/paragraph separators, bidi marks, embeddings, overrides and isolates,
// the Arabic letter mark, zero-width and invisible format characters, BOM.
const INVISIBLE = [0x2028, 0x2029, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x061c, 0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x85];

describe('escaping', () => {
  for (const [name, f] of [['escapeControls', escapeControls], ['escapeRaw', escapeRaw], ['the TUI', esc]] as const) {
    it(`${name} escapes every line-separator, bidi and invisible format character`, () => {
      for (const c of INVISIBLE) {
        const out = f(`a${String.fromCharCode(c)}b`);
        expect(out, c.toString(16)).not.toContain(String.fromCharCode(c));
        expect(out).toMatch(/^a\\(u|x)[0-9a-f]+b$/);
      }
      expect(f('/dev/vfio/\u202egnp.exe')).toBe('/dev/vfio/\\u202egnp.exe');
      expect(f('caf\u00e9 \u{1f600}')).toBe('caf\u00e9 \u{1f600}');
    });
  }
});
