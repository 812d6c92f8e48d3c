import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CustomObjectsApi, HttpMethod, PatchStrategy, setHeaderOptions, type KubeConfig, type RequestContext } from "@kubernetes/client-node";
import { parseAddressInCIDR, parseCIDR } from "../../ipam/address/cidr.js";
import { parseIPList } from "../../ipam/address/iplist.js";
import { IPSet } from "../../ipam/address/ipset.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { GROUP, VERSION } from "../../ipam/kinds/meta.js";
import { CustomResources } from "../../k8s/resources.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { HoldingKubeConfig } from "../harness/held-request.js";
import { refusal, testKubeConfig } from "../harness/kube.js";

const POOL = "scale-500";
const CONFLICTS = "spiderpool_ipam_allocation_update_ippool_conflict_counts_total";

/** The PoolWriter's compare-and-swap of the pool's allocation record (the reconciler's count-only writes carry none). */
function allocationWrite(r: RequestContext): boolean {
  const body = r.getBody();
  return r.getHttpMethod() === HttpMethod.PUT && r.getUrl().includes(`/spiderippools/${POOL}/status`) && typeof body === "string" && body.includes('"allocations"');
}

/**
 * 500 Pods created at once through two webhook replicas (behind a round-robin balancer, as
 * behind a Service) from one pool of exactly 500 addresses: uniqueness rests on the pool's
 * compare-and-swap alone. The replicas' first allocation write is held until the pool has
 * been written from outside, so at least one compare-and-swap certainly loses and must be
 * counted and retried.
 */
describe("Pod admission at scale, two replicas", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let replicasKc: HoldingKubeConfig;
  const pools = (): CustomResources<SpiderIPPool> => new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    // The replicas' clients come from this KubeConfig (the chart's controller identity is put in it).
    replicasKc = new HoldingKubeConfig();
    // HTTP/1.1: over HTTP/2 (which the apiserver speaks to this balancer's loopback URL) one
    // apiserver sends up to 250 admissions at once down one connection, to one replica, and
    // whether a second connection (to the other replica) opens depends on the timing. Two
    // replicas allocating at once is what this test is about (and what a control plane of
    // several apiservers, a failover or a rolling update brings with HTTP/2 too).
    tc = await startTestController(kc, "scale", { SPIDERPOOL_WEBHOOK_HTTP2: "false" }, undefined, 2, { controllerKubeConfig: replicasKc });
    await createPool(kc, tc.labels, POOL, { subnet: "10.80.0.0/23", ips: ["10.80.0.1-10.80.1.244"] });
    // The leader's reconciler writes a new pool's counts once; after that, the pool's
    // status is written by allocations only.
    await waitFor("the pool's counts", async () => (await pools().get(POOL))?.status?.totalIPCount === 500);
  });
  afterAll(() => tc.stop());

  /** A write from outside: a label change moves the pool's resourceVersion on. */
  async function touchPool(): Promise<void> {
    await kc
      .makeApiClient(CustomObjectsApi)
      .patchClusterCustomObject({ group: GROUP, version: VERSION, plural: IPPOOL_PLURAL, name: POOL, body: { metadata: { labels: { "spiderpool.test/touched": "yes" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  }

  /** A counter's value summed over the replicas, read by its exported name. */
  async function counterTotal(name: string): Promise<number> {
    let total = 0;
    for (const r of tc.replicas) {
      const metric = r.metrics.registry.getSingleMetric(name);
      if (!metric) throw new Error(`a replica has no metric ${name}`);
      for (const v of (await metric.get()).values) total += v.value;
    }
    return total;
  }

  it("admits 500 concurrent pods with 500 distinct addresses and refuses the 501st", async () => {
    const ns = await tc.createPodNamespace("scale");
    const annotations = { "ipam.spidernet.io/ippool": '{"ipv4":["scale-500"]}' };
    const outsideWrite = replicasKc.holdNext(allocationWrite, touchPool);
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 500 }, () => createPod(kc, ns, podSpec({ generateName: "scale-" }, annotations))));
    const seconds = (Date.now() - started) / 1000;
    // The held write went out after the outside one, with a stale resourceVersion.
    await outsideWrite;
    expect((await pools().get(POOL))?.metadata.labels?.["spiderpool.test/touched"]).toBe("yes");
    const failed = results.filter((r) => r.status === "rejected");
    expect(failed.map((f) => String((f).reason).slice(0, 200))).toEqual([]);
    const pods = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof createPod>>>).value);
    const addresses = pods.map((p) => assignedOf(p).ips[0]?.ipv4 ?? "");
    expect(new Set(addresses).size).toBe(500);
    const pool = parseIPList(["10.80.0.1-10.80.1.244"], 4);
    const given = IPSet.of(4, addresses.map((a) => {
      const v = parseAddressInCIDR(a).address.value;
      return { start: v, end: v };
    }));
    expect(given.equals(pool)).toBe(true);

    const stored = (await pools().get(POOL)) as SpiderIPPool;
    expect(stored.status?.allocatedIPCount).toBe(500);
    const record = decodeAllocations(stored.status?.allocations, parseCIDR(stored.spec.subnet));
    const recorded = IPSet.of(4, record.runs.map((r) => ({ start: r.start, end: r.start + BigInt(r.count - 1) })));
    expect(recorded.equals(pool)).toBe(true);
    // Each address is held under the token its pod was told.
    const tokens = new Map(pods.map((p) => [assignedOf(p).ips[0]?.ipv4Token, true]));
    expect(tokens.size).toBe(500);

    const status = await refusal(createPod(kc, ns, podSpec({ generateName: "scale-" }, annotations)));
    expect(status.message).toMatch(/cannot get an address: no IPv4 address for eth0: pool scale-500 has 0 of 500 addresses free \(500 allocated\)/);

    // Both replicas answered; they collided on the pool (once for certain, the held write)
    // and counted it, and recovered: every Pod above got its own address.
    const counts = await Promise.all(tc.replicas.map(async (r) => (await r.metrics.allocations.get()).values[0]?.value ?? 0));
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(500);
    const conflicts = await counterTotal(CONFLICTS);
    expect(conflicts).toBeGreaterThanOrEqual(1);
    // Group commit: concurrent admissions for the pool shared writes.
    const batches = await Promise.all(tc.replicas.map(async (r) => (await r.metrics.poolWrites.get()).values));
    const sum = batches.flat().filter((v) => v.metricName?.endsWith("_sum")).reduce((a, v) => a + v.value, 0);
    const writes = batches.flat().filter((v) => v.metricName?.endsWith("_count")).reduce((a, v) => a + v.value, 0);
    expect(sum / writes).toBeGreaterThan(1.5);
    console.log(`500 pods admitted in ${seconds.toFixed(1)} s (${(500 / seconds).toFixed(0)} pods/s); per replica ${counts.join("/")}; CAS conflicts ${conflicts}; ${writes} pool writes carried ${sum} requests`);
  });
});
