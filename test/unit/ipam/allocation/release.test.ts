import { describe, expect, it } from "@jest/globals";
import { formatIP } from "../../../../ipam/address/ip.js";
import { allocate, applyPoolRequests, release, releaseReservation } from "../../../../ipam/allocation/batch.js";
import {
  allocatedCount,
  bindReservation,
  emptyAllocations,
  expiredReservations,
  holders,
  pruneCooling,
} from "../../../../ipam/allocation/state.js";
import { poolUsage } from "../../../../ipam/allocation/usage.js";
import { ip, opts, view } from "./fixtures.js";

const v = view("p", { subnet: "10.6.0.0/24", ips: ["10.6.0.1-10.6.0.4"] });

function fill(n: number) {
  return applyPoolRequests(v, emptyAllocations(), Array.from({ length: n }, () => ({ kind: "allocate" as const })), opts())
    .state;
}

describe("release", () => {
  it("an address that is not held is a reported no-op", () => {
    const s = fill(2);
    const r = release(v, s, ip("10.6.0.3"), 3, opts());
    expect(r.outcome).toBe("not-held");
    expect(r.state).toEqual(s);
    expect(release(v, s, ip("10.9.9.9"), 1, opts()).outcome).toBe("not-held");
  });

  it("a wrong token never frees the address", () => {
    const s = fill(2);
    const r = release(v, s, ip("10.6.0.2"), 1, opts());
    expect(r.outcome).toBe("token-mismatch");
    expect(allocatedCount(r.state)).toBe(2);
  });

  it("a repeated release after re-allocation to someone else is a no-op", () => {
    const s = fill(1);
    const freed = release(v, s, ip("10.6.0.1"), 1, opts()).state;
    const again = allocate(v, freed, {}, opts());
    expect(again.allocation).toMatchObject({ address: ip("10.6.0.1"), token: 2 });
    const stale = release(v, again.state, ip("10.6.0.1"), 1, opts());
    expect(stale.outcome).toBe("token-mismatch");
    expect(allocatedCount(stale.state)).toBe(1);
  });

  it("splits a run in the middle and keeps tokens exact on both sides", () => {
    const s = fill(4);
    const r = release(v, s, ip("10.6.0.2"), 2, opts());
    expect(r.state.runs).toEqual([
      { start: ip("10.6.0.1"), count: 1, firstToken: 1 },
      { start: ip("10.6.0.3"), count: 2, firstToken: 3 },
    ]);
    expect(release(v, r.state, ip("10.6.0.4"), 4, opts()).outcome).toBe("released");
  });

  it("an address that left the pool's spec while held is not handed out again", () => {
    const s = fill(2);
    const shrunk = view("p", { subnet: "10.6.0.0/24", ips: ["10.6.0.1-10.6.0.4"], excludeIPs: ["10.6.0.2"] });
    const r = release(shrunk, s, ip("10.6.0.2"), 2, opts(1_000, 60_000));
    expect(r.state.cooling).toEqual([]);
    const next = applyPoolRequests(shrunk, r.state, [{ kind: "allocate" }, { kind: "allocate" }, { kind: "allocate" }], opts());
    const got = next.results.map((x) => (x.ok && x.kind === "allocate" ? formatIP(4, x.allocation.address) : x.ok ? "?" : x.error.code));
    expect(got).toEqual(["10.6.0.3", "10.6.0.4", "POOL_EXHAUSTED"]);
  });
});

describe("cool-down", () => {
  it("prefers any free address, then the cooling one whose cool-down ends first", () => {
    let s = fill(4);
    s = release(v, s, ip("10.6.0.3"), 3, opts(1_000, 10_000)).state;
    s = release(v, s, ip("10.6.0.1"), 1, opts(2_000, 10_000)).state;
    expect(s.cooling).toEqual([
      { address: ip("10.6.0.1"), until: 12_000 },
      { address: ip("10.6.0.3"), until: 11_000 },
    ]);
    const a = allocate(v, s, {}, opts(3_000));
    expect(a.allocation).toMatchObject({ address: ip("10.6.0.3"), fromCooling: true });
    const b = allocate(v, a.state, {}, opts(3_000));
    expect(b.allocation).toMatchObject({ address: ip("10.6.0.1"), fromCooling: true });
  });

  it("a free address wins over a lower cooling one", () => {
    let s = fill(2);
    s = release(v, s, ip("10.6.0.1"), 1, opts(1_000, 10_000)).state;
    const a = allocate(v, s, {}, opts(2_000));
    expect(a.allocation).toMatchObject({ address: ip("10.6.0.3"), fromCooling: false });
  });

  it("once the cool-down ends the address is simply the lowest free one again", () => {
    let s = fill(2);
    s = release(v, s, ip("10.6.0.1"), 1, opts(1_000, 10_000)).state;
    const a = allocate(v, s, {}, opts(11_000));
    expect(a.allocation).toMatchObject({ address: ip("10.6.0.1"), fromCooling: false });
    expect(pruneCooling(s, 10_999).cooling).toHaveLength(1);
    expect(pruneCooling(s, 11_000).cooling).toHaveLength(0);
  });
});

describe("reservations over time", () => {
  it("lists expired reservations and lets the caller release them", () => {
    const { state } = applyPoolRequests(
      v,
      emptyAllocations(),
      [
        { kind: "allocate", reservation: { id: "old", owner: "ns/a", expiresAt: 5_000 } },
        { kind: "allocate", reservation: { id: "new", expiresAt: 50_000 } },
      ],
      opts(),
    );
    expect(expiredReservations(state, 5_000).map((r) => r.id)).toEqual(["old"]);
    const r = releaseReservation(v, state, "old", opts(6_000));
    expect(r).toMatchObject({ found: true, released: [{ address: ip("10.6.0.1"), token: 1, interface: "eth0" }] });
    expect(r.state.pending.map((p) => p.id)).toEqual(["new"]);
    expect(releaseReservation(v, r.state, "old", opts()).found).toBe(false);
  });

  it("bindReservation returns what was held and lists holders without pending data", () => {
    const { state } = applyPoolRequests(v, emptyAllocations(), [{ kind: "allocate", reservation: { id: "r", owner: "ns/a", expiresAt: 9 } }, { kind: "allocate" }], opts());
    expect([...holders(state)]).toEqual([
      { address: ip("10.6.0.1"), token: 1, reservation: "r", owner: "ns/a", interface: "eth0" },
      { address: ip("10.6.0.2"), token: 2 },
    ]);
    const b = bindReservation(state, "r");
    expect(b.found).toBe(true);
    expect(b.held).toEqual([{ address: ip("10.6.0.1"), token: 1, interface: "eth0" }]);
    expect(b.state.pending).toEqual([]);
    expect(bindReservation(b.state, "r").found).toBe(false);
  });

  it("reports usage for status and gauges", () => {
    const w = view("p", { subnet: "10.6.0.0/24", ips: ["10.6.0.1-10.6.0.10"], gateway: "10.6.0.1" });
    const s = applyPoolRequests(w, emptyAllocations(), [{ kind: "allocate" }, { kind: "allocate" }], opts()).state;
    expect(poolUsage(w, s)).toEqual({ total: 10, allocated: 2, available: 7 });
  });
});
