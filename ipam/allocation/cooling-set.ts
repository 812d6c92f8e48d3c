import type { CoolingAddress } from "./state.js";

/** Index of the first entry at or after `from` whose address is >= `address`. */
function lowerBound(list: readonly CoolingAddress[], address: bigint, from: number): number {
  let lo = from;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as CoolingAddress).address < address) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A lower bound of the earliest `until` in a cooling list, remembered per (immutable) list so
 * that a release into a long list does not scan it just to learn that nothing has expired.
 */
const earliestUntil = new WeakMap<readonly CoolingAddress[], number>();

function before(a: CoolingAddress, b: CoolingAddress): boolean {
  return a.until < b.until || (a.until === b.until && a.address < b.address);
}

/**
 * The cooling-down addresses while a batch is applied. The record keeps them sorted by
 * address (so building the free list is a linear merge and the wire form delta-encodes
 * well); reuse order is (until, address), served from a heap built only when a pool has
 * nothing else to give. Entries whose cool-down ended by `now` count as gone.
 *
 * Nothing is copied until `toList`: the input list is shared, removals and additions are
 * kept aside, so a single release costs one binary search plus one merge at the end.
 */
export class CoolingSet {
  private readonly base: readonly CoolingAddress[];
  private readonly now: number;
  private removed: Set<bigint> | undefined;
  private readonly added = new Map<bigint, number>();
  private heap: CoolingAddress[] | undefined;

  /** `base` sorted by address, as in PoolAllocations.cooling. */
  constructor(base: readonly CoolingAddress[], now: number) {
    this.base = base;
    this.now = now;
  }

  private baseEntry(address: bigint): CoolingAddress | undefined {
    const c = this.base[lowerBound(this.base, address, 0)];
    return c !== undefined && c.address === address && this.baseLive(c) ? c : undefined;
  }

  private baseLive(c: CoolingAddress): boolean {
    return c.until > this.now && this.removed?.has(c.address) !== true;
  }

  has(address: bigint): boolean {
    return this.added.has(address) || this.baseEntry(address) !== undefined;
  }

  /** An address just released (never one that is cooling already: it was held). */
  add(address: bigint, until: number): void {
    this.added.set(address, until);
    if (this.heap !== undefined) this.heapPush({ address, until });
  }

  remove(address: bigint): boolean {
    if (this.added.delete(address)) return true;
    if (this.baseEntry(address) === undefined) return false;
    (this.removed ??= new Set()).add(address);
    return true;
  }

  private isLive(c: CoolingAddress): boolean {
    const until = this.added.get(c.address);
    return until !== undefined ? until === c.until : this.baseEntry(c.address)?.until === c.until;
  }

  /** Removes and returns the address whose cool-down ends first (ties: the lowest). */
  popEarliest(): bigint | undefined {
    if (this.heap === undefined) {
      this.heap = this.toList().slice();
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    }
    while (this.heap.length > 0) {
      const top = this.heap[0] as CoolingAddress;
      const last = this.heap.pop() as CoolingAddress;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.siftDown(0);
      }
      if (this.isLive(top)) {
        this.remove(top.address);
        return top.address;
      }
    }
    return undefined;
  }

  private heapPush(c: CoolingAddress): void {
    const h = this.heap as CoolingAddress[];
    let i = h.push(c) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(c, h[parent] as CoolingAddress)) break;
      h[i] = h[parent] as CoolingAddress;
      i = parent;
    }
    h[i] = c;
  }

  private siftDown(start: number): void {
    const h = this.heap as CoolingAddress[];
    const c = h[start] as CoolingAddress;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= h.length) break;
      if (child + 1 < h.length && before(h[child + 1] as CoolingAddress, h[child] as CoolingAddress)) child++;
      if (!before(h[child] as CoolingAddress, c)) break;
      h[i] = h[child] as CoolingAddress;
      i = child;
    }
    h[i] = c;
  }

  /** Whether some entry of the input has cooled down by now, without a scan when possible. */
  private anyExpired(): boolean {
    const bound = earliestUntil.get(this.base);
    if (bound !== undefined && bound > this.now) return false;
    let min = Infinity;
    for (const c of this.base) if (c.until < min) min = c.until;
    earliestUntil.set(this.base, min);
    return min <= this.now;
  }

  /** The live entries sorted by address; the input list itself when nothing changed. */
  toList(): readonly CoolingAddress[] {
    let live: readonly CoolingAddress[] = this.base;
    let bound = Infinity;
    if (this.removed !== undefined || this.anyExpired()) {
      const kept: CoolingAddress[] = [];
      for (const c of this.base) {
        if (!this.baseLive(c)) continue;
        kept.push(c);
        if (c.until < bound) bound = c.until;
      }
      live = kept;
    } else {
      bound = earliestUntil.get(this.base) ?? -Infinity;
    }
    if (this.added.size === 0) {
      if (live !== this.base) earliestUntil.set(live, bound);
      return live;
    }
    const added = [...this.added]
      .map(([address, until]) => ({ address, until }))
      .sort((a, b) => (a.address < b.address ? -1 : 1));
    for (const a of added) bound = Math.min(bound, a.until);
    const out = this.merge(live, added);
    earliestUntil.set(out, bound);
    return out;
  }

  private merge(live: readonly CoolingAddress[], added: CoolingAddress[]): CoolingAddress[] {
    // A few additions into a long list: copy slices between binary-searched cut points
    // rather than comparing every entry (bigint comparisons are what a merge would cost).
    if (added.length <= 64) {
      const parts: (readonly CoolingAddress[])[] = [];
      let from = 0;
      for (const a of added) {
        const at = lowerBound(live, a.address, from);
        parts.push(live.slice(from, at), [a]);
        from = at;
      }
      parts.push(live.slice(from));
      return ([] as CoolingAddress[]).concat(...parts);
    }
    const out: CoolingAddress[] = [];
    let j = 0;
    for (const c of live) {
      while (j < added.length && (added[j] as CoolingAddress).address < c.address) out.push(added[j++] as CoolingAddress);
      out.push(c);
    }
    while (j < added.length) out.push(added[j++] as CoolingAddress);
    return out;
  }

  /** Live addresses in ascending order, for building the free list. */
  sortedAddresses(): bigint[] {
    return this.toList().map((c) => c.address);
  }
}
