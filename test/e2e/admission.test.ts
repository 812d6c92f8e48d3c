import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AppsV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { KWOK_NODE_ANNOTATION } from "../../local-cluster/cluster.js";
import { expectConsistent } from "../harness/consistency.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { testKubeConfig } from "../harness/kube.js";
import { assignedOf, createPool } from "../../local-cluster/pods.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { CustomResources } from "../../k8s/resources.js";
import { deploymentBody } from "../harness/workloads.js";

/** With the real ReplicaSet controller: a refusal shows as FailedCreate with the webhook's sentence. */
describe("Pod admission with kube-controller-manager", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let core: CoreV1Api;
  const node = `adm-kwok-${Date.now() % 100000}`;

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    // A wait for the scheduler long enough for a loaded machine (reservations live 60 s).
    tc = await startTestController(kc, "e2eadm", { SPIDERPOOL_BIND_WAIT_FOR_NODE_MS: "20000" });
    core = kc.makeApiClient(CoreV1Api);
    await core.createNode({ body: { metadata: { name: node, annotations: { [KWOK_NODE_ANNOTATION]: "fake" }, labels: { "spiderpool.test/node": node } } } });
    await createPool(kc, tc.labels, "e2eadm-two", { subnet: "10.81.0.0/24", ips: ["10.81.0.10-10.81.0.11"] });
    await createPool(kc, tc.labels, "e2eadm-once", { subnet: "10.81.1.0/24", ips: ["10.81.1.10-10.81.1.12"] });
  });
  afterAll(async () => {
    try {
      // Every suite ends with the consistency checker over its own pools: 0 leaked, 0 missing, 0 duplicates.
      if (tc) await expectConsistent(kc, tc.labels);
    } finally {
      await core.deleteNode({ name: node }).catch(() => undefined);
      await tc.stop();
    }
  });

  it("runs the pods that got addresses and shows FailedCreate with the reason for the rest", async () => {
    const ns = await tc.createPodNamespace("failedcreate");
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "three" },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "three" } },
          template: {
            metadata: { labels: { app: "three" }, annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["e2eadm-two"]}' } },
            spec: { containers: [{ name: "c", image: "example.invalid/c:1" }] },
          },
        },
      },
    });
    const running = await waitFor("two Running pods", async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.status?.phase === "Running");
      return pods.length === 2 ? pods : undefined;
    }, 120000);
    expect(running.map((p) => assignedOf(p).ips[0]?.ipv4).sort()).toEqual(["10.81.0.10/24", "10.81.0.11/24"]);
    const event = await waitFor("FailedCreate on the ReplicaSet", async () => {
      const events = await core.listNamespacedEvent({ namespace: ns });
      return events.items.find((e) => e.reason === "FailedCreate" && e.involvedObject.kind === "ReplicaSet");
    }, 60000);
    expect(event.message).toContain("pool e2eadm-two has 0 of 2 addresses free (2 allocated); add addresses to those pools or name another pool");
  });

  it("records each scheduled Pod's SpiderEndpoint in one write, with its node", async () => {
    const ns = await tc.createPodNamespace("onewrite");
    const body = deploymentBody("once", 3, { "ipam.spidernet.io/ippool": '{"ipv4":["e2eadm-once"]}' }, { nodeSelector: { "spiderpool.test/node": node } });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: ns, body });
    const pods = await waitFor("three Running pods", async () => {
      const list = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.status?.phase === "Running");
      return list.length === 3 ? list : undefined;
    }, 120000);
    const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
    for (const pod of pods) {
      const ep = await waitFor(`the endpoint of ${pod.metadata?.name}`, () => endpoints.get(pod.metadata?.name ?? "", ns), 30000);
      // Without a status subresource every write of the record raises the generation: 1 is one write.
      expect({ node: ep.status?.current?.node, generation: ep.metadata.generation, reservation: ep.status?.current?.reservation }).toEqual({
        node,
        generation: 1,
        reservation: assignedOf(pod).reservation,
      });
    }
  });
});
