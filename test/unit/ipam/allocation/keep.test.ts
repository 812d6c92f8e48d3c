import { describe, expect, it } from "@jest/globals";
import { applyPoolRequests, release } from "../../../../ipam/allocation/batch.js";
import type { PoolResponse } from "../../../../ipam/allocation/requests.js";
import { emptyAllocations, holders, tokenAt, type PoolAllocations } from "../../../../ipam/allocation/state.js";
import { ip, opts, view } from "./fixtures.js";

const v = view("p", { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.19"] });
const res = (id: string, owner = "ns/web-1") => ({ id, owner, expiresAt: 60_000 });

function apply(state: PoolAllocations, ...reqs: Parameters<typeof applyPoolRequests>[2]): { state: PoolAllocations; results: PoolResponse[] } {
  return applyPoolRequests(v, state, reqs, opts(1_000, 30_000));
}

const allocation = (r: PoolResponse | undefined) => (r?.ok && r.kind === "allocate" ? r.allocation : undefined);

/** A pool where web-1 holds 10.6.0.12 (bound, under a token), two others below it. */
function heldByWeb1() {
  let { state } = apply(emptyAllocations(), { kind: "allocate", reservation: res("a", "ns/a") }, { kind: "allocate", reservation: res("b", "ns/b") }, { kind: "allocate", reservation: res("old") });
  const old = [...holders(state)].find((h) => h.reservation === "old");
  state = apply(state, { kind: "bind", reservation: "a" }, { kind: "bind", reservation: "b" }, { kind: "bind", reservation: "old" }).state;
  return { state, address: old?.address ?? 0n, token: old?.token ?? 0 };
}

describe("allocation that keeps an address held before (a re-created StatefulSet Pod)", () => {
  it("hands the same address out again under a fresh token, so a late release of the old token is a no-op", () => {
    const { state, address, token } = heldByWeb1();
    expect(address).toBe(ip("10.6.0.12"));
    const r = apply(state, { kind: "allocate", reservation: res("new"), keep: { address, token } });
    const a = allocation(r.results[0]);
    expect(a).toMatchObject({ address, reused: false });
    expect(a?.token).not.toBe(token);
    expect(tokenAt(r.state.runs, address)).toBe(a?.token);
    const late = release(v, r.state, address, token, opts());
    expect(late.outcome).toBe("token-mismatch");
  });

  it("takes the address again when it was released meanwhile (free or cooling)", () => {
    const { state, address, token } = heldByWeb1();
    const freed = release(v, state, address, token, opts(1_000, 30_000)).state;
    const a = allocation(apply(freed, { kind: "allocate", reservation: res("new"), keep: { address, token } }).results[0]);
    expect(a).toMatchObject({ address, fromCooling: true });
  });

  it("falls back to the lowest free address when the old one went to someone else", () => {
    const { state, address, token } = heldByWeb1();
    const freed = release(v, state, address, token, opts()).state;
    const taken = apply(freed, { kind: "allocate", reservation: res("other", "ns/other"), address: { family: 4, value: address } }).state;
    const a = allocation(apply(taken, { kind: "allocate", reservation: res("new"), keep: { address, token } }).results[0]);
    expect(a?.address).toBe(ip("10.6.0.13"));
  });

  it("does not take an address pending for another reservation, nor one the pool no longer has", () => {
    const { state, address, token } = heldByWeb1();
    const pending = apply(release(v, state, address, token, opts()).state, { kind: "allocate", reservation: res("other", "ns/other"), address: { family: 4, value: address } }).state;
    const otherToken = tokenAt(pending.runs, address) ?? 0;
    expect(allocation(apply(pending, { kind: "allocate", reservation: res("new"), keep: { address, token: otherToken } }).results[0])?.address).not.toBe(address);
    const outside = allocation(apply(state, { kind: "allocate", reservation: res("new"), keep: { address: ip("10.6.0.99"), token: 1 } }).results[0]);
    expect(outside?.address).toBe(ip("10.6.0.13"));
  });
});
