// A flat copy of a string built by concatenation. Text reused line after line
// would otherwise stay a tree of small pieces that every output write walks
// again. The copy goes through UTF-8 as the output does, so the bytes written
// are the same.

import { Buffer } from 'node:buffer';

export function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
