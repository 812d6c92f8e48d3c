import { IpamError } from "../errors.js";
import type { CIDR } from "./cidr.js";
import { type Family, familyName, maxAddress } from "./ip.js";
import { type IPRange, formatRange } from "./range.js";

/** Appends `r` to a sorted list, merging it with the last range when they touch or overlap. */
function pushMerged(out: IPRange[], r: IPRange): void {
  const last = out[out.length - 1];
  if (last !== undefined && r.start <= last.end + 1n) {
    if (r.end > last.end) out[out.length - 1] = { start: last.start, end: r.end };
  } else {
    out.push(r);
  }
}

/**
 * An immutable set of addresses of ONE family, held as sorted, disjoint, non-touching
 * inclusive ranges, so a /64 costs one entry. Every operation is linear in the number of
 * ranges (binary search for point queries) and never in the number of addresses.
 */
export class IPSet {
  readonly family: Family;
  readonly ranges: readonly IPRange[];

  private constructor(family: Family, ranges: IPRange[]) {
    this.family = family;
    this.ranges = Object.freeze(ranges);
  }

  static empty(family: Family): IPSet {
    return new IPSet(family, []);
  }

  /** Any ranges, in any order, overlapping or not; checked against the family's bounds. */
  static of(family: Family, ranges: Iterable<IPRange>): IPSet {
    const max = maxAddress(family);
    const list = [...ranges];
    for (const r of list) {
      if (r.start < 0n || r.end > max || r.start > r.end) {
        throw new IpamError("RANGE_INVALID", `range ${r.start}-${r.end} is not a valid ${familyName(family)} range`, {
          start: r.start.toString(),
          end: r.end.toString(),
        });
      }
    }
    list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const out: IPRange[] = [];
    for (const r of list) pushMerged(out, { start: r.start, end: r.end });
    return new IPSet(family, out);
  }

  static single(family: Family, value: bigint): IPSet {
    return IPSet.of(family, [{ start: value, end: value }]);
  }

  static fromCIDR(cidr: CIDR): IPSet {
    return new IPSet(cidr.family, [{ start: cidr.network, end: cidr.last }]);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  size(): bigint {
    let n = 0n;
    for (const r of this.ranges) n += r.end - r.start + 1n;
    return n;
  }

  first(): bigint | undefined {
    return this.ranges[0]?.start;
  }

  last(): bigint | undefined {
    return this.ranges[this.ranges.length - 1]?.end;
  }

  /** Index of the first range whose end is >= value (ranges.length when none). */
  private lowerBound(value: bigint): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ranges[mid] as IPRange).end < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  contains(value: bigint): boolean {
    const r = this.ranges[this.lowerBound(value)];
    return r !== undefined && r.start <= value;
  }

  /** The lowest member >= value, without walking the members in between. */
  nextAtOrAfter(value: bigint): bigint | undefined {
    const r = this.ranges[this.lowerBound(value)];
    if (r === undefined) return undefined;
    return r.start > value ? r.start : value;
  }

  private same(other: IPSet): void {
    if (other.family !== this.family) {
      throw new IpamError(
        "FAMILY_MISMATCH",
        `cannot combine an ${familyName(this.family)} set with an ${familyName(other.family)} set`,
        { expected: this.family, actual: other.family },
      );
    }
  }

  union(other: IPSet): IPSet {
    this.same(other);
    const a = this.ranges;
    const b = other.ranges;
    const out: IPRange[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      const x = a[i];
      const y = b[j];
      if (y === undefined || (x !== undefined && x.start <= y.start)) {
        pushMerged(out, x as IPRange);
        i++;
      } else {
        pushMerged(out, y);
        j++;
      }
    }
    return new IPSet(this.family, out);
  }

  difference(other: IPSet): IPSet {
    this.same(other);
    const b = other.ranges;
    const out: IPRange[] = [];
    let j = 0;
    for (const r of this.ranges) {
      let start = r.start;
      while (j < b.length && (b[j] as IPRange).end < start) j++;
      let k = j;
      while (start <= r.end) {
        const cut = b[k];
        if (cut === undefined || cut.start > r.end) {
          out.push({ start, end: r.end });
          break;
        }
        if (cut.start > start) out.push({ start, end: cut.start - 1n });
        start = cut.end + 1n;
        if (cut.end > r.end) break;
        k++;
      }
    }
    return new IPSet(this.family, out);
  }

  intersection(other: IPSet): IPSet {
    this.same(other);
    const a = this.ranges;
    const b = other.ranges;
    const out: IPRange[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i] as IPRange;
      const y = b[j] as IPRange;
      const start = x.start > y.start ? x.start : y.start;
      const end = x.end < y.end ? x.end : y.end;
      if (start <= end) out.push({ start, end });
      if (x.end < y.end) i++;
      else j++;
    }
    return new IPSet(this.family, out);
  }

  overlaps(other: IPSet): boolean {
    this.same(other);
    const a = this.ranges;
    const b = other.ranges;
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i] as IPRange;
      const y = b[j] as IPRange;
      if (x.start <= y.end && y.start <= x.end) return true;
      if (x.end < y.end) i++;
      else j++;
    }
    return false;
  }

  /** True when every member of `other` is in this set. */
  containsSet(other: IPSet): boolean {
    return other.difference(this).isEmpty;
  }

  equals(other: IPSet): boolean {
    if (other.family !== this.family || other.ranges.length !== this.ranges.length) return false;
    return this.ranges.every((r, i) => r.start === other.ranges[i]?.start && r.end === other.ranges[i]?.end);
  }

  /** Members in ascending order, at most `limit` of them: never enumerate a /64 by accident. */
  *values(limit: number): Generator<bigint> {
    let left = limit;
    for (const r of this.ranges) {
      for (let v = r.start; v <= r.end; v++) {
        if (left-- <= 0) return;
        yield v;
      }
    }
  }

  /** Canonical list text: merged, sorted, single addresses bare, ranges `a-b`. */
  toStrings(): string[] {
    return this.ranges.map((r) => formatRange(this.family, r));
  }
}
