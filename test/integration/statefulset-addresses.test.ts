import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { PatchStrategy, setHeaderOptions, type KubeConfig, type V1StatefulSet } from "@kubernetes/client-node";
import { parseAddressInCIDR } from "../../ipam/address/cidr.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { tokenAt } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";
import { apis, ownedPod, ownerOf, statefulSetBody } from "../harness/workloads.js";

const IPPOOL = "ipam.spidernet.io/ippool";
const SUBNET = "ipam.spidernet.io/subnet";

/**
 * StatefulSet Pods keep their addresses across deletion and re-creation while their ordinal
 * is wanted; the addresses of ordinals a scale-down removed are released. The Pods are made
 * here as the StatefulSet controller would make them (this tier has no controller manager);
 * an unscheduled Pod is deleted at once.
 */
/** Three /24s for a suite: its manual pool, another pool, and a subnet for automatic pools. */
interface Nets {
  pool: string;
  other: string;
  subnet: string;
}

const range = (net: string) => ({ subnet: `${net}.0/24`, ips: [`${net}.10-${net}.40`] });

function statefulSetSuite(prefix: string, clusterConfig: string | undefined, nets: Nets, body: (kc: KubeConfig, tc: () => TestController) => void): void {
  describe(`StatefulSet addresses (${clusterConfig?.trim() ?? "default cluster configuration"})`, () => {
    const kc = testKubeConfig();
    let tc: TestController;
    beforeAll(async () => {
      await applyCrds(kc);
      tc = await startTestController(kc, prefix, { SPIDERPOOL_COOL_DOWN_MS: "0" }, clusterConfig);
      await createPool(kc, tc.labels, `${prefix}-v4`, range(nets.pool));
      await createPool(kc, tc.labels, `${prefix}-other`, range(nets.other));
      await apis(kc).subnets.create({ apiVersion: API_VERSION, kind: "SpiderSubnet", metadata: { name: `${prefix}-subnet`, labels: tc.labels }, spec: range(nets.subnet) });
    });
    afterAll(() => tc.stop());
    body(kc, () => tc);
  });
}

