import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { formatIP } from "../../ipam/address/ip.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { holders } from "../../ipam/allocation/state.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";

const POOL = "stock-v4";
const ANNOTATIONS = { "ipam.spidernet.io/ippool": `{"ipv4":["${POOL}"]}` };

/**
 * Reservations made ahead (ipam/lifecycle/stock.ts) on the real apiserver, with the
 * controller's defaults: unnamed Pods after the first take a stocked reservation (an `s`
 * id) and are bound as any other; a named Pod allocates as before; a stock nobody asks for
 * is given back, leaving the pool holding exactly its Pods' addresses.
 */
describe("the reservation stock", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let pools: CustomResources<SpiderIPPool>;
  let endpoints: CustomResources<SpiderEndpoint>;
  /** The pool's held addresses: "address" when bound, "address=reservation" while pending. */
  const record = async (): Promise<string[]> => {
    const p = (await pools.get(POOL)) as SpiderIPPool;
    const subnet = parseCIDR(p.spec.subnet);
    return [...holders(decodeAllocations(p.status?.allocations, subnet))].map((h) => `${formatIP(4, h.address)}${h.reservation ? `=${h.reservation}` : ""}`);
  };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "stock");
    pools = new CustomResources(kc, IPPOOL_PLURAL);
    endpoints = new CustomResources(kc, ENDPOINT_PLURAL, true);
    await createPool(kc, tc.labels, POOL, { subnet: "10.216.3.0/24", ips: ["10.216.3.1-10.216.3.100"] });
  });
  afterAll(() => tc.stop());

  it("serves unnamed Pods from the stock, binds them, allocates for a named Pod, and gives the unused stock back", async () => {
    const ns = await tc.createPodNamespace("stock");
    const first = assignedOf(await createPod(kc, ns, podSpec({ generateName: "web-" }, ANNOTATIONS)));
    // The first admission found the stock empty and allocated; a refill followed it.
    expect(first.reservation).toMatch(/^r/);
    await waitFor("reservations in stock", async () => (await record()).filter((h) => h.includes("=s")).length >= 8);
    const pods: V1Pod[] = [];
    for (let i = 0; i < 5; i++) pods.push(await createPod(kc, ns, podSpec({ generateName: "web-" }, ANNOTATIONS)));
    const stocked = pods.map(assignedOf);
    for (const a of stocked) expect(a.reservation).toMatch(/^s/);
    const addresses = stocked.map((a) => a.ips[0]?.ipv4);
    expect(new Set([first.ips[0]?.ipv4, ...addresses]).size).toBe(6);
    // Each is bound like any other: its SpiderEndpoint records the address, the record no longer holds it pending.
    for (const [i, pod] of pods.entries()) {
      const ep = await waitFor(`endpoint of ${pod.metadata?.name}`, async () => (await endpoints.get(pod.metadata?.name ?? "", ns))?.status?.current);
      expect(ep.ips[0]?.ipv4).toBe(addresses[i]);
    }
    const named = assignedOf(await createPod(kc, ns, podSpec("named", ANNOTATIONS)));
    expect(named.reservation).toMatch(/^r/);
    // No unnamed Pod for 10 s: the stock goes back; the pool holds exactly the seven Pods' addresses, all bound.
    const bare = (a: string | undefined): string => (a ?? "").replace("/24", "");
    const podsHeld = [first, ...stocked, named].map((a) => bare(a.ips[0]?.ipv4)).sort();
    await waitFor("the stock given back and every Pod bound", async () => JSON.stringify((await record()).sort()) === JSON.stringify(podsHeld), 30_000, 500);
    // Other test files share the apiserver (some make duplicates on purpose): this pool's findings only.
    const report = await tc.controller.consistency();
    expect(report.pools.find((p) => p.pool === POOL)).toMatchObject({ leaked: [], missing: [], duplicates: [], expiredReservations: [] });
    expect(await tc.controller.metrics.registry.getSingleMetricAsString("spiderpool_ipam_reservation_stock_counts_total")).toMatch(/event="taken"} 5/);
  }, 60_000);
});
