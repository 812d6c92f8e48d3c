import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ApiException, AuthorizationV1Api, CoreV1Api, type KubeConfig, type V1ResourceAttributes } from "@kubernetes/client-node";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { CustomResources } from "../../k8s/resources.js";
import { serviceAccountToken, tokenKubeConfig } from "../../local-cluster/chart-identities.js";
import { applyCrds, createNamespace, waitFor } from "../../local-cluster/kube.js";
import { createPod, createPool, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";

/** The HTTP status of a refused call, or 0 when it went through. */
async function statusOf(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
    return { code: 0, message: "" };
  } catch (err) {
    if (err instanceof ApiException) return { code: err.code, message: String(err.body) };
    throw err;
  }
}

/**
 * The chart's identities, proved against the real apiserver: SubjectAccessReviews for what
 * RBAC allows and refuses, and real requests with the agent's Node-bound token for what the
 * chart's ValidatingAdmissionPolicy refuses (RBAC cannot tell one node's endpoint from another's).
 */
describe("the chart's RBAC and the agents' node restriction", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let ns: string;
  const id = Math.random().toString(36).slice(2, 7);
  const nodes = [`rbac-${id}-a`, `rbac-${id}-b`];
  let asAgentOfA: KubeConfig;

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "rbac");
    ns = await createNamespace(kc, "rbac-pods");
    const core = kc.makeApiClient(CoreV1Api);
    for (const name of nodes) await core.createNode({ body: { metadata: { name } } });
    asAgentOfA = (await tc.agentIdentity(nodes[0] ?? "")).kubeConfig;
    await createPool(kc, tc.labels, `rbac-${id}`, { subnet: "10.95.0.0/24", ips: ["10.95.0.10-10.95.0.20"] });
  });
  afterAll(async () => {
    const core = kc.makeApiClient(CoreV1Api);
    for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    await tc?.stop();
  });

  const allowed = async (who: "agent" | "controller", attrs: V1ResourceAttributes): Promise<boolean> => {
    const ids = tc.identities;
    if (!ids) throw new Error("the test controller runs without the chart's identities");
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: { spec: { user: ids[who].username, groups: ["system:serviceaccounts", `system:serviceaccounts:${tc.namespace}`, "system:authenticated"], resourceAttributes: attrs } },
    });
    return review.status?.allowed === true;
  };
  const sp = (resource: string, verb: string, extra: Partial<V1ResourceAttributes> = {}): V1ResourceAttributes => ({ group: "spiderpool.spidernet.io", resource, verb, ...extra });

  it("SubjectAccessReview: the agent reads no Secret, anywhere", async () => {
    for (const namespace of [tc.namespace, "kube-system", ns, ""]) {
      for (const verb of ["get", "list", "watch"]) {
        expect({ namespace, verb, allowed: await allowed("agent", { resource: "secrets", verb, namespace }) }).toEqual({ namespace, verb, allowed: false });
      }
    }
    // The controller reads its own certificate Secret and no other.
    expect(await allowed("controller", { resource: "secrets", verb: "get", namespace: tc.namespace, name: tc.config.tls.secretName })).toBe(true);
    expect(await allowed("controller", { resource: "secrets", verb: "get", namespace: tc.namespace, name: "someone-elses" })).toBe(false);
    expect(await allowed("controller", { resource: "secrets", verb: "list", namespace: "kube-system" })).toBe(false);
  });

  it("SubjectAccessReview: the agent cannot change a pool's spec, create or delete pools, but may release in a pool's status", async () => {
    for (const verb of ["update", "patch", "create", "delete", "deletecollection"]) {
      expect({ verb, allowed: await allowed("agent", sp("spiderippools", verb)) }).toEqual({ verb, allowed: false });
      expect({ verb, subnets: await allowed("agent", sp("spidersubnets", verb)) }).toEqual({ verb, subnets: false });
    }
    expect(await allowed("agent", sp("spiderippools", "update", { subresource: "status" }))).toBe(true);
    expect(await allowed("agent", sp("spiderippools", "list"))).toBe(true);
  });

  it("SubjectAccessReview: the agent touches no Node and writes no Pod; its endpoint writes are left to the admission policy", async () => {
    for (const verb of ["update", "patch", "delete", "create"]) {
      for (const attrs of [{ resource: "nodes", name: nodes[1] }, { resource: "nodes", subresource: "status", name: nodes[1] }, { resource: "pods", namespace: ns }, { resource: "pods", subresource: "status", namespace: ns }]) {
        expect({ ...attrs, verb, allowed: await allowed("agent", { ...attrs, verb }) }).toEqual({ ...attrs, verb, allowed: false });
      }
    }
    // SpiderEndpoints have no status subresource: the agent records attachments by updating the object.
    expect(await allowed("agent", sp("spiderendpoints", "update", { namespace: ns }))).toBe(true);
    expect(await allowed("agent", sp("spiderendpoints", "create", { namespace: ns }))).toBe(false);
  });

  it("SubjectAccessReview: what reclamation, application pools, the CNI fast path and the coordinator need is granted, and no more", async () => {
    const apps = (resource: string, verb: string): V1ResourceAttributes => ({ group: "apps", resource, verb });
    const grants: [who: "agent" | "controller", attrs: V1ResourceAttributes, allowed: boolean][] = [
      // Automatic pools are deleted with their application; subnets are never deleted or changed.
      ["controller", sp("spiderippools", "delete"), true],
      ["controller", sp("spidersubnets", "delete"), false],
      ["controller", sp("spidersubnets", "update"), false],
      ["controller", sp("spidersubnets", "update", { subresource: "status" }), true],
      ["controller", sp("spidersubnets", "update", { subresource: "finalizers" }), true],
      // Application caches (and live reads of one just made), never writes.
      ...["deployments", "replicasets", "statefulsets", "daemonsets"].flatMap((r): [("controller"), V1ResourceAttributes, boolean][] => [
        ["controller", apps(r, "watch"), true],
        ["controller", apps(r, "get"), true],
        ["controller", apps(r, "update"), false],
      ]),
      ["controller", { group: "batch", resource: "cronjobs", verb: "watch" }, true],
      ["controller", { group: "batch", resource: "jobs", verb: "delete" }, false],
      // SpiderCoordinator: its status from ServiceCIDRs and Nodes; the spec is the operator's.
      ["controller", sp("spidercoordinators", "watch"), true],
      ["controller", sp("spidercoordinators", "update", { subresource: "status" }), true],
      ["controller", sp("spidercoordinators", "update"), false],
      ["controller", { group: "networking.k8s.io", resource: "servicecidrs", verb: "watch" }, true],
      ["controller", { resource: "nodes", verb: "get" }, true],
      ["controller", { resource: "nodes", verb: "update" }, false],
      // The address history's ConfigMaps, in its namespace only.
      ["controller", { resource: "configmaps", verb: "create", namespace: tc.namespace }, true],
      ["controller", { resource: "configmaps", verb: "get", namespace: "kube-system" }, false],
      ["controller", { resource: "configmaps", verb: "delete", namespace: tc.namespace }, false],
      // Leader election, in its namespace only.
      ["controller", { group: "coordination.k8s.io", resource: "leases", verb: "create", namespace: tc.namespace }, true],
      ["controller", { group: "coordination.k8s.io", resource: "leases", verb: "update", namespace: "kube-node-lease" }, false],
      // The agent: its node's endpoints cached (watch), coordinator defaults read, nothing more.
      ["agent", sp("spiderendpoints", "watch"), true],
      ["agent", sp("spidercoordinators", "watch"), true],
      ["agent", sp("spidercoordinators", "update"), false],
      ["agent", sp("spidercoordinators", "update", { subresource: "status" }), false],
      ["agent", { group: "networking.k8s.io", resource: "servicecidrs", verb: "list" }, false],
      ["agent", apps("deployments", "list"), false],
      ["agent", { resource: "configmaps", verb: "get", namespace: tc.namespace }, false],
    ];
    const got = [];
    for (const [who, attrs, want] of grants) got.push({ who, ...attrs, allowed: await allowed(who, attrs), want });
    expect(got.filter((g) => g.allowed !== g.want)).toEqual([]);
  });

  it("a real request: the agent's token cannot read a Secret or change a pool's spec", async () => {
    expect((await statusOf(asAgentOfA.makeApiClient(CoreV1Api).readNamespacedSecret({ name: tc.config.tls.secretName, namespace: tc.namespace }))).code).toBe(403);
    const pools = new CustomResources<SpiderIPPool>(asAgentOfA, IPPOOL_PLURAL);
    const pool = await pools.get(`rbac-${id}`);
    expect(pool).toBeDefined();
    expect((await statusOf(pools.replace({ ...(pool as SpiderIPPool), spec: { ...(pool as SpiderIPPool).spec, ips: ["10.95.0.10-10.95.0.30"] } }))).code).toBe(403);
  });

  describe("SpiderEndpoint writes of the agent of one node (ValidatingAdmissionPolicy)", () => {
    const admin = (): CustomResources<SpiderEndpoint> => new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
    const asAgent = (k: KubeConfig): CustomResources<SpiderEndpoint> => new CustomResources<SpiderEndpoint>(k, ENDPOINT_PLURAL, true);
    /**
     * An endpoint recorded by the controller (here: the admin) for a Pod on `node`. The Pod
     * exists (with no reservation) and the endpoint names its uid, so that no controller of
     * the run collects the endpoint (one naming another uid is a replaced Pod's, and released).
     */
    const endpointOn = async (name: string, node: string | undefined): Promise<SpiderEndpoint> => {
      const pod = await createPod(kc, ns, podSpec(name));
      // Created with its record in one request, as the binder does (no status subresource).
      return admin().create({
        apiVersion: API_VERSION,
        kind: "SpiderEndpoint",
        metadata: { name, namespace: ns },
        status: { current: { uid: pod.metadata?.uid ?? "", ...(node ? { node } : {}), ips: [{ interface: "eth0", ipv4: "10.95.0.11/24", ipv4Pool: `rbac-${id}` }] } },
      });
    };
    const attach = (ep: SpiderEndpoint, extra: object = {}): SpiderEndpoint => {
      const current = ep.status?.current as NonNullable<NonNullable<SpiderEndpoint["status"]>["current"]>;
      return { ...ep, status: { ...ep.status, current: { ...current, attachments: [{ containerID: "c1", interface: "eth0", network: "macvlan" }], ...extra } } };
    };

    it("refuses an attachment written on another node's endpoint, and its deletion", async () => {
      const theirs = await endpointOn(`theirs-${id}`, nodes[1]);
      const refused = await waitFor("the policy to refuse", async () => {
        const r = await statusOf(asAgent(asAgentOfA).replace(attach((await admin().get(theirs.metadata.name ?? "", ns)) as SpiderEndpoint)));
        return r.code !== 0 ? r : undefined;
      });
      expect(refused.code).toBe(403);
      expect(refused.message).toContain(`spiderpool-agent of node ${nodes[0]} may not change SpiderEndpoint ${ns}/theirs-${id} of node ${nodes[1]}`);
      // Still there (a delete of something already gone would pass for any caller).
      expect((await admin().get(theirs.metadata.name ?? "", ns))?.metadata.uid).toBe(theirs.metadata.uid);
      const del = await statusOf(asAgent(asAgentOfA).delete(theirs.metadata.name ?? "", ns, { uid: theirs.metadata.uid }));
      expect(del.code).toBe(403);
      expect((await admin().get(theirs.metadata.name ?? "", ns))?.status?.current?.attachments).toBeUndefined();
    });

    it("lets it record on its own node's endpoint, but not move that endpoint to another node", async () => {
      const mine = await endpointOn(`mine-${id}`, nodes[0]);
      const written = await asAgent(asAgentOfA).replace(attach(mine));
      expect(written.status?.current?.attachments).toHaveLength(1);
      const moved = await statusOf(asAgent(asAgentOfA).replace(attach(written, { node: nodes[1] })));
      expect(moved.code).toBe(403);
      expect(moved.message).toContain(`may not move SpiderEndpoint ${ns}/mine-${id} to node ${nodes[1]}`);
    });

    it("refuses the agent's writes when its token names no node", async () => {
      const ep = await endpointOn(`unbound-${id}`, nodes[0]);
      const token = await serviceAccountToken(kc, tc.namespace, tc.identities?.agent.serviceAccount ?? "");
      const r = await statusOf(asAgent(tokenKubeConfig(kc, token)).replace(attach(ep)));
      expect(r.code).toBe(403);
      expect(r.message).toContain("must authenticate with a token bound to its Pod or Node");
    });
  });
});
