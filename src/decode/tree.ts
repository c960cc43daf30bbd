// Reading decoded trees by path: "argsz", "err.type", "caps[0].iova_ranges[1].start".

import type { FieldNode } from './types.js';

/** The node at `path` under `root` (paths as in FieldNode.path), or null. */
export function findField(root: FieldNode | null, path: string): FieldNode | null {
  if (root === null) return null;
  if (root.path === path) return root;
  const kids = root.children;
  if (!kids) return null;
  for (const c of kids) {
    if (c.path === path) return c;
    // Descend only where the path continues (prefix followed by '.' or '[').
    if (c.children && path.startsWith(c.path)) {
      const next = path.charCodeAt(c.path.length);
      if (next === 46 /* . */ || next === 91 /* [ */) {
        const hit = findField(c, path);
        if (hit) return hit;
      }
    }
  }
  return null;
}

/** The scalar value at `path`, or undefined when absent or unreadable. */
export function fieldValue(root: FieldNode | null, path: string): bigint | undefined {
  const n = findField(root, path);
  return n && !n.unreadable ? n.value : undefined;
}
