import { describe, expect, it } from "@jest/globals";
import { parseCIDR } from "../../../../ipam/address/cidr.js";
import { applyPoolRequests } from "../../../../ipam/allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../../../../ipam/allocation/codec.js";
import { emptyAllocations } from "../../../../ipam/allocation/state.js";
import { opts, view } from "./fixtures.js";

const SUBNET = "10.186.0.0/16";

/** A record with `n` pending reservations (large enough to be memoized). */
function bigRecord(n: number, prefix = "r") {
  const v = view("big", { subnet: SUBNET, ips: ["10.186.0.0-10.186.255.255"] });
  const requests = Array.from({ length: n }, (_, i) => ({ kind: "allocate" as const, interface: "eth0", reservation: { id: `${prefix}-${i}`, owner: `ns/${prefix}-${i}`, expiresAt: 10_000 } }));
  const { state } = applyPoolRequests(v, emptyAllocations(), requests, opts());
  return { v, state, text: encodeAllocations(state, parseCIDR(SUBNET)) };
}

describe("memoized decoding of allocation records", () => {
  it("gives the same state for the same text, frozen, equal to a fresh decode of an equal text", () => {
    const { text } = bigRecord(200);
    const subnet = parseCIDR(SUBNET);
    const a = decodeAllocations(text, subnet);
    // An equal text that is another string object.
    const b = decodeAllocations(text.split("").join(""), subnet);
    expect(b).toBe(a);
    expect(Object.isFrozen(a.pending)).toBe(true);
    expect(() => (a.pending as unknown[]).push(1)).toThrow(TypeError);
    expect(a.pending).toHaveLength(200);
  });

  it("decodes a record of a few hundred characters once for all its readers", () => {
    // What a 1,000-address pool in a burst of Pods carries (about 900 characters in the
    // scenario bench): decoded thousands of times in a run when it was left to each reader.
    const { text } = bigRecord(6, "s");
    expect(text.length).toBeGreaterThan(100);
    expect(text.length).toBeLessThan(2048);
    const subnet = parseCIDR(SUBNET);
    expect(decodeAllocations(text.split("").join(""), subnet)).toBe(decodeAllocations(text, subnet));
  });

  it("does not give a state decoded in one subnet to another subnet", () => {
    const { text } = bigRecord(200);
    const a = decodeAllocations(text, parseCIDR(SUBNET));
    const other = decodeAllocations(text, parseCIDR("10.187.0.0/16"));
    expect(other).not.toBe(a);
    expect(other.pending[0]?.held[0]?.address).toBe(parseCIDR("10.187.0.0/16").network);
  });

  it("re-encodes a record after a change to exactly the text of an unmemoized encoding", () => {
    const { v, text } = bigRecord(300, "m");
    const subnet = parseCIDR(SUBNET);
    const decoded = decodeAllocations(text, subnet);
    const { state } = applyPoolRequests(v, decoded, [{ kind: "release-reservation", reservation: "m-7" }, { kind: "allocate", interface: "eth0", reservation: { id: "new", owner: "ns/new", expiresAt: 20_000 } }], opts());
    const next = encodeAllocations(state, subnet);
    // The same change applied to a state built without any memo (from scratch) encodes alike.
    const fresh = bigRecord(300, "m");
    const { state: freshState } = applyPoolRequests(fresh.v, fresh.state, [{ kind: "release-reservation", reservation: "m-7" }, { kind: "allocate", interface: "eth0", reservation: { id: "new", owner: "ns/new", expiresAt: 20_000 } }], opts());
    expect(next).toBe(encodeAllocations(freshState, subnet));
    expect(decodeAllocations(next, subnet).pending.map((p) => p.id)).toContain("new");
    expect(decodeAllocations(next, subnet).pending.map((p) => p.id)).not.toContain("m-7");
  });

  it("keeps the reservations a batch did not touch, so a write encodes only the ones it changed", () => {
    const { v, text } = bigRecord(300, "k");
    const subnet = parseCIDR(SUBNET);
    const decoded = decodeAllocations(text, subnet);
    const requests = [
      { kind: "bind" as const, reservation: "k-3" },
      { kind: "allocate" as const, interface: "eth0", reservation: { id: "k-5", owner: "ns/k-5", expiresAt: 30_000 } },
      { kind: "allocate" as const, interface: "eth0", reservation: { id: "fresh", owner: "ns/fresh", expiresAt: 20_000 } },
    ];
    const { state } = applyPoolRequests(v, decoded, requests, opts());
    const before = new Map(decoded.pending.map((r) => [r.id, r]));
    const kept = state.pending.filter((r) => before.get(r.id) === r).map((r) => r.id);
    // Bound (gone), extended (a new object), new: everything else is the decoded object itself.
    expect(state.pending.map((r) => r.id)).not.toContain("k-3");
    expect(state.pending.find((r) => r.id === "k-5")?.expiresAt).toBe(30_000);
    expect(decoded.pending.find((r) => r.id === "k-5")?.expiresAt).toBe(10_000);
    expect(kept).toHaveLength(298);
    expect(kept).not.toContain("k-5");
    expect(kept).not.toContain("fresh");
  });
});
