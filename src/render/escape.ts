// Anything that came from the tracee (fd paths, strings in payloads) may hold
// control characters; none of them may reach a terminal raw.

const HEX = '0123456789abcdef';

/** True when every UTF-16 unit is printable ASCII, so the common case skips escaping. */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** U+061C, U+200B–U+200F, U+2028–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF. */
function invisible(c: number): boolean {
  return c === 0x061c || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c === 0xfeff;
}

function hexByte(c: number): string {
  return '\\x' + HEX[(c >> 4) & 15]! + HEX[c & 15]!;
}

/**
 * Escapes control characters (C0, DEL, C1) and lone surrogates, strace-style
 * (`\n`, `\t`, `\x1b`). Backslashes are left alone: this is for text that is
 * already a display form and only needs to be made terminal-safe.
 */
export function escapeControls(s: string): string {
  if (isPlainAscii(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) {
      out += c === 10 ? '\\n' : c === 9 ? '\\t' : c === 13 ? '\\r' : hexByte(c);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        out += '\\u' + c.toString(16);
      }
    } else if (invisible(c)) {
      // Line separators, bidi controls and invisible format characters can
      // rearrange or hide what a terminal shows.
      out += '\\u' + c.toString(16).padStart(4, '0');
    } else {
      out += s[i]!;
    }
  }
  return out;
}

/** Escapes a raw tracee string (fd path) fully: also backslashes, so the output is unambiguous. */
export function escapeRaw(s: string): string {
  if (isPlainAscii(s) && s.indexOf('\\') < 0) return s;
  return escapeControls(s.replace(/\\/g, '\\\\'));
}
