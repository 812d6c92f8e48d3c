import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, CustomObjectsApi, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { issueCertificate } from "../../certs/pki.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { allocatedCount } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { API_VERSION, GROUP, VERSION } from "../../ipam/kinds/meta.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds } from "../../local-cluster/kube.js";
import { fetchLocal, parseMetrics, sumOf } from "../../local-cluster/metrics-text.js";
import { createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { callController, podCreateReview, servingCa } from "../harness/admission-client.js";
import { refusal, testKubeConfig, userKubeConfig } from "../harness/kube.js";
import { testClusterState } from "../harness/test-cluster.js";

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
    await createPool(kc, tc.labels, "sec-pool", { subnet: "10.131.0.0/24", ips: ["10.131.0.10-10.131.0.19"] });
    ca = await servingCa(kc, tc);
  });
  afterAll(() => tc.stop());

  /** A call to the controller's HTTPS port from a client that trusts its CA; `asApiserver` presents the apiserver's webhook client certificate. */
  const post = (path: string, body: string, asApiserver = false): Promise<Answer> => callController(tc.controller.port, path, body, { ca, asApiserver });
  const get = (path: string): Promise<Answer> => callController(tc.controller.port, path, undefined, { ca });

  const held = async (): Promise<number> => {
    const p = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get("sec-pool")) as SpiderIPPool;
    return allocatedCount(decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet)));
  };

  const podReview = (namespace: string, object: unknown): object => podCreateReview(namespace, object);

  it("reserves nothing for an AdmissionReview that does not come from the apiserver", async () => {
    const ns = await tc.createPodNamespace("sec");
    const before = await held();
    const answer = await post("/webhooks/mutate-pod", JSON.stringify(podReview(ns, podSpec({ generateName: "forged-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["sec-pool"]}' })))).catch((err: Error) => ({ status: 0, body: err.message }));
    expect(answer.status).toBe(401);
    expect(await held()).toBe(before);
  });

  it("serves metrics and probes on a port of their own, and not on the admission port", async () => {
    expect((await get("/metrics")).status).toBe(404);
    expect((await get("/readyz")).status).toBe(404);
    const metrics = await fetch(`http://127.0.0.1:${tc.controller.metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# TYPE spiderpool_webhook_requests_total counter");
    expect((await fetch(`http://127.0.0.1:${tc.controller.metricsPort}/readyz`)).status).toBe(200);
    // Nothing else is served there: no admission, no late allocation.
    expect((await fetch(`http://127.0.0.1:${tc.controller.metricsPort}/webhooks/mutate-pod`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("answers the apiserver's client certificate, and refuses a certificate the cluster CA signed for someone else", async () => {
    const ns = await tc.createPodNamespace("secok");
    const before = await held();
    const pod = podSpec({ generateName: "real-" }, { "ipam.spidernet.io/ippool": '{"ipv4":["sec-pool"]}' });
    const review = podReview(ns, pod);
    const answer = await post("/webhooks/mutate-pod", JSON.stringify(podCreateReview(ns, pod, { dryRun: true })), true);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ response: { allowed: true } });
    expect(await held()).toBe(before);
    // The cluster CA signs every user's certificate (here an admin's): that is not the apiserver.
    const pki = join(testClusterState().dir, "pki");
    const clusterCa = { certPem: readFileSync(join(pki, "ca.crt"), "utf8"), keyPem: readFileSync(join(pki, "ca.key"), "utf8") };
    const someone = issueCertificate(clusterCa, { commonName: "kube-apiserver-webhook-client", organizations: ["system:masters"], usage: "client" });
    const refused = await callController(tc.controller.port, "/webhooks/mutate-pod", JSON.stringify(review), { ca, clientCert: { cert: someone.certPem, key: someone.keyPem } });
    expect(refused.status).toBe(401);
    expect(refused.body).toContain("admission webhooks answer the kube-apiserver only");
    expect(await held()).toBe(before);
  });

  it("refuses to renegotiate a connection, whose client certificate it judged when the connection was made", async () => {
    const socket = tlsConnect({ host: "127.0.0.1", port: tc.controller.port, ca, maxVersion: "TLSv1.2" });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", () => resolve()).once("error", reject));
    const error = await new Promise<Error | null>((resolve) => {
      socket.once("error", resolve);
      socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err));
    });
    socket.destroy();
    expect(error).not.toBeNull();
  });

  it("answers 400, not 500, to a review whose object has no metadata", async () => {
    const ns = await tc.createPodNamespace("secmeta");
    const answer = await post("/webhooks/mutate-pod", JSON.stringify(podReview(ns, { spec: { containers: [] } })), true);
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
    const forged = (pod.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"] ?? "").replace(/10\.131\.0\.\d+/, "10.131.0.99");
    expect(forged).not.toEqual(pod.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]);
    // A user with pods/status rights (not Spiderpool: the in-process controller is the admin) rewrites the annotation there.
    await kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRole({ namespace: ns, body: { metadata: { name: "status-writer" }, rules: [{ apiGroups: [""], resources: ["pods/status"], verbs: ["get", "patch", "update"] }] } });
    await kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace: ns,
      body: { metadata: { name: "status-writer" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "status-writer" }, subjects: [{ kind: "User", name: "status-writer", apiGroup: "rbac.authorization.k8s.io" }] },
    });
    const status = await refusal(
      userKubeConfig("status-writer").makeApiClient(CoreV1Api).patchNamespacedPodStatus(
        { name: "victim", namespace: ns, body: { metadata: { annotations: { "ipam.spidernet.io/assigned-ips": forged } } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    expect(status.message).toContain("ipam.spidernet.io/assigned-ips is written by Spiderpool only");
  });

  it("is not called for a Pod update that leaves assigned-ips as it is (kubelet status, labels)", async () => {
    const ns = await tc.createPodNamespace("secquiet");
    await createPod(kc, ns, podSpec("quiet", { "ipam.spidernet.io/ippool": '{"ipv4":["sec-pool"]}' }));
    const calls = async (): Promise<number> => sumOf(parseMetrics(await fetchLocal(`http://127.0.0.1:${tc.controller.metricsPort}/metrics`)), "spiderpool_webhook_requests_total", { webhook: "validate-pod" });
    const before = await calls();
    const core = kc.makeApiClient(CoreV1Api);
    const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    await core.patchNamespacedPodStatus({ name: "quiet", namespace: ns, body: { status: { conditions: [{ type: "PodScheduled", status: "True" }] } } }, merge);
    await core.patchNamespacedPod({ name: "quiet", namespace: ns, body: { metadata: { labels: { touched: "yes" } } } }, merge);
    expect(await calls()).toBe(before);
    // A change still reaches the guard, which refuses it: here the annotation removed by a user allowed to patch Pods.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "pod-writer" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "patch"] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: { metadata: { name: "pod-writer" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-writer" }, subjects: [{ kind: "User", name: "pod-writer", apiGroup: "rbac.authorization.k8s.io" }] },
    });
    const status = await refusal(userKubeConfig("pod-writer").makeApiClient(CoreV1Api).patchNamespacedPod({ name: "quiet", namespace: ns, body: { metadata: { annotations: { "ipam.spidernet.io/assigned-ips": null } } } }, merge));
    expect(status.message).toContain("ipam.spidernet.io/assigned-ips is written by Spiderpool only");
    expect(await calls()).toBe(before + 1);
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
      const outcomes = await Promise.all([create(`sec-race-${i}-a`, `10.132.${i}.0/24`), create(`sec-race-${i}-b`, `10.132.${i}.0/25`)]);
      expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    }
  });
});
