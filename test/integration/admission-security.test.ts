import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { allocatedCount } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { API_VERSION, GROUP, VERSION } from "../../ipam/kinds/meta.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds } from "../../local-cluster/kube.js";
import { createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { refusal, testKubeConfig } from "../harness/kube.js";

interface Answer {
  status: number;
  body: string;
}

/**
 * Issue 13: nobody reserves, releases or rewrites an address without the right to. Each
 * test is one finding of the review, run against the controller as a client that is not
 * the apiserver would reach it.
 */
describe("admission security", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let ca: string;

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "sec");
    await createPool(kc, tc.labels, "sec-pool", { subnet: "10.91.0.0/24", ips: ["10.91.0.10-10.91.0.19"] });
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "spiderpool-controller-webhook-tls", namespace: tc.namespace });
    ca = Buffer.from(secret.data?.["ca-bundle.crt"] ?? "", "base64").toString();
  });
  afterAll(() => tc.stop());

  /** A POST to the controller's HTTPS port from a client that trusts its CA and presents no certificate. */
  function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: tc.controller.port, path, method: "POST", ca, headers: { "content-type": "application/json", ...headers } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  function get(path: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: tc.controller.port, path, method: "GET", ca }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  const held = async (): Promise<number> => {
    const p = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get("sec-pool")) as SpiderIPPool;
    return allocatedCount(decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet)));
  };

  const podReview = (namespace: string, object: unknown) => ({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace,
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object,
      dryRun: false,
    },
  });

  it("reserves nothing for an AdmissionReview that does not come from the apiserver", async () => {
    const ns = await tc.createPodNamespace("sec");
    const before = await held();
    const answer = await post("/webhooks/mutate-pod", JSON.stringify(podReview(ns, podSpec({ generateName: "forged-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["sec-pool"]}' })))).catch((err: Error) => ({ status: 0, body: err.message }));
    expect(answer.status === 0 || answer.status === 401 || answer.status === 403).toBe(true);
    expect(await held()).toBe(before);
  });

  it("serves no metrics on the admission port", async () => {
    expect((await get("/metrics")).status).toBe(404);
  });

  it("answers 400, not 500, to a review whose object has no metadata", async () => {
    const ns = await tc.createPodNamespace("secmeta");
    const answer = await post("/webhooks/mutate-pod", JSON.stringify(podReview(ns, { spec: { containers: [] } })));
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("metadata");
  });

  it("authenticates late allocation before it reads the body", async () => {
    // Not JSON at all: refused for who sends it, not for what it sends.
    const answer = await post("/v1/allocate", "{not json");
    expect(answer.status).toBe(401);
  });

  it("refuses a rewrite of assigned-ips through the pods/status subresource", async () => {
    const ns = await tc.createPodNamespace("secstatus");
    const pod = await createPod(kc, ns, podSpec("victim", { "ipam.spidernet.io/ippool": '{"ipv4":["sec-pool"]}' }));
    const forged = (pod.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"] ?? "").replace(/10\.91\.0\.\d+/, "10.91.0.99");
    // A user with pods/status rights (not Spiderpool) rewrites the annotation there.
    const status = await refusal(
      kc.makeApiClient(CoreV1Api).patchNamespacedPodStatus(
        { name: "victim", namespace: ns, body: { metadata: { annotations: { "ipam.spidernet.io/assigned-ips": forged } } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    expect(status.message).toContain("ipam.spidernet.io/assigned-ips is written by Spiderpool only");
  });

  it("admits only one of two overlapping pools created at the same moment", async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    const create = (name: string, subnet: string) =>
      api
        .createClusterCustomObject({ group: GROUP, version: VERSION, plural: IPPOOL_PLURAL, body: { apiVersion: API_VERSION, kind: "SpiderIPPool", metadata: { name, labels: tc.labels }, spec: { subnet } } })
        .then(() => "created")
        .catch(() => "refused");
    for (let i = 0; i < 4; i++) {
      // Different but overlapping CIDRs: the rule is that at most one of them may exist.
      const outcomes = await Promise.all([create(`sec-race-${i}-a`, `10.92.${i}.0/24`), create(`sec-race-${i}-b`, `10.92.${i}.0/25`)]);
      expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    }
  });
});
