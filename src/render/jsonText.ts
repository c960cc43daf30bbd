// JSON text pieces shared by the JSON renderers: quoted strings (cached, as
// most repeat from event to event), keys and exact integers.

// Most strings repeat from event to event (paths, names, meanings): quote each once.
const quoted = new Map<string, string>();
export function jsonStr(s: string): string {
  let q = quoted.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quoted.size >= 8192) quoted.clear();
    quoted.set(s, q);
  }
  return q;
}

/**
 * A string that is new nearly every call (an argument's address): quoted
 * without going through the cache, which it would only churn. Plain printable
 * ASCII without quote or backslash is exactly what JSON.stringify would give
 * between quotes; anything else goes through JSON.stringify.
 */
export function strFresh(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/** A JSON number when it is exact, else a "0x…" string (two's complement for negatives). */
export function jsonInt(v: bigint | number): string {
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) ? String(v) : '"0x' + BigInt.asUintN(64, BigInt(Math.trunc(v))).toString(16) + '"';
  }
  if (v <= 9007199254740991n && v >= -9007199254740991n) return v.toString();
  return '"0x' + BigInt.asUintN(64, v).toString(16) + '"';
}

/** `"name":` */
export function jsonKey(name: string): string {
  return jsonStr(name) + ':';
}
