import { describe, expect, it } from "@jest/globals";
import { IPSet } from "../../../ipam/address/ipset.js";
import { applyPoolRequests } from "../../../ipam/allocation/batch.js";
import { decodeAllocations, encodeAllocations } from "../../../ipam/allocation/codec.js";
import { buildPoolView } from "../../../ipam/allocation/pool-view.js";
import { AUTO_POOL_BOUND_AT, autoPoolLabels } from "../../../ipam/kinds/auto-pool.js";
import { defaultIPPool, validateIPPool } from "../../../ipam/kinds/ippool-admission.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import { parseCIDR } from "../../../ipam/address/cidr.js";
import { AutoPoolCarver, poolIPs, type AutoPoolTarget } from "../../../ipam/lifecycle/auto-pool-carver.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore } from "../../fakes/store.js";

const app = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web", uid: "aaaa-11111" };

const subnet = (name: string, cidr: string, ips: string[], extra: Partial<SpiderSubnet["spec"]> = {}): SpiderSubnet => ({
  metadata: { name, uid: `uid-${name}` },
  spec: { subnet: cidr, ips, ...extra },
});

function carverOver(...subnets: SpiderSubnet[]) {
  const pools = new FakeStore<SpiderIPPool>();
  const subnetStore = new FakeStore<SpiderSubnet>();
  for (const s of subnets) subnetStore.seed(s);
  const clock = new FakeClock();
  const log = new RecordingLog();
  const carver = new AutoPoolCarver({ pools, subnets: subnetStore, poolCache: pools.cache(), reserved: (f) => IPSet.empty(f), clock, log });
  return { carver, pools, subnetStore, clock, log };
}

const target = (over: Partial<AutoPoolTarget> = {}): AutoPoolTarget => ({
  app,
  selector: { matchLabels: { app: "web" } },
  interface: "eth0",
  family: 4,
  subnets: ["s1"],
  size: 3,
  reclaim: true,
  dryRun: false,
  ...over,
});

/** Holds `addresses` of a stored pool as a bound Pod would. */
async function hold(pools: FakeStore<SpiderIPPool>, name: string, addresses: bigint[], coolingToo: bigint[] = []): Promise<void> {
  const p = pools.peek(name) as SpiderIPPool;
  const view = buildPoolView(p);
  let state = decodeAllocations(p.status?.allocations, view.subnet);
  state = applyPoolRequests(view, state, addresses.map((a) => ({ kind: "allocate" as const, address: { family: 4 as const, value: a } })), { now: 0, coolDownMs: 0 }).state;
  const withCooling = { ...state, cooling: coolingToo.map((address) => ({ address, until: 4_000_000_000_000 })) };
  await pools.replaceStatus({ ...p, status: { allocations: encodeAllocations(withCooling, view.subnet) } });
}

const v4 = (s: string): bigint => BigInt(s.split(".").reduce((n, o) => n * 256 + Number(o), 0));

