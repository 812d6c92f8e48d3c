import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseCIDR } from "../../../../ipam/address/cidr.js";
import { applyPoolRequests, release } from "../../../../ipam/allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../../../../ipam/allocation/codec.js";
import { emptyAllocations, holders } from "../../../../ipam/allocation/state.js";
import { isIpamError } from "../../../../ipam/errors.js";
import { ip, opts, view } from "./fixtures.js";

const subnet = parseCIDR("10.6.0.0/16");
const v = view("p", { subnet: "10.6.0.0/16", ips: ["10.6.0.1-10.6.2.254"] });

describe("status.allocations codec", () => {
  it("an empty pool is 'v1;1;;;' and an absent record decodes to empty", () => {
    expect(encodeAllocations(emptyAllocations(), subnet)).toBe("v1;1;;;");
    expect(decodeAllocations(undefined, subnet)).toEqual(emptyAllocations());
    expect(decodeAllocations("", subnet)).toEqual(emptyAllocations());
  });

  it("a pool filled lowest-first is a single run", () => {
    const reqs = Array.from({ length: 650 }, () => ({ kind: "allocate" as const }));
    const s = applyPoolRequests(v, emptyAllocations(), reqs, opts()).state;
    expect(encodeAllocations(s, subnet)).toBe("v1;i3;1.i2;;");
  });

  it("writes gaps, counts, token deltas, pending reservations and cool-downs", () => {
    const s0 = applyPoolRequests(
      v,
      emptyAllocations(),
      [
        { kind: "allocate" },
        { kind: "allocate" },
        { kind: "allocate" },
        { kind: "allocate", reservation: { id: "r/1", owner: "ns/web,0", expiresAt: 36 }, interface: "net1" },
      ],
      opts(),
    ).state;
    const s = release(v, s0, ip("10.6.0.2"), 2, opts(1_000, 295)).state;
    const text = encodeAllocations(s, subnet);
    expect(text).toBe("v1;5;1,1.2~1;r%2F1|ns%2Fweb%2C0|10|4@net1;2:zz");
    expect(decodeAllocations(text, subnet)).toEqual(s);
  });

  it("is family-agnostic: IPv6 offsets from the network address", () => {
    const s6 = parseCIDR("fd00::/64");
    const w = view("v6", { subnet: "fd00::/64", ips: ["fd00::ffff:ffff:ffff:fff0-fd00::ffff:ffff:ffff:ffff"] });
    const s = applyPoolRequests(w, emptyAllocations(), [{ kind: "allocate" }, { kind: "allocate" }], opts()).state;
    const text = encodeAllocations(s, s6);
    expect(text).toBe(`v1;3;${((1n << 64n) - 16n).toString(36)}.2;;`);
    expect(decodeAllocations(text, s6)).toEqual(s);
  });

  it.each([
    ["v2;1;;;", /unknown format 'v2'/],
    ["v1;1;;", /expected 5 ';'-separated sections, found 4/],
    ["v1;0;;;", /bad next token/],
    ["v1;2;,;;", /run 0 '' is malformed/],
    ["v1;2;0.1;;", /run 0 '0.1' is malformed/],
    ["v1;3;0,0;;", /run 1 '0' is malformed/],
    ["v1;2;0~0;;", /malformed/],
    ["v1;2;0.2;;", /tokens 1..2, outside 1..1/],
    ["v1;3;0,~-1;;", /token 1 is used twice/],
    ["v1;2;1ekf.2;;", /reaches past the end of the subnet/],
    ["v1;2;0;x|||0@eth0;", /bad expiry/],
    ["v1;2;0;x||1|1@eth0;", /holds 10.6.0.1, which no run holds/],
    ["v1;2;0;x||1|0@eth0,x||1|0@eth1;", /reservation x appears twice|is in two reservations/],
    ["v1;2;0;||1|0@eth0;", /id '' is not a non-empty URI-encoded string/],
    ["v1;2;0;x||1|;", /reservation x holds nothing/],
    ["v1;2;0;;0", /both held and cooling down/],
    ["v1;2;0;;1,0", /cooling entry 1 '0' is malformed/],
    ["v1;2;0;;1:-1", /cooling entry 0 has a bad time/],
    ["v1;2;0;;1:0", /cooling entry 0 '1:0' is malformed/],
    ["v1;2;0;;1:-0", /cooling entry 0 '1:-0' is malformed/],
    ["v1;2;0;;,1", /cooling entry 0 '' is malformed/],
    ["v1;2;00;;", /malformed/],
    ["v1;2;0;;1ekg", /lies outside the subnet/],
  ])("refuses %j as ALLOCATION_CORRUPT", (text, message) => {
    let error: unknown;
    try {
      decodeAllocations(text, subnet);
    } catch (err) {
      error = err;
    }
    expect(isIpamError(error, "ALLOCATION_CORRUPT")).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe("status.allocations round trip", () => {
  it("holds for records anywhere in an IPv6 /64", () => {
    const s6 = parseCIDR("fd00:9::/64");
    const w = view("v6", { subnet: "fd00:9::/64", ips: ["fd00:9::-fd00:9::ffff:ffff:ffff:ffff"] });
    const offsets = fc.uniqueArray(fc.bigInt(0n, (1n << 64n) - 1n), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(offsets, fc.integer({ min: 0, max: 19 }), (offs, cut) => {
        const reqs = offs.map((o, i) => ({
          kind: "allocate" as const,
          address: { family: 6 as const, value: s6.network + o },
          ...(i % 3 === 0 && { reservation: { id: `r${i}`, owner: `ns/p${i}`, expiresAt: 99 + i } }),
        }));
        let s = applyPoolRequests(w, emptyAllocations(), reqs, opts()).state;
        const h = [...holders(s)][cut % offs.length];
        if (h !== undefined) s = release(w, s, h.address, h.token, opts(1_000, 500)).state;
        const text = encodeAllocations(s, s6);
        expect(decodeAllocations(text, s6)).toEqual(s);
        expect(encodeAllocations(decodeAllocations(text, s6), s6)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });
});
