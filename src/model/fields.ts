// Reading decoded payloads by path. Rules and the session model name fields
// by their kernel C names ("argsz", "err.type", "data[2]"), so a grep for a
// header field finds its use here too.

import type { FieldNode } from '../decode/types.js';

const pathCache = new Map<string, string[]>();

/** "caps[0].iova_ranges[1].start" → ["caps", "[0]", "iova_ranges", "[1]", "start"]. */
function splitPath(path: string): string[] {
  let parts = pathCache.get(path);
  if (parts) return parts;
  parts = [];
  for (const dotted of path.split('.')) {
    if (dotted === '') continue;
    const bracket = dotted.indexOf('[');
    if (bracket < 0) {
      parts.push(dotted);
      continue;
    }
    if (bracket > 0) parts.push(dotted.slice(0, bracket));
    const re = /\[(\d+)\]/g;
    for (let m = re.exec(dotted); m; m = re.exec(dotted)) parts.push(`[${m[1]}]`);
  }
  if (pathCache.size < 4096) pathCache.set(path, parts);
  return parts;
}

function child(node: FieldNode, name: string): FieldNode | undefined {
  const kids = node.children;
  if (!kids) return undefined;
  for (const k of kids) if (k.name === name) return k;
  // Array elements may be named "[i]" or only be positional.
  if (name.startsWith('[')) {
    const i = Number(name.slice(1, -1));
    const k = kids[i];
    if (k && (k.name === name || !k.name.startsWith('['))) return k;
  }
  return undefined;
}

/** The node at `path` below `root` (the empty path is the root itself). */
export function getField(root: FieldNode | null | undefined, path: string): FieldNode | undefined {
  if (!root) return undefined;
  let node: FieldNode | undefined = root;
  for (const part of splitPath(path)) {
    node = child(node, part);
    if (!node) return undefined;
  }
  return node;
}

/** Scalar value at `path`, or undefined when absent or unreadable. */
export function fieldValue(root: FieldNode | null | undefined, path: string): bigint | undefined {
  const node = getField(root, path);
  if (!node || node.unreadable) return undefined;
  return node.value;
}

/** Like fieldValue, as a JS number (exact for the u32/s32 fields it is used on). */
export function fieldNumber(root: FieldNode | null | undefined, path: string): number | undefined {
  const v = fieldValue(root, path);
  return v === undefined ? undefined : Number(v);
}

/**
 * The value of a payload that is a single scalar (pointer to s32 fd, pointer
 * to u32): either the root itself or its only scalar child.
 */
export function scalarPayload(root: FieldNode | null | undefined): bigint | undefined {
  if (!root || root.unreadable) return undefined;
  if (root.value !== undefined) return root.value;
  const kids = root.children;
  if (kids && kids.length === 1 && kids[0] && !kids[0].unreadable) return kids[0].value;
  return undefined;
}

/** Scalar values of the elements of an array node (unreadable elements skipped). */
export function arrayValues(root: FieldNode | null | undefined, path: string): bigint[] {
  const node = getField(root, path);
  const out: bigint[] = [];
  if (!node?.children) return out;
  for (const k of node.children) if (k.value !== undefined && !k.unreadable) out.push(k.value);
  return out;
}
