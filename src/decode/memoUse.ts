// When a memo of decoded results pays, and where its copies of bytes live.
// Shared by the call memo (callMemo.ts) and the payload-text memo (memo.ts).
//
// Sessions repeat calls byte for byte (polled EEH state, the same infos), but
// DMA maps and TCE updates never do. On a stream that never repeats every
// lookup misses, and remembering each call costs copies and old-space garbage
// for nothing. So a memo is awake only while it pays: a round of lookups with
// few hits puts it to sleep (its slots dropped), and while asleep it keeps
// just the hashes of recent calls, a few numbers, waking when a round of them
// shows enough repeats.

/**
 * Lookups per judgement while awake and while asleep; a round needs a
 * quarter of them to hit. An awake memo starts empty, so its round is long
 * enough for calls that repeat with a long period (a cycle of a thousand
 * payloads) to fill it first; a sleeping one remembers hashes across rounds.
 */
const AWAKE_ROUND = 4096;
const ASLEEP_ROUND = 512;
/** Hashes a sleeping memo keeps, direct-mapped (about the longest repeat period it notices). */
const SEEN = 4096;
/**
 * A memo that sleeps round after round looks ever more rarely: after each
 * round without repeats it lets twice as many calls pass unhashed, up to
 * this many rounds' worth. Hashing is most of what a miss costs, so at the
 * cap 8 calls in 9 cost nothing; the cap keeps a cycle as long as the memo
 * (4,096 payloads) noticed within a few of its observed rounds.
 */
const MAX_DOZE_ROUNDS = 8;

export interface MemoUse {
  awake: boolean;
  lookups: number;
  hits: number;
  /** While asleep: recent hashes, each in the slot its low bits choose (made on first sleep). */
  seen: Int32Array | null;
  /** Calls still to pass without a look (not even a hash), and the length of the last such gap in rounds. */
  doze: number;
  dozeRounds: number;
}

export function newMemoUse(): MemoUse {
  return { awake: true, lookups: 0, hits: 0, seen: null, doze: 0, dozeRounds: 0 };
}

/** Whether this call passes the memo by without being hashed (a long-asleep memo); counts it. */
export function memoDozing(u: MemoUse): boolean {
  if (u.doze === 0) return false;
  u.doze--;
  return true;
}

/**
 * Whether to use the memo for the call with hash `h` (counts the call; the
 * caller counts hits in `hits`). Falling asleep empties `slots`.
 */
export function memoAwake(u: MemoUse, slots: { clear(): void }, h: number): boolean {
  if (!u.awake) {
    const seen = (u.seen ??= new Int32Array(SEEN));
    const at = h & (SEEN - 1);
    // A hash of 0 in an empty slot counts as seen once: harmless.
    if (seen[at] === (h | 0)) u.hits++;
    else seen[at] = h;
  }
  const round = u.awake ? AWAKE_ROUND : ASLEEP_ROUND;
  if (++u.lookups >= round) {
    const pays = u.hits >= round / 4;
    if (u.awake && !pays) slots.clear();
    if (!u.awake && pays) u.seen?.fill(0);
    if (!u.awake && !pays) {
      u.dozeRounds = Math.min(Math.max(1, u.dozeRounds * 2), MAX_DOZE_ROUNDS);
      u.doze = u.dozeRounds * ASLEEP_ROUND;
    }
    if (pays) u.dozeRounds = 0;
    u.awake = pays;
    u.lookups = 0;
    u.hits = 0;
  }
  return u.awake;
}

// Remembered bytes are copied (the record's own are views into a large read
// buffer) into shared slabs: one ArrayBuffer per slot would cost an external
// allocation each and make the collector run far more often.
const SLAB_BYTES = 1 << 18;
let slab = new Uint8Array(SLAB_BYTES);
let slabAt = 0;

/** A copy of a then b, back to back, 8-byte aligned (read as 32-bit words). */
export function copyJoined(a: Uint8Array, b: Uint8Array | null): Uint8Array {
  const n = a.length + (b?.length ?? 0);
  // A slab is never written twice: slots still holding views into a full one keep it alive.
  if (slabAt + n > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, n));
    slabAt = 0;
  }
  const out = slab.subarray(slabAt, slabAt + n);
  out.set(a, 0);
  if (b !== null) out.set(b, a.length);
  slabAt += (n + 7) & ~7;
  return out;
}

/** One 32-bit word into the hash (MurmurHash3's block step: every input bit reaches every output bit). */
export function hashMix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
