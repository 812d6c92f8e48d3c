import { describe, expect, it } from "@jest/globals";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import { PoolReconciler } from "../../../webhook/reconcile/pool-status.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore } from "../../fakes/store.js";

const subnet = (controlled: NonNullable<SpiderSubnet["status"]>["controlledIPPools"] = {}): SpiderSubnet => ({
  metadata: { name: "s" },
  spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.99"] },
  status: { controlledIPPools: controlled },
});

const autoPool = (ips: string[]): SpiderIPPool => ({ metadata: { name: "auto4-a-eth0-12345" }, spec: { subnet: "10.6.0.0/24", ips } });

function reconcilerOver(s: SpiderSubnet, pools: SpiderIPPool[] = []) {
  const subnets = new FakeStore<SpiderSubnet>();
  const poolStore = new FakeStore<SpiderIPPool>();
  subnets.seed(s);
  for (const p of pools) poolStore.seed(p);
  const clock = new FakeClock();
  const deps = { pools: poolStore.cache(), subnets: subnets.cache(), poolApi: poolStore, subnetApi: subnets, log: new RecordingLog(), clock };
  const r = new PoolReconciler(deps);
  return { r, subnets, poolStore, clock };
}

describe("subnet status: what its pools hold and what is set aside", () => {
  it("keeps an automatic pool's carve-out while it is young and drops it after the grace, by the clock it is given", async () => {
    const clock0 = new FakeClock();
    const { r, subnets, clock } = reconcilerOver(subnet({ "auto4-a-eth0-12345": { ips: ["10.6.0.10-10.6.0.14"], reservedAt: new Date(clock0.now() - 60_000).toISOString() } }));
    await r.reconcileSubnet("s");
    expect(subnets.peek("s")?.status).toMatchObject({ allocatedIPCount: 5, controlledIPPools: { "auto4-a-eth0-12345": { ips: ["10.6.0.10-10.6.0.14"] } } });
    clock.advance(10 * 60_000);
    await r.reconcileSubnet("s");
    expect(subnets.peek("s")?.status).toMatchObject({ allocatedIPCount: 0, controlledIPPools: {} });
  });

  it("keeps addresses set aside for a pool's growth until the pool holds them, then lists the pool as it is", async () => {
    const clock0 = new FakeClock();
    const reservedAt = new Date(clock0.now()).toISOString();
    const grown = { ips: ["10.6.0.10-10.6.0.14"], application: "Deployment/ns/a", reservedAt };
    const { r, subnets, poolStore } = reconcilerOver(subnet({ "auto4-a-eth0-12345": grown }), [autoPool(["10.6.0.10-10.6.0.11"])]);
    await r.reconcileSubnet("s");
    // The pool's write has not landed yet: the five set aside stay counted.
    expect(subnets.peek("s")?.status?.allocatedIPCount).toBe(5);
    const p = poolStore.peek("auto4-a-eth0-12345") as SpiderIPPool;
    await poolStore.replace({ ...p, spec: { ...p.spec, ips: ["10.6.0.10-10.6.0.14"] } });
    await r.reconcileSubnet("s");
    expect(subnets.peek("s")?.status?.controlledIPPools?.["auto4-a-eth0-12345"]?.reservedAt).toBeUndefined();
    // Shrunk later, the pool gives its addresses back at once.
    const q = poolStore.peek("auto4-a-eth0-12345") as SpiderIPPool;
    await poolStore.replace({ ...q, spec: { ...q.spec, ips: ["10.6.0.10"] } });
    await r.reconcileSubnet("s");
    expect(subnets.peek("s")?.status?.allocatedIPCount).toBe(1);
  });
});
