import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { applyCrds } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { refusal, testKubeConfig } from "../harness/kube.js";
import { apis, daemonSetAffinity, daemonSetBody, ownedPod, ownerOf } from "../harness/workloads.js";

/**
 * A DaemonSet's Pod names its node in a required node affinity (matchFields metadata.name),
 * not in spec.nodeName: it gets a pool that serves that node and no added affinity, and is
 * refused, naming the node, when no candidate pool serves it.
 */
describe("DaemonSet placement", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let a: ReturnType<typeof apis>;
  const nodes = { "dsp-n1": "a", "dsp-n2": "a", "dsp-n3": "b", "dsp-n4": undefined } as const;
  const annotations = { "ipam.spidernet.io/ippool": '{"ipv4":["dsp-rack-a","dsp-rack-b"]}' };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "dsplace");
    a = apis(kc);
    for (const [name, rack] of Object.entries(nodes)) {
      await a.core.createNode({ body: { metadata: { name, labels: rack ? { "topology.example/rack": rack } : {} } } });
    }
    await createPool(kc, tc.labels, "dsp-rack-a", { subnet: "10.89.0.0/24", ips: ["10.89.0.10-10.89.0.19"], nodeName: ["dsp-n1", "dsp-n2"] });
    await createPool(kc, tc.labels, "dsp-rack-b", { subnet: "10.89.1.0/24", ips: ["10.89.1.10-10.89.1.19"], nodeAffinity: { matchLabels: { "topology.example/rack": "b" } } });
  });
  afterAll(async () => {
    for (const name of Object.keys(nodes)) await a.core.deleteNode({ name }).catch(() => undefined);
    await tc.stop();
  });

  it("gives each DaemonSet Pod the pool that serves its node, and leaves its affinity as the DaemonSet wrote it", async () => {
    const ns = await tc.createPodNamespace("dsp");
    const ds = await a.apps.createNamespacedDaemonSet({ namespace: ns, body: daemonSetBody("agent", annotations) });
    for (const [node, pool] of [["dsp-n2", "dsp-rack-a"], ["dsp-n3", "dsp-rack-b"]] as const) {
      const pod = await createPod(kc, ns, ownedPod(`agent-${node}`, ownerOf("apps/v1", "DaemonSet", ds), { app: "agent" }, annotations, { affinity: daemonSetAffinity(node) }));
      expect(assignedOf(pod).ips[0]?.ipv4Pool).toBe(pool);
      expect(pod.spec?.affinity).toEqual(daemonSetAffinity(node));
    }
  });

  it("refuses a DaemonSet Pod whose node no candidate pool serves, naming the node", async () => {
    const ns = await tc.createPodNamespace("dsp-none");
    const ds = await a.apps.createNamespacedDaemonSet({ namespace: ns, body: daemonSetBody("agent", annotations) });
    const status = await refusal(createPod(kc, ns, ownedPod("agent-dsp-n4", ownerOf("apps/v1", "DaemonSet", ds), { app: "agent" }, annotations, { affinity: daemonSetAffinity("dsp-n4") })));
    expect(status.message).toContain("does not serve node dsp-n4");
  });
});
