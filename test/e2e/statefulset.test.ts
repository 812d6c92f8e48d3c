import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { parseAddressInCIDR, parseCIDR } from "../../ipam/address/cidr.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { tokenAt } from "../../ipam/allocation/state.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPool } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";
import { apis, createKwokNodes, deleteNodes, runningWithAddresses, statefulSetBody } from "../harness/workloads.js";

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** StatefulSet Pods keep their addresses while their ordinal is wanted, with the real StatefulSet controller. */
describe("StatefulSet sticky addresses", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let a: ReturnType<typeof apis>;
  const nodes = ["sticky-kwok-1", "sticky-kwok-2"];

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "sticky");
    a = apis(kc);
    await createKwokNodes(kc, nodes);
    await createPool(kc, tc.labels, "sticky-v4", { subnet: "10.113.0.0/24", ips: ["10.113.0.10-10.113.0.40"] });
    await a.subnets.create({ apiVersion: API_VERSION, kind: "SpiderSubnet", metadata: { name: "sticky-subnet", labels: tc.labels }, spec: { subnet: "10.114.0.0/24", ips: ["10.114.0.10-10.114.0.40"] } });
  });
  afterAll(async () => {
    await deleteNodes(kc, nodes);
    await tc.stop();
  });

  /** name -> address of the running Pods of a StatefulSet, once there are `n`. */
  const addresses = (ns: string, app: string, n: number) =>
    waitFor(`${n} running ${app} pods`, async () => {
      const pods = await runningWithAddresses(kc, ns, `app=${app}`);
      return pods.length === n ? new Map(pods.map((p) => [p.metadata?.name ?? "", assignedOf(p).ips[0]])) : undefined;
    }, 120000);

  /** Whether `pool` still holds the address under the token the Pod was given. */
  const held = async (nic: ReturnType<typeof assignedOf>["ips"][number] | undefined): Promise<boolean> => {
    const p = await a.pools.get(nic?.ipv4Pool ?? "");
    if (!p || !nic?.ipv4) return false;
    return tokenAt(decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet)).runs, parseAddressInCIDR(nic.ipv4).address.value) === nic.ipv4Token;
  };

  it.each([
    ["a manual pool", "web", { "ipam.spidernet.io/ippool": '{"ipv4":["sticky-v4"]}' }],
    ["an automatic pool", "auto", { "ipam.spidernet.io/subnet": '{"ipv4":["sticky-subnet"]}', "ipam.spidernet.io/ippool-ip-number": "+1" }],
  ])("re-creates a deleted Pod with the addresses it had (%s)", async (_what, app, annotations) => {
    const ns = await tc.createPodNamespace(`sticky-${app}`);
    await a.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSetBody(app, 3, annotations) });
    const first = await addresses(ns, app, 3);
    const old = await a.core.readNamespacedPod({ name: `${app}-1`, namespace: ns });
    await a.core.deleteNamespacedPod({ name: `${app}-1`, namespace: ns });
    const again = await waitFor(`${app}-1 re-created`, async () => {
      const now = await addresses(ns, app, 3);
      const pod = await a.core.readNamespacedPod({ name: `${app}-1`, namespace: ns });
      return pod.metadata?.uid !== old.metadata?.uid ? now : undefined;
    }, 120000);
    expect(again.get(`${app}-1`)?.ipv4).toBe(first.get(`${app}-1`)?.ipv4);
    expect(again.get(`${app}-1`)?.ipv4Pool).toBe(first.get(`${app}-1`)?.ipv4Pool);
  });

  it("scaled 3 -> 1 -> 3, releases the removed ordinals' addresses at the scale-down", async () => {
    const ns = await tc.createPodNamespace("sticky-scale");
    await a.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSetBody("kv", 3, { "ipam.spidernet.io/ippool": '{"ipv4":["sticky-v4"]}' }) });
    const first = await addresses(ns, "kv", 3);
    await a.apps.patchNamespacedStatefulSetScale({ name: "kv", namespace: ns, body: { spec: { replicas: 1 } } }, merge);
    await addresses(ns, "kv", 1);
    await waitFor("kv-1 and kv-2 released", async () => !(await held(first.get("kv-1"))) && !(await held(first.get("kv-2"))), 60000);
    expect(await held(first.get("kv-0"))).toBe(true);
    await a.apps.patchNamespacedStatefulSetScale({ name: "kv", namespace: ns, body: { spec: { replicas: 3 } } }, merge);
    const after = await addresses(ns, "kv", 3);
    expect(after.get("kv-0")?.ipv4).toBe(first.get("kv-0")?.ipv4);
  });
});
