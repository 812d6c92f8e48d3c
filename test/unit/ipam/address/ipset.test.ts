import { describe, expect, it } from "@jest/globals";
import { parseCIDR } from "../../../../ipam/address/cidr.js";
import { parseIP } from "../../../../ipam/address/ip.js";
import { canonicalIPList, parseIPList } from "../../../../ipam/address/iplist.js";
import { IPSet } from "../../../../ipam/address/ipset.js";
import { parseRange } from "../../../../ipam/address/range.js";
import { codeOf } from "../throws.js";

const v4 = (list: string[]) => parseIPList(list, 4);
const v6 = (list: string[]) => parseIPList(list, 6);
const ip = (text: string) => parseIP(text).value;


describe("ranges and the list syntax", () => {
  it("parses single addresses and inclusive ranges", () => {
    expect(parseRange("10.6.0.5")).toEqual({ family: 4, start: ip("10.6.0.5"), end: ip("10.6.0.5") });
    expect(parseRange("fd00::a-fd00::1:0")).toEqual({ family: 6, start: ip("fd00::a"), end: ip("fd00::1:0") });
  });

  it.each([
    ["10.6.0.9-10.6.0.1", "RANGE_INVALID", /write 10\.6\.0\.1-10\.6\.0\.9/],
    ["10.6.0.1-fd00::1", "RANGE_INVALID", /same family/],
    ["10.6.0.1-10.6.0.2-10.6.0.3", "RANGE_INVALID", /more than one '-'/],
    ["10.6.0.1-", "RANGE_INVALID", /not a valid IP address/],
    ["10.6.0.0/24", "RANGE_INVALID", /not a valid IP address/],
  ])("refuses %j", (text, code, message) => {
    expect(codeOf(() => parseRange(text))).toBe(code);
    expect(() => parseRange(text)).toThrow(message);
  });

  it("names the list and the index of a bad entry", () => {
    expect(() => parseIPList(["10.6.0.1", "fd00::1"], undefined, "excludeIPs")).toThrow(/^excludeIPs\[1\]: 'fd00::1' is IPv6/);
    expect(codeOf(() => parseIPList(["10.6.0.1", "fd00::1"]))).toBe("FAMILY_MISMATCH");
    expect(codeOf(() => parseIPList([]))).toBe("RANGE_INVALID");
    expect(parseIPList([], 6).isEmpty).toBe(true);
  });

  it("prints the canonical form: merged, sorted, bare singles, a-b ranges, short IPv6", () => {
    expect(canonicalIPList(["10.6.0.20", "10.6.0.10-10.6.0.19", "10.6.0.1", "10.6.0.3-10.6.0.3"])).toEqual([
      "10.6.0.1",
      "10.6.0.3",
      "10.6.0.10-10.6.0.20",
    ]);
    expect(canonicalIPList(["FD00:0:0:0:0:0:0:2-fd00::00ff", "fd00::1"])).toEqual(["fd00::1-fd00::ff"]);
  });

  it("merges ranges touching across an IPv4 octet and an IPv6 word", () => {
    expect(v4(["10.0.0.250-10.0.0.255", "10.0.1.0-10.0.1.5"]).toStrings()).toEqual(["10.0.0.250-10.0.1.5"]);
    expect(v6(["::fff0-::ffff", "::1:0-::1:5"]).toStrings()).toEqual(["::fff0-::1:5"]);
  });
});

describe("IPSet algebra", () => {
  const a = v4(["10.0.0.1-10.0.0.10", "10.0.0.20-10.0.0.30"]);
  const b = v4(["10.0.0.5-10.0.0.25"]);

  it("union of overlapping, contained and touching ranges", () => {
    expect(a.union(b).toStrings()).toEqual(["10.0.0.1-10.0.0.30"]);
    expect(a.union(v4(["10.0.0.2-10.0.0.3"])).equals(a)).toBe(true);
    expect(a.union(v4(["10.0.0.11"])).toStrings()).toEqual(["10.0.0.1-10.0.0.11", "10.0.0.20-10.0.0.30"]);
    expect(a.union(v4(["10.0.0.11-10.0.0.19"])).toStrings()).toEqual(["10.0.0.1-10.0.0.30"]);
  });

  it("difference cuts holes and edges", () => {
    expect(a.difference(b).toStrings()).toEqual(["10.0.0.1-10.0.0.4", "10.0.0.26-10.0.0.30"]);
    expect(a.difference(v4(["10.0.0.1", "10.0.0.30"])).toStrings()).toEqual([
      "10.0.0.2-10.0.0.10",
      "10.0.0.20-10.0.0.29",
    ]);
    expect(a.difference(v4(["10.0.0.5"])).toStrings()).toEqual([
      "10.0.0.1-10.0.0.4",
      "10.0.0.6-10.0.0.10",
      "10.0.0.20-10.0.0.30",
    ]);
    expect(a.difference(v4(["10.0.0.0-10.0.0.255"])).isEmpty).toBe(true);
  });

  it("intersection, overlap and subset", () => {
    expect(a.intersection(b).toStrings()).toEqual(["10.0.0.5-10.0.0.10", "10.0.0.20-10.0.0.25"]);
    expect(a.overlaps(b)).toBe(true);
    expect(a.overlaps(v4(["10.0.0.11-10.0.0.19"]))).toBe(false);
    expect(a.containsSet(v4(["10.0.0.2", "10.0.0.21-10.0.0.22"]))).toBe(true);
    expect(a.containsSet(b)).toBe(false);
  });

  it("point queries by binary search", () => {
    expect(a.contains(ip("10.0.0.10"))).toBe(true);
    expect(a.contains(ip("10.0.0.11"))).toBe(false);
    expect(a.nextAtOrAfter(ip("10.0.0.11"))).toBe(ip("10.0.0.20"));
    expect(a.nextAtOrAfter(ip("10.0.0.31"))).toBeUndefined();
    expect(a.size()).toBe(21n);
    expect(a.first()).toBe(ip("10.0.0.1"));
    expect(a.last()).toBe(ip("10.0.0.30"));
  });

  it("handles /31, /32, /127, /128 and a /64 without enumerating it", () => {
    expect(IPSet.fromCIDR(parseCIDR("10.0.0.0/31")).size()).toBe(2n);
    expect(IPSet.fromCIDR(parseCIDR("10.0.0.7/32")).toStrings()).toEqual(["10.0.0.7"]);
    expect(IPSet.fromCIDR(parseCIDR("fd00::/127")).toStrings()).toEqual(["fd00::-fd00::1"]);
    expect(IPSet.fromCIDR(parseCIDR("fd00::1/128")).toStrings()).toEqual(["fd00::1"]);
    const big = IPSet.fromCIDR(parseCIDR("fd00::/64"));
    const holes = big.difference(v6(["fd00::1", "fd00::ffff:ffff:ffff:ffff"]));
    expect(holes.size()).toBe((1n << 64n) - 2n);
    expect([...holes.values(3)]).toEqual([ip("fd00::"), ip("fd00::2"), ip("fd00::3")]);
  });

  it("refuses to mix families", () => {
    expect(codeOf(() => a.union(v6(["fd00::1"])))).toBe("FAMILY_MISMATCH");
  });

  it("refuses ranges outside the family", () => {
    expect(codeOf(() => IPSet.of(4, [{ start: 0n, end: 1n << 32n }]))).toBe("RANGE_INVALID");
  });
});
