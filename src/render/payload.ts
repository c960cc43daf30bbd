// C-initializer rendering of a decoded payload (FieldNode tree), shared by the
// text renderer and anything else that wants the strace-like `{a=1, b=2}`.

import type { FieldNode } from '../decode/types.js';
import { escapeControls } from './escape.js';

function isArray(node: FieldNode): boolean {
  const first = node.children?.[0];
  return first !== undefined && first.name.charCodeAt(0) === 0x5b; // '['
}

function leaf(node: FieldNode): string {
  // Numbers, flags and enum names are made by the decoder; only strings carry tracee bytes.
  return node.value !== undefined ? node.display : escapeControls(node.display);
}

/** The whole node, every field. */
export function renderNode(node: FieldNode): string {
  const kids = node.children;
  if (kids === undefined) return leaf(node);
  const arr = isArray(node);
  let s = arr ? '[' : '{';
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    if (i > 0) s += ', ';
    s += arr ? renderNode(k) : k.name + '=' + renderNode(k);
  }
  return s + (arr ? ']' : '}');
}

/**
 * The caller's view: fields the caller provides (in/inout). Out-only fields
 * hold whatever was in memory and would only add noise, as in strace.
 */
export function renderEntry(node: FieldNode): string | null {
  if (node.dir === 'out') return null;
  const kids = node.children;
  if (kids === undefined) return leaf(node);
  if (isArray(node)) return renderNode(node);
  let s = '{';
  let n = 0;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    const v = renderEntry(k);
    if (v === null) continue;
    if (n++ > 0) s += ', ';
    s += k.name + '=' + v;
  }
  return s + '}';
}

/**
 * The kernel's side: fields it writes (out) — when the call succeeded — and
 * any field whose bytes changed. Returns null when nothing is worth showing.
 */
export function renderExit(node: FieldNode, succeeded: boolean): string | null {
  const kids = node.children;
  if (kids === undefined) {
    return node.changed || (succeeded && node.dir === 'out') ? leaf(node) : null;
  }
  if (isArray(node)) {
    // Show an array whole (indices stay readable) when any element qualifies.
    for (let i = 0; i < kids.length; i++) {
      if (renderExit(kids[i]!, succeeded) !== null) return renderNode(node);
    }
    return null;
  }
  let s = '{';
  let n = 0;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i]!;
    const v = renderExit(k, succeeded);
    if (v === null) continue;
    if (n++ > 0) s += ', ';
    s += k.name + '=' + v;
  }
  return n === 0 ? null : s + '}';
}
