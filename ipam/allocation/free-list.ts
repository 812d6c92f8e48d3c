import type { IPRange } from "../address/range.js";

interface Span {
  start: bigint;
  end: bigint;
}

/**
 * The free, not-cooling addresses of a pool while a batch is being applied: a mutable sorted
 * list of disjoint inclusive spans owned by one draft. Lookups are binary searches; taking
 * the lowest address is O(1); a split or merge in the middle costs one array splice.
 */
export class FreeList {
  private readonly spans: Span[];

  constructor(ranges: readonly IPRange[]) {
    this.spans = ranges.map((r) => ({ start: r.start, end: r.end }));
  }

  first(): bigint | undefined {
    return this.spans[0]?.start;
  }

  /** Index of the first span whose end is >= value. */
  private lowerBound(value: bigint): number {
    let lo = 0;
    let hi = this.spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.spans[mid] as Span).end < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  contains(value: bigint): boolean {
    const s = this.spans[this.lowerBound(value)];
    return s !== undefined && s.start <= value;
  }

  /** Removes `value`; false when it was not free. */
  remove(value: bigint): boolean {
    const i = this.lowerBound(value);
    const s = this.spans[i];
    if (s === undefined || s.start > value) return false;
    if (s.start === s.end) this.spans.splice(i, 1);
    else if (value === s.start) s.start = value + 1n;
    else if (value === s.end) s.end = value - 1n;
    else {
      this.spans.splice(i + 1, 0, { start: value + 1n, end: s.end });
      s.end = value - 1n;
    }
    return true;
  }

  /** Adds `value` (a no-op when already free), merging with touching spans. */
  insert(value: bigint): void {
    const i = this.lowerBound(value);
    const next = this.spans[i];
    if (next !== undefined && next.start <= value) return;
    const prev = this.spans[i - 1];
    const joinsPrev = prev !== undefined && prev.end + 1n === value;
    const joinsNext = next !== undefined && next.start - 1n === value;
    if (joinsPrev && joinsNext) {
      prev.end = next.end;
      this.spans.splice(i, 1);
    } else if (joinsPrev) {
      prev.end = value;
    } else if (joinsNext) {
      next.start = value;
    } else {
      this.spans.splice(i, 0, { start: value, end: value });
    }
  }

  size(): bigint {
    let n = 0n;
    for (const s of this.spans) n += s.end - s.start + 1n;
    return n;
  }
}