describe("AutoPoolCarver", () => {
  // Found by the admission fuzzing: the refusal named the subnet but not the annotation that names it.
  it("carves for ten applications at once without losing a compare-and-swap to itself", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.59"]));
    const apps = Array.from({ length: 10 }, (_, i) => ({ ...app, name: `web-${i}`, uid: `aaaa-1000${i}` }));
    const pools = await Promise.all(apps.map((a) => t.carver.ensure(target({ app: a, selector: { matchLabels: { app: a.name } }, size: 5 }))));
    // No retry: each carve read the subnet its predecessor on this replica wrote.
    expect(t.clock.slept).toEqual([]);
    // Ten pools of five, no address in two of them.
    const union = pools.reduce((u, p) => u.union(poolIPs(p, 4)), IPSet.empty(4));
    expect(pools.map((p) => Number(poolIPs(p, 4).size()))).toEqual(Array(10).fill(5));
    expect(Number(union.size())).toBe(50);
    expect(Object.keys(t.subnetStore.peek("s1")?.status?.controlledIPPools ?? {})).toHaveLength(10);
  });

  it("refuses a subnet that does not exist naming the annotation", async () => {
    const t = carverOver();
    await expect(t.carver.ensure(target({ subnets: ["10.92.0.1"] }))).rejects.toMatchObject({ code: "SUBNET_NOT_FOUND", message: expect.stringContaining("named in the ipam.spidernet.io/subnet/ipam.spidernet.io/subnets annotation") });
  });

  it("creates the application's pool bound to it, setting its addresses aside in the subnet by the clock it is given", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.1-10.6.0.50"], { gateway: "10.6.0.1", routes: [{ dst: "172.20.0.0/16", gw: "10.6.0.1" }] }));
    const pool = await t.carver.ensure(target());
    expect(pool.metadata).toMatchObject({
      name: "auto4-web-eth0-11111",
      labels: { "ipam.spidernet.io/owner-application-uid": app.uid, "ipam.spidernet.io/owner-application-namespace": "shop", "ipam.spidernet.io/ippool-reclaim": "true" },
      annotations: { "ipam.spidernet.io/application": "apps/v1:Deployment:shop:web", [AUTO_POOL_BOUND_AT]: new Date(t.clock.now()).toISOString() },
      ownerReferences: [{ kind: "SpiderSubnet", name: "s1", uid: "uid-s1" }],
    });
    // The gateway is never carved into a pool.
    expect(pool.spec).toMatchObject({ ips: ["10.6.0.2-10.6.0.4"], namespaceName: ["shop"], podAffinity: { matchLabels: { app: "web" } }, gateway: "10.6.0.1", routes: [{ dst: "172.20.0.0/16", gw: "10.6.0.1" }] });
    expect(t.subnetStore.peek("s1")?.status?.controlledIPPools?.["auto4-web-eth0-11111"]).toEqual({ ips: ["10.6.0.2-10.6.0.4"], application: "Deployment/shop/web", reservedAt: new Date(t.clock.now()).toISOString() });
  });

  it("makes pools the pool webhook accepts, empty ones included", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"], { gateway: "10.6.0.1" }));
    const pool = await t.carver.ensure(target({ size: 4 }));
    const ctx = { pools: t.pools.all(), subnets: t.subnetStore.all(), held: () => IPSet.empty(4) };
    expect(validateIPPool(defaultIPPool(pool, ctx, true), undefined, ctx)).toEqual([]);
    await t.carver.shrink(pool.metadata.name ?? "", 0);
    const empty = t.pools.peek(pool.metadata.name ?? "") as SpiderIPPool;
    expect(empty.spec.ips).toEqual([]);
    expect(validateIPPool(empty, pool, { ...ctx, pools: t.pools.all() })).toEqual([]);
  });

  it("follows a change of ippool-reclaim on the application", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    await t.carver.ensure(target());
    const kept = await t.carver.ensure(target({ reclaim: false }));
    expect(kept.metadata.labels?.["ipam.spidernet.io/ippool-reclaim"]).toBe("false");
    expect(kept.spec.ips).toEqual(["10.6.0.10-10.6.0.12"]);
  });

  it("answers from the cache without a read or a write when the pool is large enough, and grows it when not", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    await t.carver.ensure(target({ size: 5 }));
    const writes = t.pools.writes.length;
    const reads = t.pools.reads.length;
    await t.carver.ensure(target({ size: 4 }));
    expect([t.pools.writes.length, t.pools.reads.length]).toEqual([writes, reads]);
    const grown = await t.carver.ensure(target({ size: 8 }));
    expect(grown.spec.ips).toEqual(["10.6.0.10-10.6.0.17"]);
  });

  it("passes over a pool with the application's name that belongs to another application", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    const other = { ...app, name: "other", uid: "bbbb-22222" };
    t.pools.seed({ metadata: { name: "auto4-web-eth0-11111", labels: autoPoolLabels(other, { interface: "eth0", subnet: "s1", cidr: parseCIDR("10.6.0.0/24"), reclaim: true }) }, spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.40"] } });
    const pool = await t.carver.ensure(target());
    expect(pool.metadata.name).toBe("auto4-web-eth0-aaaa-11111");
    expect(pool.metadata.labels?.["ipam.spidernet.io/owner-application-uid"]).toBe(app.uid);
    expect(t.pools.peek("auto4-web-eth0-11111")?.spec.ips).toEqual(["10.6.0.40"]);
  });

  it("takes over the pool an earlier application of its kind, namespace and name kept (ippool-reclaim false), but not one it gave up", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    const earlier = { ...app, uid: "cccc-33333" };
    const kept = t.pools.seed({ metadata: { name: "auto4-web-eth0-33333", labels: autoPoolLabels(earlier, { interface: "eth0", subnet: "s1", cidr: parseCIDR("10.6.0.0/24"), reclaim: false }) }, spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.20-10.6.0.22"] } });
    const pool = await t.carver.ensure(target({ size: 3, reclaim: true }));
    expect(pool.metadata.name).toBe(kept.metadata.name);
    expect(pool.spec.ips).toEqual(["10.6.0.20-10.6.0.22"]);
    expect(pool.metadata.labels).toMatchObject({ "ipam.spidernet.io/owner-application-uid": app.uid, "ipam.spidernet.io/ippool-reclaim": "true" });
    expect(t.log.lines.some((l) => l.message.includes("taken over"))).toBe(true);
    // A pool of a later application (reclaim true) is not anyone else's to take.
    const third = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    third.pools.seed({ metadata: { name: "auto4-web-eth0-33333", labels: autoPoolLabels(earlier, { interface: "eth0", subnet: "s1", cidr: parseCIDR("10.6.0.0/24"), reclaim: true }) }, spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.20-10.6.0.22"] } });
    expect((await third.carver.ensure(target())).metadata.name).toBe("auto4-web-eth0-11111");
  });

  it("treats a kept pool that another replica has just taken over as its own, though the cache still shows the earlier owner", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    const earlier = { ...app, uid: "cccc-33333" };
    const kept = t.pools.seed({ metadata: { name: "auto4-web-eth0-33333", labels: autoPoolLabels(earlier, { interface: "eth0", subnet: "s1", cidr: parseCIDR("10.6.0.0/24"), reclaim: false }) }, spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.20-10.6.0.22"] } });
    const stale = new AutoPoolCarver({ pools: t.pools, subnets: t.subnetStore, poolCache: { get: () => kept, list: () => [kept] }, reserved: (f) => IPSet.empty(f), clock: t.clock, log: t.log });
    await t.pools.replace({ ...kept, metadata: { ...kept.metadata, labels: autoPoolLabels(app, { interface: "eth0", subnet: "s1", cidr: parseCIDR("10.6.0.0/24"), reclaim: false }) } });
    const writes = t.pools.writes.length;
    expect((await stale.ensure(target({ reclaim: false }))).metadata.name).toBe("auto4-web-eth0-33333");
    expect(t.pools.writes.length).toBe(writes);
  });

  it("refuses to move an application's pool to another subnet", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]), subnet("s2", "10.7.0.0/24", ["10.7.0.10-10.7.0.50"]));
    await t.carver.ensure(target());
    await expect(t.carver.ensure(target({ subnets: ["s2"], size: 9 }))).rejects.toThrow(/already has pool auto4-web-eth0-11111 in subnet s1 .* changing an application's subnet is refused/);
    // Naming both, the pool stays where it is.
    expect((await t.carver.ensure(target({ subnets: ["s2", "s1"], size: 4 }))).spec.subnet).toBe("10.6.0.0/24");
  });

  it("tries the next subnet when one is too small, and names each when all are", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.11"]), subnet("s2", "10.7.0.0/24", ["10.7.0.10-10.7.0.50"]));
    expect((await t.carver.ensure(target({ subnets: ["s1", "s2"] }))).spec.subnet).toBe("10.7.0.0/24");
    const u = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.11"]));
    await expect(u.carver.ensure(target({ size: 5 }))).rejects.toMatchObject({ code: "POOL_EXHAUSTED", message: expect.stringContaining("SpiderSubnet s1 has 2 free addresses, 3 short") });
    expect(u.pools.all()).toEqual([]);
    expect(u.subnetStore.peek("s1")?.status).toBeUndefined();
  });

  it("writes nothing on a dry run", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    const pool = await t.carver.ensure(target({ dryRun: true }));
    expect(pool.spec.ips).toEqual(["10.6.0.10-10.6.0.12"]);
    expect(t.pools.writes).toEqual([]);
    expect(t.subnetStore.writes).toEqual([]);
  });

  it("carves again after losing the subnet's compare-and-swap to another application", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    let raced = false;
    t.subnetStore.beforeWrite = (op) => {
      if (op !== "replaceStatus" || raced) return;
      raced = true;
      const s = t.subnetStore.peek("s1") as SpiderSubnet;
      // Another application set aside the lowest three first.
      t.subnetStore.seed({ ...s, status: { controlledIPPools: { "auto4-other-eth0-99999": { ips: ["10.6.0.10-10.6.0.12"] } } } });
    };
    const pool = await t.carver.ensure(target());
    expect(pool.spec.ips).toEqual(["10.6.0.13-10.6.0.15"]);
  });

  it("shrinks by giving back free addresses, highest first and cooling ones last, never a held one", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    await t.carver.ensure(target({ size: 8 }));
    const name = "auto4-web-eth0-11111";
    await hold(t.pools, name, [v4("10.6.0.11"), v4("10.6.0.17")], [v4("10.6.0.16")]);
    expect(await t.carver.shrink(name, 5)).toBe(3);
    expect(t.pools.peek(name)?.spec.ips).toEqual(["10.6.0.10-10.6.0.12", "10.6.0.16-10.6.0.17"]);
    expect(await t.carver.shrink(name, 0)).toBe(3);
    expect(t.pools.peek(name)?.spec.ips).toEqual(["10.6.0.11", "10.6.0.17"]);
    expect(await t.carver.shrink(name, 0)).toBe(0);
  });

  it("shrinks again from a fresh read when a Pod's allocation wrote the pool first", async () => {
    const t = carverOver(subnet("s1", "10.6.0.0/24", ["10.6.0.10-10.6.0.50"]));
    await t.carver.ensure(target({ size: 4 }));
    const name = "auto4-web-eth0-11111";
    let raced = false;
    t.pools.beforeWrite = (op) => {
      if (op !== "replace" || raced) return;
      raced = true;
      void hold(t.pools, name, [v4("10.6.0.13")]);
    };
    await t.carver.shrink(name, 1);
    expect(t.pools.peek(name)?.spec.ips).toEqual(["10.6.0.13"]);
    expect(decodeAllocations(t.pools.peek(name)?.status?.allocations, parseCIDR("10.6.0.0/24")).runs).toHaveLength(1);
  });
});
