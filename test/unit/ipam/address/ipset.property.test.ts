import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseIPList } from "../../../../ipam/address/iplist.js";
import { IPSet } from "../../../../ipam/address/ipset.js";
import type { Family } from "../../../../ipam/address/ip.js";

const MAX6 = (1n << 128n) - 1n;

/** Ranges anywhere in the IPv6 space, clustered so that overlaps and touches are common. */
function rangesArb(family: Family) {
  const max = family === 4 ? (1n << 32n) - 1n : MAX6;
  const base = fc.constantFrom(0n, max - 300n, family === 4 ? 0x0a0000f0n : (0xfd00n << 112n) + 0xfff0n);
  const range = fc.tuple(base, fc.bigInt(0n, 300n), fc.bigInt(0n, 40n)).map(([b, off, len]) => {
    const start = b + off > max ? max : b + off;
    const end = start + len > max ? max : start + len;
    return { start, end };
  });
  return fc.array(range, { maxLength: 8 });
}

const setArb = (family: Family) => rangesArb(family).map((r) => IPSet.of(family, r));

/** The members of a small set, for checking against a naive model. */
function members(set: IPSet): Set<bigint> {
  return new Set(set.values(100_000));
}

describe("IPSet properties", () => {
  it("canonical form is idempotent and survives printing and parsing", () => {
    fc.assert(
      fc.property(fc.constantFrom<Family>(4, 6).chain(setArb), (set) => {
        const text = set.toStrings();
        const again = parseIPList(text, set.family);
        expect(again.equals(set)).toBe(true);
        expect(again.toStrings()).toEqual(text);
        expect(IPSet.of(set.family, set.ranges).equals(set)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("ranges stay sorted, disjoint and non-touching", () => {
    fc.assert(
      fc.property(setArb(6), setArb(6), (a, b) => {
        for (const s of [a.union(b), a.difference(b), a.intersection(b)]) {
          for (let i = 1; i < s.ranges.length; i++) {
            expect((s.ranges[i - 1]?.end ?? 0n) + 1n < (s.ranges[i]?.start ?? 0n)).toBe(true);
          }
        }
      }),
    );
  });

  it("union and difference laws", () => {
    fc.assert(
      fc.property(setArb(6), setArb(6), setArb(6), (a, b, c) => {
        expect(a.union(b).equals(b.union(a))).toBe(true);
        expect(a.union(b).union(c).equals(a.union(b.union(c)))).toBe(true);
        expect(a.union(a).equals(a)).toBe(true);
        expect(a.difference(a).isEmpty).toBe(true);
        expect(a.difference(b).overlaps(b)).toBe(false);
        expect(a.difference(b).union(a.intersection(b)).equals(a)).toBe(true);
        expect(a.union(b).difference(b).equals(a.difference(b))).toBe(true);
        expect(a.difference(b.union(c)).equals(a.difference(b).difference(c))).toBe(true);
        expect(a.intersection(b).equals(b.intersection(a))).toBe(true);
        expect(a.overlaps(b)).toBe(!a.intersection(b).isEmpty);
        expect(a.union(b).size()).toBe(a.size() + b.size() - a.intersection(b).size());
        expect(a.union(b).containsSet(a)).toBe(true);
      }),
    );
  });

  it("agrees with a naive set of members", () => {
    fc.assert(
      fc.property(setArb(4), setArb(4), fc.bigInt(0x0a0000e0n, 0x0a000200n), (a, b, probe) => {
        const ma = members(a);
        const mb = members(b);
        expect(members(a.union(b))).toEqual(new Set([...ma, ...mb]));
        expect(members(a.difference(b))).toEqual(new Set([...ma].filter((x) => !mb.has(x))));
        expect(members(a.intersection(b))).toEqual(new Set([...ma].filter((x) => mb.has(x))));
        expect(a.contains(probe)).toBe(ma.has(probe));
        const next = [...ma].filter((x) => x >= probe).sort((x, y) => (x < y ? -1 : 1))[0];
        expect(a.nextAtOrAfter(probe)).toBe(next);
      }),
    );
  });
});
