import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { parseAddressInCIDR, parseCIDR } from "../../ipam/address/cidr.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { tokenAt } from "../../ipam/allocation/state.js";
import { parseIPList } from "../../ipam/address/iplist.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { kubectl, refusal, testKubeConfig } from "../harness/kube.js";
import { apis, createKwokNodes, deleteNodes, deploymentBody, failedCreates, poolSize, poolsOfApp, runningWithAddresses, subnetHanded } from "../harness/workloads.js";

const SUBNET = "ipam.spidernet.io/subnet";
const IP_NUMBER = "ipam.spidernet.io/ippool-ip-number";
const RECLAIM = "ipam.spidernet.io/ippool-reclaim";
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/**
 * A Deployment's automatic pool follows the Deployment, with real controllers: the webhook
 * sizes it when the Deployment (or its scale) is admitted, before the Pods arrive; a
 * scale-down gives back free addresses once its Pods are gone; deletion returns everything to
 * the subnet, unless ippool-reclaim is "false".
 */
describe("a Deployment's automatic pool", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let a: ReturnType<typeof apis>;
  const nodes = ["apppools-kwok-1", "apppools-kwok-2"];
  const subnetName = "apppools-subnet";
  const onlyPool = async (uid: string | undefined): Promise<SpiderIPPool | undefined> => (await poolsOfApp(kc, uid ?? ""))[0];
  const addressOf = (p: V1Pod): string => assignedOf(p).ips[0]?.ipv4 ?? "";
  /** The subnet's status once the controller has caught up with its pools. */
  const settledHanded = () =>
    waitFor("subnet status to settle", async () => {
      const pools = (await a.pools.list()).items.filter((p) => p.metadata.labels?.["ipam.spidernet.io/owner-spider-subnet"] === subnetName);
      const handed = await subnetHanded(kc, subnetName);
      const sum = pools.reduce((n, p) => n + poolSize(p), 0);
      // A terminating pool (a test's cleanup) still counts until its finalizer gives its addresses back.
      return handed === sum && pools.every((p) => !p.metadata.deletionTimestamp) ? { handed } : undefined;
    });

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "apppools", { SPIDERPOOL_RESERVATION_TTL_MS: "4000", SPIDERPOOL_AUTO_POOL_RESYNC_MS: "5000" });
    a = apis(kc);
    await createKwokNodes(kc, nodes);
    await a.subnets.create({
      apiVersion: API_VERSION,
      kind: "SpiderSubnet",
      metadata: { name: subnetName, labels: tc.labels },
      spec: { subnet: "10.110.0.0/24", ips: ["10.110.0.10-10.110.0.250"], gateway: "10.110.0.1" },
    });
  });
  afterAll(async () => {
    await deleteNodes(kc, nodes);
    await tc.stop();
  });

  it("is 12 for 10 replicas with +2, 22 at 20 with every Pod admitted first time, 5 at 3 with no running Pod losing its address, rolls within its spares and goes with the Deployment", async () => {
    const ns = await tc.createPodNamespace("deploy");
    const { handed: before } = await settledHanded();
    const d = await a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody("web", 10, { [SUBNET]: `{"ipv4":["${subnetName}"]}`, [IP_NUMBER]: "+2" }, { maxSurge: 2 }) });
    // Sized when the Deployment was admitted, before any Pod exists.
    expect(poolSize(await onlyPool(d.metadata?.uid))).toBe(12);
    await waitFor("10 running pods", async () => (await runningWithAddresses(kc, ns, "app=web")).length === 10, 120000);

    await a.apps.patchNamespacedDeploymentScale({ name: "web", namespace: ns, body: { spec: { replicas: 20 } } }, merge);
    expect(poolSize(await onlyPool(d.metadata?.uid))).toBe(22);
    await waitFor("20 running pods", async () => (await runningWithAddresses(kc, ns, "app=web")).length === 20, 120000);
    expect(await failedCreates(kc, ns)).toEqual([]);
    // The subnet's status shows which pool holds which addresses, for which application; kubectl its columns.
    const poolName = (await onlyPool(d.metadata?.uid))?.metadata.name ?? "";
    const line = await waitFor("the subnet's status listing the pool at 22", async () => {
      const entry = (await a.subnets.get(subnetName))?.status?.controlledIPPools?.[poolName];
      return entry && Number(parseIPList(entry.ips, 4).size()) === 22 ? entry : undefined;
    });
    expect(line.application).toBe(`Deployment/${ns}/web`);
    const table = await kubectl(["get", "ss", subnetName]);
    expect(table.split("\n")[0]?.split(/\s+/).filter(Boolean)).toEqual(["NAME", "VERSION", "SUBNET", "ALLOCATED-IP-COUNT", "TOTAL-IP-COUNT", "AGE"]);

    await a.apps.patchNamespacedDeploymentScale({ name: "web", namespace: ns, body: { spec: { replicas: 3 } } }, merge);
    const kept = await waitFor("3 pods left", async () => {
      const all = (await a.core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" })).items;
      return all.length === 3 ? all : undefined;
    }, 120000);
    const pool = await waitFor("the pool shrunk to 5", async () => {
      const p = await onlyPool(d.metadata?.uid);
      return poolSize(p) === 5 ? p : undefined;
    }, 60000);
    // Every Pod still running holds its address in the pool, under the token it was given.
    const ips = parseIPList(pool.spec.ips ?? [], 4);
    const runs = decodeAllocations(pool.status?.allocations, parseCIDR(pool.spec.subnet)).runs;
    for (const p of kept) {
      const address = parseAddressInCIDR(addressOf(p)).address.value;
      expect(ips.contains(address)).toBe(true);
      expect(tokenAt(runs, address)).toBe(assignedOf(p).ips[0]?.ipv4Token);
    }

    // A rolling update with maxSurge 2: two more Pods at a time, inside the two spares.
    await a.apps.patchNamespacedDeployment({ name: "web", namespace: ns, body: { spec: { template: { spec: { containers: [{ name: "c", image: "example.invalid/app:2" }] } } } } }, merge);
    await waitFor("the rollout to complete", async () => {
      const dep = await a.apps.readNamespacedDeployment({ name: "web", namespace: ns });
      const s = dep.status;
      return (s?.observedGeneration ?? 0) >= (dep.metadata?.generation ?? 1) && s?.updatedReplicas === 3 && s.replicas === 3 && s.availableReplicas === 3;
    }, 120000);
    expect(poolSize(await onlyPool(d.metadata?.uid))).toBe(5);
    // A Pod that is terminating still holds its address (its containers may still run), and
    // the ReplicaSet controller does not count it: a replacement created in that moment is
    // refused because the pool is full, and created again by the controller once the address
    // is released. Nothing else may have been refused.
    expect((await failedCreates(kc, ns)).filter((m) => !/has 0 of 5 addresses free/.test(m))).toEqual([]);

    await a.apps.deleteNamespacedDeployment({ name: "web", namespace: ns, propagationPolicy: "Background" });
    await waitFor("the pool gone", async () => (await poolsOfApp(kc, d.metadata?.uid ?? "")).length === 0, 120000);
    await waitFor("the subnet's addresses free again", async () => (await subnetHanded(kc, subnetName)) === before, 60000);
  });

  it('with ippool-reclaim "false", gives the re-created Deployment the same pool and the same addresses', async () => {
    const ns = await tc.createPodNamespace("keep");
    const annotations = { [SUBNET]: `{"ipv4":["${subnetName}"]}`, [IP_NUMBER]: "+1", [RECLAIM]: "false" };
    const first = await a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody("cache", 2, annotations) });
    await waitFor("2 running pods", async () => (await runningWithAddresses(kc, ns, "app=cache")).length === 2, 120000);
    const pool = (await onlyPool(first.metadata?.uid)) as SpiderIPPool;
    await a.apps.deleteNamespacedDeployment({ name: "cache", namespace: ns, propagationPolicy: "Background" });
    await waitFor("its pods gone", async () => (await a.core.listNamespacedPod({ namespace: ns })).items.length === 0, 120000);
    // Longer than a resync: a pool kept for the next application is not reclaimed.
    await sleep(6000);
    expect((await a.pools.get(pool.metadata.name ?? ""))?.metadata.deletionTimestamp).toBeUndefined();

    const second = await a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody("cache", 2, annotations) });
    const pods = await waitFor("2 running pods again", async () => {
      const r = await runningWithAddresses(kc, ns, "app=cache");
      return r.length === 2 ? r : undefined;
    }, 120000);
    const taken = (await onlyPool(second.metadata?.uid)) as SpiderIPPool;
    expect(taken.metadata.name).toBe(pool.metadata.name);
    expect(taken.spec.ips).toEqual(pool.spec.ips);
    for (const p of pods) expect(assignedOf(p).ips[0]?.ipv4Pool).toBe(pool.metadata.name);
    // Kept pools outlive their applications: clean up by hand.
    await a.apps.deleteNamespacedDeployment({ name: "cache", namespace: ns, propagationPolicy: "Background" });
    await waitFor("its pods gone", async () => (await a.core.listNamespacedPod({ namespace: ns })).items.length === 0, 120000);
    await a.pools.delete(pool.metadata.name ?? "", undefined, {});
    // Gone, finalizer and all, before the next test reads the subnet's status as settled.
    await waitFor("the kept pool gone", async () => (await a.pools.get(pool.metadata.name ?? "")) === undefined, 60000);
  });

  it("refuses an oversized ippool-ip-number, naming the cap, and leaves the subnet unchanged", async () => {
    const ns = await tc.createPodNamespace("huge");
    const { handed: before } = await settledHanded();
    const status = await refusal(a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody("huge", 1, { [SUBNET]: `{"ipv4":["${subnetName}"]}`, [IP_NUMBER]: "999999999" }) }));
    expect(status.message).toContain("999999999");
    expect(status.message).toContain("--auto-pool-max-ips");
    expect(await subnetHanded(kc, subnetName)).toBe(before);
  });

  it("leaves the subnet unchanged once the reservation lifetime ends when the namespace's pod quota is 0", async () => {
    const ns = await tc.createPodNamespace("quota");
    await a.core.createNamespacedResourceQuota({ namespace: ns, body: { metadata: { name: "no-pods" }, spec: { hard: { pods: "0" } } } });
    const { handed: before } = await settledHanded();
    const d = await a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody("blocked", 2, { [SUBNET]: `{"ipv4":["${subnetName}"]}`, [IP_NUMBER]: "+1" }) });
    await waitFor("a FailedCreate for the quota", async () => (await failedCreates(kc, ns)).some((m) => m.includes("quota")), 60000);
    await waitFor("the subnet back where it was", async () => (await subnetHanded(kc, subnetName)) === before && poolSize(await onlyPool(d.metadata?.uid)) === 0, 90000);
  });
});
