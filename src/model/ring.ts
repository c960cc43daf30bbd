// A fixed-capacity history, oldest first: pushing onto a full ring drops the
// oldest entry in O(1). Array.shift() on a full history moves every entry on
// each push, which showed up as a large share of CPU on EEH-heavy streams.

export class Ring<T> {
  private readonly slots: (T | undefined)[];
  /** Index of the oldest entry. */
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends `v`; when full, the oldest entry is dropped. */
  push(v: T): void {
    if (this.count < this.capacity) {
      this.slots[(this.head + this.count) % this.capacity] = v;
      this.count++;
    } else {
      this.slots[this.head] = v;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** The i-th entry, oldest first (0 ≤ i < length). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.slots[(this.head + i) % this.capacity];
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.slots[(this.head + i) % this.capacity] as T;
  }

  /** Entries oldest first, mapped. */
  map<U>(f: (v: T, i: number) => U): U[] {
    const out: U[] = new Array<U>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = f(this.slots[(this.head + i) % this.capacity] as T, i);
    return out;
  }

  toArray(): T[] {
    return this.map((v) => v);
  }
}
