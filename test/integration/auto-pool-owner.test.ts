import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig, type V1Deployment } from "@kubernetes/client-node";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import type { SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { refusal, replaceFresh, testKubeConfig } from "../harness/kube.js";
import { apis, deploymentBody, ownedPod, ownerOf, poolsOfApp, replicaSetFor, subnetHanded, uid5 } from "../harness/workloads.js";

const SUBNET = "ipam.spidernet.io/subnet";
const IP_NUMBER = "ipam.spidernet.io/ippool-ip-number";

/**
 * An automatic pool belongs to its application: its owner's uid, its namespace, the usual
 * filters, and a size within --auto-pool-max-ips. Pods are made here as their controllers
 * would make them (this tier has no kube-controller-manager).
 */
describe("automatic pools belong to their application", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let a: ReturnType<typeof apis>;
  const annotations = { [SUBNET]: '{"ipv4":["apown-subnet"]}', [IP_NUMBER]: "+3" };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    // A ConfigMap stands in for a third party's owner kind: read as an operator allows it (controller.extraRules, docs/install.md).
    const extraRules = [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }];
    tc = await startTestController(kc, "apown", { SPIDERPOOL_AUTO_POOL_MAX_IPS: "100" }, undefined, 1, { chartValues: { controller: { extraRules } } });
    a = apis(kc);
    await a.subnets.create({
      apiVersion: API_VERSION,
      kind: "SpiderSubnet",
      metadata: { name: "apown-subnet", labels: tc.labels },
      spec: { subnet: "10.85.0.0/24", ips: ["10.85.0.10-10.85.0.250"], gateway: "10.85.0.1" },
    });
  });
  afterAll(() => tc.stop());

  /** A Deployment, its ReplicaSet and one Pod of it, as the controllers would make them. */
  async function deployWithPod(ns: string, name: string, podNamespace = ns): Promise<{ d: V1Deployment; podPool: string }> {
    const d = await a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody(name, 1, annotations) });
    const rs = await replicaSetFor(kc, ns, d);
    const pod = await createPod(kc, podNamespace, ownedPod(`${name}-x1`, ownerOf("apps/v1", "ReplicaSet", rs), { app: name, "pod-template-hash": "5d9f7c6b8" }, annotations));
    return { d, podPool: assignedOf(pod).ips[0]?.ipv4Pool ?? "" };
  }

  it("does not draw from a pool that has the application's pool name but belongs to another application", async () => {
    const ns = await tc.createPodNamespace("apown-squat");
    const d = await a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody("api", 1, annotations) });
    const name = `auto4-api-eth0-${uid5(d.metadata?.uid)}`;
    const foreign = { "ipam.spidernet.io/owner-application-kind": "Deployment", "ipam.spidernet.io/owner-application-name": "someone-else", "ipam.spidernet.io/owner-application-uid": "0000-foreign" };
    if (await a.pools.get(name)) {
      // The controller made the pool when the Deployment was admitted: hand it to someone else
      // (read again after a lost race with the controller's status writes).
      await waitFor("the pool relabelled", async () => {
        const p = (await a.pools.get(name)) as SpiderIPPool;
        return a.pools.replace({ ...p, metadata: { ...p.metadata, labels: { ...p.metadata.labels, ...foreign } } });
      });
    } else {
      await a.pools.create({ apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: { name, labels: { ...tc.labels, ...foreign } }, spec: { subnet: "10.85.0.0/24", ips: ["10.85.0.200-10.85.0.201"] } });
    }
    const rs = await replicaSetFor(kc, ns, d);
    const pod = await createPod(kc, ns, ownedPod("api-x1", ownerOf("apps/v1", "ReplicaSet", rs), { app: "api", "pod-template-hash": "5d9f7c6b8" }, annotations));
    const used = (await a.pools.get(assignedOf(pod).ips[0]?.ipv4Pool ?? "")) as SpiderIPPool;
    expect(used.metadata.labels?.["ipam.spidernet.io/owner-application-uid"]).toBe(d.metadata?.uid);
    expect(used.metadata.name).not.toBe(name);
  });

  it("serves only its application's namespace, even to a Pod that names it", async () => {
    const ns = await tc.createPodNamespace("apown-home");
    const { d, podPool } = await deployWithPod(ns, "shop");
    expect(podPool).toMatch(/^auto4-shop-eth0-/);
    const pool = (await poolsOfApp(kc, d.metadata?.uid ?? ""))[0] as SpiderIPPool;
    expect(pool.spec.namespaceName).toEqual([ns]);
    const elsewhere = await tc.createPodNamespace("apown-away");
    const status = await refusal(createPod(kc, elsewhere, { metadata: { name: "intruder", labels: { app: "shop" }, annotations: { "ipam.spidernet.io/ippool": JSON.stringify({ ipv4: [podPool] }) } }, spec: { containers: [{ name: "c", image: "example.invalid/c:1" }] } }));
    expect(status.message).toContain(`does not serve namespace ${elsewhere}`);
  });

  it("applies the pool's filters: a node restriction added to the pool constrains its Pods' scheduling", async () => {
    const ns = await tc.createPodNamespace("apown-node");
    const { d, podPool } = await deployWithPod(ns, "edge");
    // The controller writes the pool's status too (the Pod's binding): a stale read is read again.
    await replaceFresh(a.pools, podPool, (spec) => ({ ...spec, nodeName: ["apown-node-1"] }));
    await waitFor("the cache to see the node restriction", async () => {
      const rs = (await a.apps.listNamespacedReplicaSet({ namespace: ns })).items[0];
      const pod = await createPod(kc, ns, ownedPod(`edge-${Math.random().toString(36).slice(2, 7)}`, ownerOf("apps/v1", "ReplicaSet", rs as never), { app: "edge", "pod-template-hash": "5d9f7c6b8" }, annotations));
      const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
      return terms.some((t) => t.matchFields?.some((f) => f.key === "metadata.name" && f.values?.includes("apown-node-1")));
    }, 20000);
    expect(d.metadata?.uid).toBeTruthy();
  });

  it("refuses an ippool-ip-number above --auto-pool-max-ips, naming the cap, and carves nothing", async () => {
    const ns = await tc.createPodNamespace("apown-cap");
    const before = await subnetHanded(kc, "apown-subnet");
    const big = { ...annotations, [IP_NUMBER]: "150" };
    const app = await refusal(a.apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody("huge", 1, big) }));
    expect(app.message).toContain("--auto-pool-max-ips");
    expect(app.message).toContain("100");
    // Pods of any other controller (here a ConfigMap owns them) are held to the same cap.
    const owner = await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "owner" } } });
    const pod = await refusal(createPod(kc, ns, ownedPod("huge-x1", ownerOf("v1", "ConfigMap", owner), { app: "huge" }, big)));
    expect(pod.message).toContain("--auto-pool-max-ips");
    expect(await subnetHanded(kc, "apown-subnet")).toBe(before);
    expect((await a.pools.list()).items.filter((p) => p.metadata.labels?.["ipam.spidernet.io/owner-application-namespace"] === ns)).toEqual([]);
  });
});
