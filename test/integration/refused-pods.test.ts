import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { allocatedCount } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { refusal, testKubeConfig } from "../harness/kube.js";

/**
 * Issue 13: a Pod refused after the mutating webhook (here by ResourceQuota, which runs
 * after the webhooks) held its reservation for the reservation's whole lifetime, so a
 * generateName loop in a namespace allowed 0 Pods drained a shared pool. Its addresses now
 * come back within seconds, decided by a live read.
 */
describe("reservations of Pods that were never created", () => {
  let kc: KubeConfig;
  let tc: TestController;

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    // The lifetime stays long (a minute): what brings the addresses back is the live read.
    tc = await startTestController(kc, "refused", { SPIDERPOOL_RESERVATION_TTL_MS: "60000", SPIDERPOOL_REFUSED_POD_GRACE_MS: "1000" });
    await createPool(kc, tc.labels, "refused-pool", { subnet: "10.134.0.0/24", ips: ["10.134.0.10-10.134.0.17"] });
    await tc.controller.settled();
  });
  afterAll(() => tc.stop());

  const held = async (): Promise<number> => {
    const p = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get("refused-pool")) as SpiderIPPool;
    return allocatedCount(decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet)));
  };

  it("a generateName loop in a namespace with a Pod quota of 0 drains nothing", async () => {
    const ns = await tc.createPodNamespace("quota0");
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedResourceQuota({ namespace: ns, body: { metadata: { name: "no-pods" }, spec: { hard: { pods: "0" } } } });
    // The quota controller is not running in this tier: the quota's status is set by hand, as it would.
    await core.replaceNamespacedResourceQuotaStatus({ name: "no-pods", namespace: ns, body: { metadata: { name: "no-pods" }, spec: { hard: { pods: "0" } }, status: { hard: { pods: "0" }, used: { pods: "0" } } } });
    const reasons: string[] = [];
    // Three times the pool's size, paced so a short grace can keep up; each one refused by the quota.
    for (let i = 0; i < 24; i++) {
      const status = await refusal(createPod(kc, ns, podSpec({ generateName: "drain-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["refused-pool"]}' })));
      reasons.push(status.message ?? "");
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(reasons.filter((m) => !m.includes("exceeded quota"))).toEqual([]);
    await waitFor("every refused Pod's reservation released", async () => (await held()) === 0, 15_000);
  });

  it("never releases a reservation whose Pod exists", async () => {
    const ns = await tc.createPodNamespace("kept");
    const pod = await createPod(kc, ns, podSpec("kept", { "ipam.spidernet.io/ippool": '{"ipv4":["refused-pool"]}' }));
    expect(pod.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]).toBeDefined();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await held()).toBe(1);
  });
});