/** The helpers the suites share, over one controller. */
function stsHelpers(kc: KubeConfig, tc: () => TestController) {
  const a = apis(kc);
  const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
  const createSts = (ns: string, name: string, replicas: number, annotations: Record<string, string>, start?: number) =>
    a.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSetBody(name, replicas, annotations, start) });
  const podOf = async (ns: string, sts: V1StatefulSet, ordinal: number, annotations: Record<string, string>) => {
    const name = `${sts.metadata?.name ?? ""}-${ordinal}`;
    const pod = await createPod(kc, ns, ownedPod(name, ownerOf("apps/v1", "StatefulSet", sts), { app: sts.metadata?.name ?? "", "statefulset.kubernetes.io/pod-name": name }, annotations));
    await waitFor(`endpoint of ${ns}/${name}`, async () => (await endpoints.get(name, ns))?.status?.current?.uid === pod.metadata?.uid);
    return pod;
  };
  const deletePod = async (ns: string, name: string) => {
    await a.core.deleteNamespacedPod({ name, namespace: ns });
    await waitFor(`pod ${ns}/${name} gone`, async () => !(await a.core.listNamespacedPod({ namespace: ns })).items.some((p) => p.metadata?.name === name));
  };
  /** Whether the pool still holds `cidrAddress` (10.x.y.z/24) under `token`. */
  const holds = async (pool: string, cidrAddress: string, token: number | undefined): Promise<boolean> => {
    const p = await a.pools.get(pool);
    if (!p) return false;
    const state = decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet));
    return tokenAt(state.runs, parseAddressInCIDR(cidrAddress).address.value) === token;
  };
  const addressOf = (pod: Awaited<ReturnType<typeof createPod>>) => {
    const nic = assignedOf(pod).ips[0];
    return { ip: nic?.ipv4 ?? "", pool: nic?.ipv4Pool ?? "", token: nic?.ipv4Token };
  };
  const scale = (ns: string, name: string, replicas: number) =>
    a.apps.patchNamespacedStatefulSet({ name, namespace: ns, body: { spec: { replicas } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  return { a, endpoints, createSts, podOf, deletePod, holds, addressOf, scale, tc };
}

statefulSetSuite("stsaddr", undefined, { pool: "10.86.0", other: "10.87.0", subnet: "10.88.0" }, (kc, tc) => {
  const h = () => stsHelpers(kc, tc);

  it("gives web-1, deleted and re-created, the addresses it had (manual pool)", async () => {
    const { createSts, podOf, deletePod, addressOf } = h();
    const ns = await tc().createPodNamespace("sts-manual");
    const ann = { [IPPOOL]: '{"ipv4":["stsaddr-v4"]}' };
    const sts = await createSts(ns, "web", 3, ann);
    for (const i of [0, 1, 2]) await podOf(ns, sts, i, ann);
    const before = addressOf((await h().a.core.readNamespacedPod({ name: "web-1", namespace: ns })));
    await deletePod(ns, "web-1");
    const again = addressOf(await podOf(ns, sts, 1, ann));
    expect(again.ip).toBe(before.ip);
    expect(again.pool).toBe("stsaddr-v4");
  });

  it("gives web-1, deleted and re-created, the addresses it had (automatic pool)", async () => {
    const { createSts, podOf, deletePod, addressOf } = h();
    const ns = await tc().createPodNamespace("sts-auto");
    const ann = { [SUBNET]: '{"ipv4":["stsaddr-subnet"]}', "ipam.spidernet.io/ippool-ip-number": "+1" };
    const sts = await createSts(ns, "db", 2, ann);
    for (const i of [0, 1]) await podOf(ns, sts, i, ann);
    const before = addressOf(await h().a.core.readNamespacedPod({ name: "db-1", namespace: ns }));
    expect(before.pool).toMatch(/^auto4-db-eth0-/);
    await deletePod(ns, "db-1");
    const again = addressOf(await podOf(ns, sts, 1, ann));
    expect(again).toMatchObject({ ip: before.ip, pool: before.pool });
  });

  it("releases the addresses of the ordinals a scale-down removed and keeps those still wanted, from spec.ordinals.start", async () => {
    const { createSts, podOf, deletePod, addressOf, holds, scale, endpoints } = h();
    const ns = await tc().createPodNamespace("sts-scale");
    const ann = { [IPPOOL]: '{"ipv4":["stsaddr-v4"]}' };
    const sts = await createSts(ns, "kv", 3, ann, 5);
    const pods: ReturnType<typeof addressOf>[] = [];
    for (const i of [5, 6, 7]) pods.push(addressOf(await podOf(ns, sts, i, ann)));
    await scale(ns, "kv", 1);
    for (const name of ["kv-7", "kv-6"]) await deletePod(ns, name);
    await waitFor("kv-6 and kv-7 released", async () => !(await holds("stsaddr-v4", pods[1]?.ip ?? "", pods[1]?.token)) && !(await holds("stsaddr-v4", pods[2]?.ip ?? "", pods[2]?.token)), 20000);
    await waitFor("their endpoints gone", async () => !(await endpoints.get("kv-6", ns)) && !(await endpoints.get("kv-7", ns)));
    // kv-5 is still wanted: deleted, it keeps its address.
    await deletePod(ns, "kv-5");
    expect(await holds("stsaddr-v4", pods[0]?.ip ?? "", pods[0]?.token)).toBe(true);
    expect(addressOf(await podOf(ns, sts, 5, ann)).ip).toBe(pods[0]?.ip);
  });

  it("moves a re-created Pod whose pool annotation changed to the new pool and releases the old address", async () => {
    const { createSts, podOf, deletePod, addressOf, holds } = h();
    const ns = await tc().createPodNamespace("sts-move");
    const ann = { [IPPOOL]: '{"ipv4":["stsaddr-v4"]}' };
    const sts = await createSts(ns, "mq", 1, ann);
    const before = addressOf(await podOf(ns, sts, 0, ann));
    await deletePod(ns, "mq-0");
    const moved = addressOf(await podOf(ns, sts, 0, { [IPPOOL]: '{"ipv4":["stsaddr-other"]}' }));
    expect(moved.pool).toBe("stsaddr-other");
    await waitFor("the old address released", async () => !(await holds("stsaddr-v4", before.ip, before.token)), 20000);
  });
});

statefulSetSuite("stsoff", "enableStatefulSet: false\n", { pool: "10.106.0", other: "10.107.0", subnet: "10.108.0" }, (kc, tc) => {
  it("with enableStatefulSet false, releases a deleted Pod's addresses like any other Pod's", async () => {
    const { createSts, podOf, deletePod, addressOf, holds, endpoints } = stsHelpers(kc, tc);
    const ns = await tc().createPodNamespace("sts-off");
    const ann = { [IPPOOL]: '{"ipv4":["stsoff-v4"]}' };
    const sts = await createSts(ns, "web", 2, ann);
    const before = addressOf(await podOf(ns, sts, 1, ann));
    const ep = await endpoints.get("web-1", ns);
    expect(ep?.metadata.ownerReferences?.[0]?.kind).toBe("Pod");
    await deletePod(ns, "web-1");
    await waitFor("web-1's address released", async () => !(await holds("stsoff-v4", before.ip, before.token)), 20000);
  });
});
