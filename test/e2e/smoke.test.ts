import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AppsV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { KWOK_NODE_ANNOTATION } from "../../local-cluster/cluster.js";
import { createNamespace, waitFor } from "../../local-cluster/kube.js";
import { testKubeConfig } from "../harness/kube.js";

/** kube-controller-manager, kube-scheduler and kwok really run: a Deployment becomes Running pods. */
describe("e2e control plane", () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: string;
  const nodes = ["smoke-kwok-a", "smoke-kwok-b"];

  beforeAll(async () => {
    kc = testKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await createNamespace(kc, "smoke");
    for (const name of nodes) {
      await core.createNode({
        body: {
          metadata: { name, annotations: { [KWOK_NODE_ANNOTATION]: "fake" }, labels: { type: "kwok", "kubernetes.io/hostname": name } },
        },
      });
    }
  });

  afterAll(async () => {
    for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
  });

  it("runs a Deployment of 3 replicas on two kwok nodes", async () => {
    await waitFor("kwok nodes Ready", async () => {
      const list = await core.listNode({ labelSelector: "type=kwok" });
      const ready = list.items.filter((n) => nodes.includes(n.metadata?.name ?? "") && n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      return ready.length === nodes.length;
    });

    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "example.invalid/web:1" }] },
          },
        },
      },
    });

    const pods = await waitFor(
      "3 Running pods",
      async () => {
        const list = await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" });
        const running = list.items.filter((p) => p.status?.phase === "Running");
        return running.length === 3 ? running : undefined;
      },
      120000,
    );
    for (const p of pods) expect(nodes).toContain(p.spec?.nodeName);
    // A ReplicaSet made them: the controller-manager is really there.
    expect(pods.every((p) => p.metadata?.ownerReferences?.[0]?.kind === "ReplicaSet")).toBe(true);
  });
});
