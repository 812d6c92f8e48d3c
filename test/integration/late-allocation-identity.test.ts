import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { request } from "node:https";
import { applyCrds, createNamespace } from "../../local-cluster/kube.js";
import { createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";
import { servingCa } from "../harness/admission-client.js";

/**
 * Issue 13: late allocation took the node from the request body. An agent's token is
 * bound to its node (the ServiceAccount token's node claim); the controller takes the
 * node from there, and only for tokens issued for its audience.
 */
describe("late allocation takes the node from the caller's identity", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let core: CoreV1Api;
  let ca: string;
  let ns: string;
  const nodes = [`secla-${Math.random().toString(36).slice(2, 6)}-a`, `secla-${Math.random().toString(36).slice(2, 6)}-b`];

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "secla");
    core = kc.makeApiClient(CoreV1Api);
    await createPool(kc, tc.labels, "secla-pool", { subnet: "10.133.0.0/24", ips: ["10.133.0.10-10.133.0.19"] });
    ca = await servingCa(kc, tc);
    await core.createNamespacedServiceAccount({ namespace: tc.namespace, body: { metadata: { name: "spiderpool-agent" } } });
    for (const name of nodes) await core.createNode({ body: { metadata: { name } } });
    // Not under the webhooks: these Pods reach "CNI" without addresses.
    ns = await createNamespace(kc, "secla");
  });
  afterAll(async () => {
    for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
    await tc.stop();
  });

  /** A token of the agents' service account, bound to a node, for these audiences. */
  async function agentToken(node: string, audiences: string[]): Promise<string> {
    const n = await core.readNode({ name: node });
    const t = await core.createNamespacedServiceAccountToken({
      // The agents' service account as the controller knows it (the chart's, under its identities).
      name: tc.identities?.agent.serviceAccount ?? "spiderpool-agent",
      namespace: tc.namespace,
      body: { spec: { audiences, expirationSeconds: 600, boundObjectRef: { apiVersion: "v1", kind: "Node", name: node, uid: n.metadata?.uid } } },
    });
    return t.status?.token ?? "";
  }

  function allocate(token: string, body: object): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: tc.controller.port, path: "/v1/allocate", method: "POST", ca, headers: { "content-type": "application/json", authorization: `Bearer ${token}` } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  }

  async function podOn(name: string, node: string) {
    const pod = await createPod(kc, ns, podSpec(name, { "ipam.spidernet.io/ippool": '{"ipv4":["secla-pool"]}' }, { nodeName: node }));
    return { namespace: ns, name, uid: pod.metadata?.uid ?? "", interface: "eth0" };
  }

  it("refuses an agent asking for a Pod on another node, whatever node the body names", async () => {
    const [a, b] = nodes as [string, string];
    const target = await podOn("elsewhere", b);
    const answer = await allocate(await agentToken(a, ["spiderpool"]), { ...target, node: b });
    expect(answer.status).toBe(403);
    const pod = await core.readNamespacedPod({ name: "elsewhere", namespace: ns });
    expect(pod.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]).toBeUndefined();
  });

  it("refuses a token issued for the apiserver's audience", async () => {
    const [a] = nodes as [string];
    const target = await podOn("audience", a);
    const answer = await allocate(await agentToken(a, []), { ...target, node: a });
    expect(answer.status).toBe(401);
  });

  it("reads a caller's body only up to its limit", async () => {
    const [a] = nodes as [string];
    const answer = await allocate(await agentToken(a, ["spiderpool"]), { namespace: ns, name: "x".repeat(100 * 1024), uid: "u", interface: "eth0" });
    expect(answer.status).toBe(413);
  });

  it("allocates for a Pod on the caller's own node", async () => {
    const [a] = nodes as [string];
    const target = await podOn("home", a);
    const answer = await allocate(await agentToken(a, ["spiderpool"]), target);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("10.133.0.");
  });
});
