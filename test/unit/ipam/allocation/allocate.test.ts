import { describe, expect, it } from "@jest/globals";
import { formatIP, parseIP } from "../../../../ipam/address/ip.js";
import { allocate, applyPoolRequests, release } from "../../../../ipam/allocation/batch.js";
import { type PoolAllocations, allocatedCount, emptyAllocations } from "../../../../ipam/allocation/state.js";
import type { PoolView } from "../../../../ipam/allocation/pool-view.js";
import { IpamError, isIpamError } from "../../../../ipam/errors.js";
import { deepFreeze, ip, opts, view } from "./fixtures.js";

/** Allocates until the pool refuses; returns the addresses in order and the refusal. */
function drain(v: PoolView, limit = 100): { got: string[]; error: IpamError | undefined; state: PoolAllocations } {
  let state = emptyAllocations();
  const got: string[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      const r = allocate(v, state, {}, opts());
      state = r.state;
      got.push(formatIP(v.family, r.allocation.address));
    } catch (err) {
      if (isIpamError(err)) return { got, error: err, state };
      throw err;
    }
  }
  return { got, error: undefined, state };
}

describe("allocation on the boundaries", () => {
  it.each([
    ["/31", { subnet: "10.6.0.4/31", ips: ["10.6.0.4-10.6.0.5"] }, ["10.6.0.4", "10.6.0.5"]],
    ["/32", { subnet: "10.6.0.9/32", ips: ["10.6.0.9"] }, ["10.6.0.9"]],
    ["/127", { subnet: "fd00::/127", ips: ["fd00::-fd00::1"] }, ["fd00::", "fd00::1"]],
    ["/128", { subnet: "fd00::7/128", ips: ["fd00::7"] }, ["fd00::7"]],
    ["IPv4 octet carry", { subnet: "10.0.0.0/16", ips: ["10.0.0.254-10.0.1.1"] }, ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]],
    ["IPv6 word carry", { subnet: "fd00::/64", ips: ["fd00::fffe-fd00::1:1"] }, ["fd00::fffe", "fd00::ffff", "fd00::1:0", "fd00::1:1"]],
    ["top of the IPv4 space", { subnet: "255.255.255.254/31", ips: ["255.255.255.254-255.255.255.255"] }, ["255.255.255.254", "255.255.255.255"]],
  ])("%s: hands out every address lowest-first, then POOL_EXHAUSTED", (_name, spec, expected) => {
    const { got, error, state } = drain(view("p", spec));
    expect(got).toEqual(expected);
    expect(error?.code).toBe("POOL_EXHAUSTED");
    expect(state.runs).toHaveLength(1);
  });

  it("skips the gateway, excludeIPs and reserved addresses", () => {
    const v = view(
      "v4-a",
      { subnet: "10.6.0.0/29", ips: ["10.6.0.1-10.6.0.6"], excludeIPs: ["10.6.0.3"], gateway: "10.6.0.1" },
      ["10.6.0.5"],
    );
    const { got, error } = drain(v);
    expect(got).toEqual(["10.6.0.2", "10.6.0.4", "10.6.0.6"]);
    expect(error?.message).toBe("pool v4-a has 0 of 5 addresses free (3 allocated, 2 reserved or gateway)");
    expect(error?.details).toMatchObject({ pool: "v4-a", total: 5, allocated: 3 });
  });

  it("exclusions covering the whole pool leave nothing to allocate", () => {
    const v = view("gone", { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.20"], excludeIPs: ["10.6.0.0-10.6.0.255"] });
    const { got, error } = drain(v);
    expect(got).toEqual([]);
    expect(error?.message).toBe("pool gone has 0 of 0 addresses free (0 allocated)");
  });

  it("never mutates its input", () => {
    const v = view("p", { subnet: "10.6.0.0/24", ips: ["10.6.0.1-10.6.0.3"] });
    const s0 = deepFreeze(emptyAllocations());
    const a = allocate(v, s0, { reservation: { id: "r1", owner: "ns/a", expiresAt: 5_000 } }, opts());
    deepFreeze(a.state);
    const b = release(v, a.state, a.allocation.address, a.allocation.token, opts(2_000, 10_000));
    deepFreeze(b.state);
    applyPoolRequests(v, b.state, [{ kind: "allocate" }, { kind: "bind", reservation: "r1" }], opts());
    expect(s0).toEqual(emptyAllocations());
    expect(allocatedCount(a.state)).toBe(1);
    expect(a.state.pending).toHaveLength(1);
  });

  it("allocates from an IPv6 /64 without enumerating it and keeps one run", () => {
    const v = view("v6", { subnet: "fd00:1::/64", ips: ["fd00:1::-fd00:1::ffff:ffff:ffff:ffff"], gateway: "fd00:1::1" });
    const { results, state } = applyPoolRequests(v, emptyAllocations(), Array.from({ length: 1000 }, () => ({ kind: "allocate" as const })), opts());
    const first = results[0];
    expect(first?.ok && first.kind === "allocate" && formatIP(6, first.allocation.address)).toBe("fd00:1::");
    const last = results[999];
    expect(last?.ok && last.kind === "allocate" && formatIP(6, last.allocation.address)).toBe("fd00:1::3e8");
    expect(state.runs).toEqual([
      { start: ip("fd00:1::"), count: 1, firstToken: 1 },
      { start: ip("fd00:1::2"), count: 999, firstToken: 2 },
    ]);
  });
});

describe("reservations and idempotency", () => {
  const v = view("p", { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.20"] });
  const res = { id: "r1", owner: "ns/web-0", expiresAt: 60_000 };

  it("a repeated request for the same reservation and interface gets the same address", () => {
    const a = allocate(v, emptyAllocations(), { reservation: res }, opts());
    const b = allocate(v, a.state, { reservation: res }, opts());
    expect(b.allocation).toMatchObject({ address: a.allocation.address, token: a.allocation.token, reused: true });
    expect(allocatedCount(b.state)).toBe(1);
  });

  it("a new reservation id for the same owner gets back what the owner holds", () => {
    const a = allocate(v, emptyAllocations(), { reservation: res }, opts());
    const b = allocate(v, a.state, { reservation: { ...res, id: "r2" } }, opts());
    expect(b.allocation).toMatchObject({ address: a.allocation.address, reservation: "r1", reused: true });
  });

  it("a second interface of the same reservation gets its own address", () => {
    const a = allocate(v, emptyAllocations(), { reservation: res, interface: "eth0" }, opts());
    const b = allocate(v, a.state, { reservation: res, interface: "net1" }, opts());
    expect(b.allocation.address).toBe(ip("10.6.0.11"));
    expect(b.state.pending).toEqual([
      {
        id: "r1",
        owner: "ns/web-0",
        expiresAt: 60_000,
        held: [
          { address: ip("10.6.0.10"), token: 1, interface: "eth0" },
          { address: ip("10.6.0.11"), token: 2, interface: "net1" },
        ],
      },
    ]);
  });

  it("refuses a reservation id reused by another owner", () => {
    const a = allocate(v, emptyAllocations(), { reservation: res }, opts());
    expect(() => allocate(v, a.state, { reservation: { ...res, owner: "ns/other" } }, opts())).toThrow(
      /reservation r1 in pool p belongs to ns\/web-0, not ns\/other/,
    );
  });

  it("binding keeps the address and drops the pending entry; a batch reports each request", () => {
    const { state, results } = applyPoolRequests(
      v,
      emptyAllocations(),
      [
        { kind: "allocate", reservation: res },
        { kind: "bind", reservation: "r1" },
        { kind: "bind", reservation: "nope" },
        { kind: "allocate", address: parseIP("10.6.0.10") },
      ],
      opts(),
    );
    expect(state.pending).toEqual([]);
    expect(allocatedCount(state)).toBe(1);
    expect(results[1]).toMatchObject({ ok: true, kind: "bind", found: true });
    expect(results[2]).toMatchObject({ ok: true, kind: "bind", found: false });
    expect(results[3]).toMatchObject({ ok: false, kind: "allocate" });
    const failed = results[3];
    expect(failed?.ok === false && failed.error.code).toBe("IP_IN_USE");
  });

  it("releasing a reservation frees what it holds and nothing else", () => {
    const { state } = applyPoolRequests(
      v,
      emptyAllocations(),
      [
        { kind: "allocate", reservation: res },
        { kind: "allocate", reservation: { id: "r2", expiresAt: 1 } },
        { kind: "release-reservation", reservation: "r2" },
        { kind: "release-reservation", reservation: "r2" },
      ],
      opts(),
    );
    expect(state.pending.map((p) => p.id)).toEqual(["r1"]);
    expect(allocatedCount(state)).toBe(1);
  });
});

describe("pinned addresses", () => {
  const v = view(
    "p",
    { subnet: "10.6.0.0/24", ips: ["10.6.0.1-10.6.0.20"], excludeIPs: ["10.6.0.5"], gateway: "10.6.0.1" },
    ["10.6.0.6"],
  );
  const held = allocate(v, emptyAllocations(), { reservation: { id: "r1", owner: "ns/a", expiresAt: 9 } }, opts()).state;

  it.each([
    ["10.6.0.30", "IP_NOT_IN_POOL", "10.6.0.30 is not in pool p (subnet 10.6.0.0/24, ips 10.6.0.1-10.6.0.20)"],
    ["10.7.0.1", "IP_NOT_IN_POOL", "10.7.0.1 is not in pool p (subnet 10.6.0.0/24, ips 10.6.0.1-10.6.0.20)"],
    ["10.6.0.5", "IP_EXCLUDED", "10.6.0.5 is in the excludeIPs of pool p"],
    ["10.6.0.1", "IP_RESERVED", "10.6.0.1 is the gateway of pool p"],
    ["10.6.0.6", "IP_RESERVED", "10.6.0.6 is reserved by a SpiderReservedIP"],
    ["10.6.0.2", "IP_IN_USE", "10.6.0.2 in pool p is in use: reserved by ns/a (reservation r1)"],
    ["fd00::1", "FAMILY_MISMATCH", "IPv6 address fd00::1 cannot come from IPv4 pool p"],
  ])("%s is refused with %s", (address, code, message) => {
    let error: unknown;
    try {
      allocate(v, held, { address: parseIP(address) }, opts());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IpamError);
    expect((error as IpamError).code).toBe(code);
    expect((error as IpamError).message).toBe(message);
  });

  it("names the token when the holder is already bound", () => {
    const bound = applyPoolRequests(v, held, [{ kind: "bind", reservation: "r1" }], opts()).state;
    expect(() => allocate(v, bound, { address: parseIP("10.6.0.2") }, opts())).toThrow(/held under token 1/);
  });

  it("takes a free pinned address and a cooling one", () => {
    const a = allocate(v, held, { address: parseIP("10.6.0.20") }, opts());
    expect(a.allocation).toMatchObject({ address: ip("10.6.0.20"), fromCooling: false });
    const r = release(v, a.state, ip("10.6.0.20"), a.allocation.token, opts(1_000, 60_000));
    const again = allocate(v, r.state, { address: parseIP("10.6.0.20") }, opts(2_000));
    expect(again.allocation).toMatchObject({ address: ip("10.6.0.20"), fromCooling: true });
    expect(again.state.cooling).toEqual([]);
  });
});

describe("caller mistakes", () => {
  const v = view("p", { subnet: "10.6.0.0/24", ips: ["10.6.0.1-10.6.0.3"] });
  it("refuses a fractional clock and an empty reservation id before touching anything", () => {
    expect(() => allocate(v, emptyAllocations(), {}, { now: 1.5, coolDownMs: 0 })).toThrow(/now must be a whole number/);
    expect(() => allocate(v, emptyAllocations(), { reservation: { id: "", expiresAt: 1 } }, opts())).toThrow(TypeError);
  });

  it("an empty owner or interface means none / the first NIC", () => {
    const a = allocate(v, emptyAllocations(), { interface: "", reservation: { id: "r", owner: "", expiresAt: 1 } }, opts());
    expect(a.state.pending).toEqual([{ id: "r", expiresAt: 1, held: [{ address: ip("10.6.0.1"), token: 1, interface: "eth0" }] }]);
  });
});
