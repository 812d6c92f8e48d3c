import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { BatchV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { formatIP } from "../../ipam/address/ip.js";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { holders } from "../../ipam/allocation/state.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { historyBlock, parseHistory } from "../../ipam/lifecycle/address-history.js";
import type { ConsistencyReport } from "../../ipam/lifecycle/consistency.js";
import { CustomResources } from "../../k8s/resources.js";
import { historyObjectName } from "../../webhook/reconcile/history-writer.js";
import { KWOK_NODE_ANNOTATION } from "../../local-cluster/cluster.js";
import { consistencyOf } from "../../local-cluster/consistency.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPool, podSpec } from "../../local-cluster/pods.js";
import { expectConsistent } from "../harness/consistency.js";
import { operatorToken } from "../../local-cluster/tokens.js";
import { callController, servingCa } from "../harness/admission-client.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { kubectl, testKubeConfig } from "../harness/kube.js";

const POOL = "gc-pool";
const GRACE_DELAY_S = 3;

/**
 * Reclamation on the local control plane (kube-controller-manager, kube-scheduler, kwok):
 * the acceptance of issue 10. No agent runs here: every release is the controller's.
 */
describe("reclamation", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let core: CoreV1Api;
  let ns: string;
  const id = Math.random().toString(36).slice(2, 6);
  const kwokNode = `gc-kwok-${id}`;
  const pools = () => new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
  const endpoints = () => new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    core = kc.makeApiClient(CoreV1Api);
    tc = await startTestController(
      kc,
      "gc",
      {
        SPIDERPOOL_GC_ADDITIONAL_GRACE_DELAY: String(GRACE_DELAY_S),
        SPIDERPOOL_LEADER_LEASE_MS: "3000",
        SPIDERPOOL_LEADER_RENEW_DEADLINE_MS: "2000",
        SPIDERPOOL_LEADER_RETRY_PERIOD_MS: "500",
      },
      undefined,
      2,
    );
    await core.createNode({ body: { metadata: { name: kwokNode, annotations: { [KWOK_NODE_ANNOTATION]: "fake" }, labels: { type: "kwok" } } } });
    await createPool(kc, tc.labels, POOL, { subnet: "10.85.0.0/16", ips: ["10.85.0.10-10.85.3.250"] });
    ns = await tc.createPodNamespace("gc");
    await waitFor("a leader", () => Promise.resolve(tc.replicas.some((r) => r.isLeader())), 30_000);
  });

  afterAll(async () => {
    try {
      await expectConsistent(kc, tc.labels, 90_000);
    } finally {
      await core.deleteNode({ name: kwokNode }).catch(() => undefined);
      await tc.stop();
    }
  });

  /** The addresses the pool holds now, as text. */
  const held = async (): Promise<Set<string>> => {
    const p = (await pools().get(POOL)) as SpiderIPPool;
    const subnet = parseCIDR(p.spec.subnet);
    return new Set([...holders(decodeAllocations(p.status?.allocations, subnet))].map((h) => formatIP(subnet.family, h.address)));
  };
  const addressOf = (pod: V1Pod): string => (assignedOf(pod).ips[0]?.ipv4 ?? "").split("/")[0] ?? "";
  const onPool = { "ipam.spidernet.io/ippool": JSON.stringify({ ipv4: [POOL] }) };

  /** A bare Pod bound to `node`, once the controller has recorded it. */
  const boundPod = async (name: string, node: string, extraSpec: Partial<V1Pod["spec"]> = {}): Promise<V1Pod> => {
    const pod = await core.createNamespacedPod({ namespace: ns, body: podSpec(name, onPool, { nodeName: node, ...extraSpec }) });
    await waitFor(`endpoint of ${name}`, async () => (await endpoints().get(name, ns))?.status?.current?.uid === pod.metadata?.uid, 30_000, 100);
    return pod;
  };
  const gone = async (name: string): Promise<boolean> => (await core.listNamespacedPod({ namespace: ns, fieldSelector: `metadata.name=${name}` })).items.length === 0;

  it("frees a deleted Pod's address within 2 s of the Pod object being gone", async () => {
    const pod = await boundPod("deleted", kwokNode);
    const address = addressOf(pod);
    expect(await held()).toContain(address);
    await core.deleteNamespacedPod({ name: "deleted", namespace: ns, gracePeriodSeconds: 0 });
    await waitFor("the Pod object gone", () => gone("deleted"), 30_000, 20);
    const goneAt = Date.now();
    await waitFor(`${address} free`, async () => !(await held()).has(address), 10_000, 50);
    expect(Date.now() - goneAt).toBeLessThan(2000);
    // The address history records the holder, its uid and why it let go.
    const name = historyObjectName(POOL, historyBlock(parseCIDR(address + "/32").network - parseCIDR("10.85.0.0/16").network));
    const history = await waitFor("the release in the address history", async () => {
      const cm = await core.readNamespacedConfigMap({ name, namespace: tc.namespace }).catch(() => undefined);
      return parseHistory(cm?.data?.history).find((e) => e.address === address);
    }, 10_000, 200);
    expect(history).toMatchObject({ pod: `${ns}/deleted`, uid: pod.metadata?.uid, reason: "pod-deleted" });
  });

  it("releases the addresses of a Job's completed Pods", async () => {
    const job = `job-${id}`;
    await kc.makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: job },
        spec: {
          completions: 2,
          parallelism: 2,
          template: { metadata: { annotations: onPool }, spec: { restartPolicy: "Never", nodeName: kwokNode, containers: [{ name: "c", image: "example.invalid/c:1" }] } },
        },
      },
    });
    const done = await waitFor("2 Succeeded Pods", async () => {
      const list = (await core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${job}` })).items.filter((p) => p.status?.phase === "Succeeded");
      return list.length === 2 ? list : undefined;
    }, 120_000);
    const addresses = done.map(addressOf);
    await waitFor("the completed Pods' addresses free", async () => {
      const h = await held();
      return addresses.every((a) => !h.has(a));
    }, 30_000, 200);
    // The endpoint goes just after its addresses (the pool is written first).
    for (const p of done) await waitFor(`${p.metadata?.name ?? ""}'s endpoint gone`, async () => !(await endpoints().get(p.metadata?.name ?? "", ns)), 10_000, 100);
  });

  it("releases a terminating Pod on a NotReady node after its grace period plus the delay, not before; and a deleted node's Pods", async () => {
    // A node nobody runs (no kubelet, no kwok): its Pods stay terminating once deleted.
    const node = `gc-dead-${id}`;
    await core.createNode({ body: { metadata: { name: node } } });
    const notReady = { status: { conditions: [{ type: "Ready", status: "False", reason: "Test", message: "made NotReady by the test", lastHeartbeatTime: new Date(), lastTransitionTime: new Date() }] } };
    await core.patchNodeStatus({ name: node, body: notReady }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    const stuck = await boundPod("stuck", node, { tolerations: [{ operator: "Exists" }] });
    const kept = await boundPod("kept", node, { tolerations: [{ operator: "Exists" }] });
    const grace = 4;
    await core.deleteNamespacedPod({ name: "stuck", namespace: ns, gracePeriodSeconds: grace });
    const deadline = new Date((await core.readNamespacedPod({ name: "stuck", namespace: ns })).metadata?.deletionTimestamp ?? 0).getTime() + GRACE_DELAY_S * 1000;
    // Before the grace period and the delay are over, the address stays.
    await sleep(Math.max(0, deadline - Date.now() - 1500));
    expect(await held()).toContain(addressOf(stuck));
    await waitFor("the terminating Pod's address free", async () => !(await held()).has(addressOf(stuck)), 20_000, 100);
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    // The node goes: the Pods bound to it lose their addresses though their objects remain.
    expect(await held()).toContain(addressOf(kept));
    await core.deleteNode({ name: node });
    await waitFor("the deleted node's Pod's address free", async () => !(await held()).has(addressOf(kept)), 20_000, 100);
    await core.deleteNamespacedPod({ name: "stuck", namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core.deleteNamespacedPod({ name: "kept", namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
    const events = (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === "IPReleased").map((e) => e.message ?? "");
    expect(events.some((m) => m.endsWith("pod-terminating-notready-node"))).toBe(true);
    expect(events.some((m) => m.endsWith("node-deleted"))).toBe(true);
  });

  it("releases, at start-up, the addresses of 50 Pods deleted while no controller ran", async () => {
    const names = Array.from({ length: 50 }, (_, i) => `offline-${i}`);
    const pods = await Promise.all(names.map((n) => core.createNamespacedPod({ namespace: ns, body: podSpec(n, onPool, { nodeName: kwokNode }) })));
    await waitFor("50 endpoints", async () => (await endpoints().list()).items.filter((e) => e.metadata.namespace === ns && names.includes(e.metadata.name ?? "")).length === 50, 60_000);
    const addresses = pods.map(addressOf);
    for (const r of [...tc.replicas]) await tc.kill(r);
    await Promise.all(names.map((n) => core.deleteNamespacedPod({ name: n, namespace: ns, gracePeriodSeconds: 0 })));
    await waitFor("the 50 Pods gone", async () => (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => names.includes(p.metadata?.name ?? "")).length === 0, 60_000);
    expect([...(await held())].filter((a) => addresses.includes(a))).toHaveLength(50);
    for (let i = 0; i < 2; i++) await tc.addReplica();
    await waitFor("the 50 addresses free", async () => {
      const h = await held();
      return addresses.every((a) => !h.has(a));
    }, 60_000, 250);
    const report = await consistencyOf(kc, tc.labels);
    expect(report.leaked).toBe(0);
  });

  it("finishes a burst of 200 deletions on the other replica when the leader is killed", async () => {
    const names = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => core.createNamespacedPod({ namespace: ns, body: podSpec(n, onPool, { nodeName: kwokNode }) })));
    await waitFor("200 endpoints", async () => (await endpoints().list()).items.filter((e) => e.metadata.namespace === ns && (e.metadata.name ?? "").startsWith("burst-")).length === 200, 120_000, 500);
    const leader = await waitFor("a leader", () => Promise.resolve(tc.replicas.find((r) => r.isLeader())), 30_000);
    const deletions = Promise.all(names.map((n) => core.deleteNamespacedPod({ name: n, namespace: ns, gracePeriodSeconds: 0 })));
    await sleep(300);
    await tc.kill(leader);
    await deletions;
    await waitFor("the other replica leading", () => Promise.resolve(tc.replicas.some((r) => r.isLeader())), 30_000);
    await waitFor("no burst endpoint left", async () => (await endpoints().list()).items.filter((e) => e.metadata.namespace === ns && (e.metadata.name ?? "").startsWith("burst-")).length === 0, 90_000, 500);
    const report = await consistencyOf(kc, tc.labels);
    expect({ leaked: report.leaked, missing: report.missing, duplicates: report.duplicates }).toEqual({ leaked: 0, missing: 0, duplicates: 0 });
  });

  it("rebuilds a pool whose status was wiped, and hands out no address twice while Pods are created meanwhile", async () => {
    const before = Array.from({ length: 10 }, (_, i) => `wiped-${i}`);
    for (const n of before) await core.createNamespacedPod({ namespace: ns, body: podSpec(n, onPool, { nodeName: kwokNode }) });
    await waitFor("10 endpoints", async () => (await endpoints().list()).items.filter((e) => e.metadata.namespace === ns && (e.metadata.name ?? "").startsWith("wiped-")).length === 10, 60_000);
    await kubectl(["patch", "spiderippool", POOL, "--subresource=status", "--type=merge", "-p", '{"status":{"allocations":null,"allocatedIPCount":0}}']);
    // Pods created while the record is rebuilt: refused until then (the ReplicaSet way: try again).
    const after = Array.from({ length: 10 }, (_, i) => `during-${i}`);
    await Promise.all(
      after.map((n) =>
        waitFor(`${n} admitted`, async () => {
          await core.createNamespacedPod({ namespace: ns, body: podSpec(n, onPool, { nodeName: kwokNode }) });
          return true;
        }, 60_000, 200),
      ),
    );
    // Live Pods only: a finished or terminating Pod keeps its annotation after its address was released and handed on.
    const all = (await core.listNamespacedPod({ namespace: ns })).items.filter(
      (p) => p.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"] && !p.metadata.deletionTimestamp && !["Succeeded", "Failed"].includes(p.status?.phase ?? ""),
    );
    const addresses = all.map(addressOf);
    expect(new Set(addresses).size).toBe(addresses.length);
    await waitFor("the record rebuilt", async () => ((await pools().get(POOL))?.status?.allocatedIPCount ?? 0) >= all.length, 30_000);
    const report = await consistencyOf(kc, tc.labels);
    expect(report.duplicates).toBe(0);
  });

  it("serves the checker on GET /v1/consistency, runs a scan on POST /v1/gc on the leader, and counts releases by reason", async () => {
    const ca = await servingCa(kc, tc);
    const leader = await waitFor("a leader", () => Promise.resolve(tc.replicas.find((r) => r.isLeader())), 30_000);
    const follower = tc.replicas.find((r) => r !== leader);
    // Without a token the operator routes answer nobody; with one RBAC allows, they answer.
    expect((await callController(leader.port, "/v1/gc", "", { ca })).status).toBe(401);
    const token = await operatorToken(kc, tc.namespace);
    const call = (port: number, method: string, path: string, trusted: string) => callController(port, path, method === "POST" ? "" : undefined, { ca: trusted, method: method as "GET" | "POST", headers: { authorization: `Bearer ${token}` } });
    const got = await call(leader.port, "GET", "/v1/consistency", ca);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body)).toMatchObject({ leaked: expect.any(Number), missing: expect.any(Number), duplicates: expect.any(Number), pools: expect.any(Array) });
    const scanned = await call(leader.port, "POST", "/v1/gc", ca);
    expect(scanned.status).toBe(200);
    expect((JSON.parse(scanned.body) as ConsistencyReport).pools.find((p) => p.pool === POOL)).toMatchObject({ leaked: [], missing: [], duplicates: [] });
    if (follower) expect((await call(follower.port, "POST", "/v1/gc", ca)).status).toBe(503);
    const gauges = await leader.metrics.registry.getSingleMetricAsString("spiderpool_ip_gc_leaked_ip_counts");
    expect(gauges).toContain(`spiderpool_ip_gc_leaked_ip_counts{pool="${POOL}"} 0`);
    const counted = (await Promise.all(tc.replicas.map((r) => r.metrics.registry.getSingleMetricAsString("spiderpool_ip_gc_counts_total")))).join("\n");
    expect(counted).toMatch(/spiderpool_ip_gc_counts_total\{reason="pod-deleted"\} [1-9]/);
  });
});
