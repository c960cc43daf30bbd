// Turning values into the human form shown in FieldNode.display. Formatters
// are built once per field and memoise: the same flag words and enum values
// recur in every trace, so most events reuse a string instead of building one.

import type { Display } from './dsl.js';
import { errnoName } from './errno.js';

/** `vals`: the enclosing struct's earlier fields, for displays that depend on them. */
export type Formatter = (v: bigint, n: number, vals?: Readonly<Record<string, number>>) => string;

const MEMO_LIMIT = 512;

function memo(fn: (n: number) => string): Formatter {
  const cache = new Map<number, string>();
  return (_v, n) => {
    let s = cache.get(n);
    if (s === undefined) {
      s = fn(n);
      if (cache.size < MEMO_LIMIT) cache.set(n, s);
    }
    return s;
  };
}

export function hexOf(v: bigint | number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

// Table-driven hex: Number#toString(16) is a slow runtime call in V8, and
// hex is the most common display.
const SHORT: string[] = [];
const BYTE: string[] = [];
for (let k = 0; k < 256; k++) {
  SHORT.push(k.toString(16));
  BYTE.push(k.toString(16).padStart(2, '0'));
}

/** Hex digits of an unsigned 32-bit number, no prefix, no padding. */
export function hex32(n: number): string {
  const b3 = n >>> 24;
  const b2 = (n >>> 16) & 255;
  const b1 = (n >>> 8) & 255;
  const b0 = n & 255;
  if (b3) return (SHORT[b3] as string) + BYTE[b2] + BYTE[b1] + BYTE[b0];
  if (b2) return (SHORT[b2] as string) + BYTE[b1] + BYTE[b0];
  if (b1) return (SHORT[b1] as string) + BYTE[b0];
  return SHORT[b0] as string;
}


/** Character codes of the hex digits. */
const DIGIT: number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const chars = String.fromCharCode;

/**
 * "0x…" of `lo` (unsigned 32-bit) after `hi` (below 2^21; 0: none), built by
 * one String.fromCharCode: pointers and IOVAs are printed on nearly every
 * line, and piecing them together from table strings made up to ten
 * short-lived strings each.
 */
function hex53(hi: number, lo: number): string {
  const d0 = DIGIT[lo & 15] as number, d1 = DIGIT[(lo >>> 4) & 15] as number, d2 = DIGIT[(lo >>> 8) & 15] as number, d3 = DIGIT[(lo >>> 12) & 15] as number;
  const d4 = DIGIT[(lo >>> 16) & 15] as number, d5 = DIGIT[(lo >>> 20) & 15] as number, d6 = DIGIT[(lo >>> 24) & 15] as number, d7 = DIGIT[lo >>> 28] as number;
  if (hi === 0) {
    if (lo < 0x100) return lo < 0x10 ? chars(48, 120, d0) : chars(48, 120, d1, d0);
    if (lo < 0x10000) return lo < 0x1000 ? chars(48, 120, d2, d1, d0) : chars(48, 120, d3, d2, d1, d0);
    if (lo < 0x1000000) return lo < 0x100000 ? chars(48, 120, d4, d3, d2, d1, d0) : chars(48, 120, d5, d4, d3, d2, d1, d0);
    return lo < 0x10000000 ? chars(48, 120, d6, d5, d4, d3, d2, d1, d0) : chars(48, 120, d7, d6, d5, d4, d3, d2, d1, d0);
  }
  const e0 = DIGIT[hi & 15] as number, e1 = DIGIT[(hi >>> 4) & 15] as number, e2 = DIGIT[(hi >>> 8) & 15] as number;
  const e3 = DIGIT[(hi >>> 12) & 15] as number, e4 = DIGIT[(hi >>> 16) & 15] as number, e5 = DIGIT[(hi >>> 20) & 15] as number;
  if (hi < 0x100) return hi < 0x10 ? chars(48, 120, e0, d7, d6, d5, d4, d3, d2, d1, d0) : chars(48, 120, e1, e0, d7, d6, d5, d4, d3, d2, d1, d0);
  if (hi < 0x10000) return hi < 0x1000 ? chars(48, 120, e2, e1, e0, d7, d6, d5, d4, d3, d2, d1, d0) : chars(48, 120, e3, e2, e1, e0, d7, d6, d5, d4, d3, d2, d1, d0);
  return hi < 0x100000 ? chars(48, 120, e4, e3, e2, e1, e0, d7, d6, d5, d4, d3, d2, d1, d0) : chars(48, 120, e5, e4, e3, e2, e1, e0, d7, d6, d5, d4, d3, d2, d1, d0);
}

/** "0x…" of a non-negative integer given exactly as a double (< 2^53), else of the bigint. */
export function hexNum(v: bigint, n: number): string {
  if (n >= 0 && n <= 0xffffffff) return hex53(0, n);
  if (n > 0 && Number.isSafeInteger(n)) {
    const hi = Math.floor(n / 4294967296);
    return hex53(hi, n - hi * 4294967296);
  }
  return hexOf(v);
}

/** "NAME_A|NAME_B|0x100" — names for known bits, hex for the rest; "0" when clear. */
export function flagsText(bits: readonly (readonly [string, number])[], n: number): string {
  if (n === 0) return '0';
  const parts: string[] = [];
  let rest = n >>> 0;
  for (const [name, b] of bits) {
    if (b !== 0 && (rest & b) === b) {
      parts.push(name);
      rest = (rest & ~b) >>> 0;
    }
  }
  if (rest !== 0) parts.push('0x' + hex32(rest));
  return parts.join('|');
}

export function makeFormatter(d: Display, signed: boolean): Formatter {
  switch (d.kind) {
    // Number paths when the value is exact as a double; bigint formatting is slower.
    case 'hex':
      return hexNum;
    case 'dec':
    case 'fd':
      return (v, n) => (Number.isSafeInteger(n) ? String(n) : v.toString());
    case 'ptr':
      return (v, n) => (n === 0 ? 'NULL' : hexNum(v, n));
    case 'errno':
      return (_v, n) => errnoName(n, 'generic') ?? String(n);
    case 'flags':
      return memo((n) => flagsText(d.bits, n));
    case 'enum':
      return memo((n) => d.names.get(n) ?? (signed ? String(n) : hexOf(n)));
    case 'custom':
      return (v, _n, vals) => d.format(v, vals ?? {});
  }
}

const HEXDIGITS = '0123456789abcdef';

/**
 * Bytes from the traced process as a C string literal body: printable ASCII
 * as is, quotes and backslashes escaped, everything else as \n, \t or \xNN,
 * so no control character from the tracee ever reaches a terminal.
 */
export function escapeBytes(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  for (let k = start; k < end; k++) {
    const c = b[k] as number;
    if (c >= 0x20 && c < 0x7f) {
      s += c === 0x22 ? '\\"' : c === 0x5c ? '\\\\' : String.fromCharCode(c);
    } else if (c === 0x0a) s += '\\n';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x0d) s += '\\r';
    else s += '\\x' + HEXDIGITS[c >> 4] + HEXDIGITS[c & 15];
  }
  return s;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Bytes from the traced process as the string they spell (UTF-8; invalid
 * sequences become U+FFFD). Not terminal-safe: FieldNode.text holds this,
 * `display` the escaped form.
 */
export function rawText(b: Uint8Array, start = 0, end = b.length): string {
  let plain = true;
  for (let k = start; k < end; k++) {
    if ((b[k] as number) >= 0x80) {
      plain = false;
      break;
    }
  }
  if (!plain) return utf8.decode(b.subarray(start, end));
  let s = '';
  for (let k = start; k < end; k++) s += String.fromCharCode(b[k] as number);
  return s;
}

/** 16 bytes as the canonical 8-4-4-4-12 UUID text. */
export function uuidText(b: Uint8Array, off: number): string {
  let s = '';
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) s += '-';
    const c = b[off + k] as number;
    s += HEXDIGITS[c >> 4]! + HEXDIGITS[c & 15]!;
  }
  return s;
}
