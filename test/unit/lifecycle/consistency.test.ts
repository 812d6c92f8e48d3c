import { describe, expect, it } from "@jest/globals";
import { formatAssignedIPs, type AssignedIPs } from "../../../ipam/annotations/assigned.js";
import type { SpiderEndpoint } from "../../../ipam/kinds/endpoint.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { PodLike } from "../../../ipam/kinds/pod.js";
import { checkConsistency } from "../../../ipam/lifecycle/consistency.js";
import { endpointFor } from "../../../ipam/lifecycle/endpoints.js";
import { rebuildPool, untrustedRecord } from "../../../ipam/lifecycle/pool-rebuild.js";
import { FakeStore } from "../../fakes/store.js";
import { heldIn, pool, reservation, writerOver } from "./fixtures.js";

/** A pool with `n` addresses allocated and bound, each to a Pod with its endpoint. */
async function world(n: number) {
  const pools = new FakeStore<SpiderIPPool>();
  pools.seed(pool("p", { ips: ["10.6.0.10-10.6.0.60"] }));
  const w = writerOver(pools);
  const pods: PodLike[] = [];
  const endpoints: SpiderEndpoint[] = [];
  for (let i = 0; i < n; i++) {
    const got = await w.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation(`r${i}`, w.clock) });
    if (!got.ok || got.kind !== "allocate") throw new Error("allocation failed");
    const assigned: AssignedIPs = { reservation: `r${i}`, ips: [{ interface: "eth0", ipv4: `10.6.0.${10 + i}/24`, ipv4Pool: "p", ipv4Token: got.allocation.token }] };
    const pod: PodLike = { metadata: { name: `web-${i}`, namespace: "app", uid: `u${i}`, annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs(assigned) } }, spec: { nodeName: "n1" } };
    pods.push(pod);
    endpoints.push(endpointFor(pod, assigned));
    await w.writer.submit("p", { kind: "bind", reservation: `r${i}` });
  }
  const check = () => checkConsistency({ pools: pools.all(), endpoints, pods, now: w.clock.now() });
  return { pools, pods, endpoints, check, ...w };
}

describe("the consistency checker", () => {
  it("finds nothing wrong when every held address has its live owner", async () => {
    const t = await world(3);
    expect(t.check()).toMatchObject({ leaked: 0, missing: 0, duplicates: 0, expiredReservations: 0 });
  });

  it("reports an address whose owner is gone as leaked, and one a live owner lost as missing", async () => {
    const t = await world(3);
    t.pods.splice(0, 1); // web-0 deleted, its address not released
    const [ep1] = t.endpoints.splice(1, 1); // web-1's endpoint lost
    void ep1;
    await t.writer.submit("p", { kind: "release", address: 0x0a06000cn, token: 3 }); // web-2's address freed under it
    const r = t.check();
    expect(r.pools[0]).toMatchObject({ leaked: ["10.6.0.10"], missing: ["10.6.0.12/24 (app/web-2)"] });
    // web-1 still carries the address in its annotation: a live owner, not a leak.
    expect(r.leaked).toBe(1);
  });

  it("reports an address two live Pods claim as a duplicate", async () => {
    const t = await world(2);
    const copy = JSON.parse(JSON.stringify(t.pods[0])) as PodLike;
    copy.metadata.name = "copy";
    copy.metadata.uid = "u-copy";
    t.pods.push(copy);
    expect(t.check().pools[0]?.duplicates).toEqual(["10.6.0.10 (app/web-0, app/copy)"]);
  });

  it("reports expired reservations", async () => {
    const t = await world(0);
    await t.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("late", t.clock, "app/slow") });
    t.clock.advance(61_000);
    expect(t.check().pools[0]?.expiredReservations).toEqual(["late (app/slow)"]);
  });
});

describe("pool recovery", () => {
  it("rebuilds a wiped record from endpoints and annotations, with the recorded tokens", async () => {
    const t = await world(3);
    // web-3 is admitted but not bound yet: its reservation is pending, only its annotation records it.
    const got = await t.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r3", t.clock, "app/web-3") });
    if (!got.ok || got.kind !== "allocate") throw new Error("allocation failed");
    const assigned: AssignedIPs = { reservation: "r3", ips: [{ interface: "eth0", ipv4: "10.6.0.13/24", ipv4Pool: "p", ipv4Token: got.allocation.token }] };
    t.pods.push({ metadata: { name: "web-3", namespace: "app", uid: "u3", annotations: { "ipam.spidernet.io/assigned-ips": formatAssignedIPs(assigned) } } });
    const before = t.check();
    const live = t.pools.peek("p") as SpiderIPPool;
    const wiped: SpiderIPPool = { ...live, status: {} };
    const claimsIn = (name: string) => name === "p";
    expect(untrustedRecord(live, claimsIn)).toBeUndefined();
    expect(untrustedRecord(wiped, claimsIn)).toContain("empty");
    expect(untrustedRecord({ ...live, status: { allocations: "v1;zz" } }, claimsIn)).toContain("cannot be read");
    expect(untrustedRecord(wiped, () => false)).toBeUndefined();
    const rebuilt = rebuildPool(wiped, { endpoints: t.endpoints, pods: t.pods, now: t.clock.now(), ttlMs: 60_000 });
    t.pools.seed(rebuilt);
    expect(heldIn(t.pools, "p")).toEqual(["10.6.0.10", "10.6.0.11", "10.6.0.12", "10.6.0.13"]);
    expect(t.check()).toMatchObject({ leaked: 0, missing: 0, duplicates: 0 });
    expect(before).toMatchObject({ leaked: 0, missing: 0, duplicates: 0 });
    // The pending reservation is pending again: its binding still works, and new allocations get new tokens and addresses.
    expect(await t.writer.submit("p", { kind: "bind", reservation: "r3" })).toMatchObject({ ok: true, found: true });
    const next = await t.writer.submit("p", { kind: "allocate", interface: "eth0", reservation: reservation("r4", t.clock) });
    expect(next).toMatchObject({ ok: true, allocation: { address: 0x0a06000en, token: 5 } });
  });
});
