import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { allocatedCount } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { CustomResources } from "../../k8s/resources.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, createNamespace, waitFor } from "../../local-cluster/kube.js";
import { kubectl, refusal, testKubeConfig, userKubeConfig } from "../harness/kube.js";
import { assignedOf, createPod, createPool, macvlanNad, nadStore, podSpec } from "../../local-cluster/pods.js";

const IPPOOL = "ipam.spidernet.io/ippool";

/** Pod admission: one test per way of choosing a pool, each asserting the annotation and the record. */
describe("Pod admission", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let core: CoreV1Api;
  let pools: CustomResources<SpiderIPPool>;
  let endpoints: CustomResources<SpiderEndpoint>;
  const held = async (pool: string): Promise<number> => {
    const p = (await pools.get(pool)) as SpiderIPPool;
    return allocatedCount(decodeAllocations(p.status?.allocations, parseCIDR(p.spec.subnet)));
  };
  const boundEndpoint = (name: string, ns: string) =>
    waitFor(`endpoint ${ns}/${name}`, async () => {
      const ep = await endpoints.get(name, ns);
      return ep?.status?.current ? ep : undefined;
    });

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "podadm", { SPIDERPOOL_RESERVATION_TTL_MS: "3000", SPIDERPOOL_COOL_DOWN_MS: "0" });
    core = kc.makeApiClient(CoreV1Api);
    pools = new CustomResources(kc, IPPOOL_PLURAL);
    endpoints = new CustomResources(kc, ENDPOINT_PLURAL, true);
    const p = (name: string, spec: Parameters<typeof createPool>[3]) => createPool(kc, tc.labels, name, spec);
    await p("podadm-v4", { subnet: "10.70.0.0/24", ips: ["10.70.0.10-10.70.0.19"], gateway: "10.70.0.1" });
    await p("podadm-v6", { subnet: "fd00:70::/64", ips: ["fd00:70::10-fd00:70::1f"], gateway: "fd00:70::1" });
    await p("podadm-net1", { subnet: "10.71.0.0/24", ips: ["10.71.0.10-10.71.0.19"], routes: [{ dst: "172.20.0.0/16", gw: "10.71.0.1" }], vlan: 71 });
    await p("podadm-nsdefault", { subnet: "10.72.0.0/24", ips: ["10.72.0.10-10.72.0.19"] });
    await p("podadm-tiny", { subnet: "10.73.0.0/24", ips: ["10.73.0.10"] });
    await p("podadm-next", { subnet: "10.74.0.0/24", ips: ["10.74.0.10-10.74.0.19"] });
    await p("podadm-rack1", { subnet: "10.75.0.0/24", ips: ["10.75.0.10-10.75.0.19"], nodeAffinity: { matchLabels: { "topology.example/rack": "rack1" } } });
    await p("podadm-rack2", { subnet: "10.76.0.0/24", ips: ["10.76.0.10-10.76.0.19"], nodeAffinity: { matchLabels: { "topology.example/rack": "rack2" } } });
    await p("podadm-team", { subnet: "10.77.0.0/24", ips: ["10.77.0.10-10.77.0.19"], namespaceName: ["team-only"] });
    await p("podadm-quota", { subnet: "10.78.0.0/24", ips: ["10.78.0.10-10.78.0.19"] });
    await p("podadm-dry", { subnet: "10.79.0.0/24", ips: ["10.79.0.10-10.79.0.19"] });
    // net1's network: its IPAM is spiderpool, so the NIC is Spiderpool's.
    await nadStore(kc).create(macvlanNad("kube-system", "podadm-macvlan-b", { type: "spiderpool" }));
  });
  afterAll(() => tc.stop());

  it("reserves from the pool named by ipam.spidernet.io/ippool, records a SpiderEndpoint and an Event", async () => {
    const ns = await tc.createPodNamespace("ippool");
    const pod = await createPod(kc, ns, podSpec("web", { [IPPOOL]: '{"ipv4":["podadm-v4"]}' }));
    const a = assignedOf(pod);
    expect(a.ips).toEqual([{ interface: "eth0", ipv4: "10.70.0.10/24", ipv4Pool: "podadm-v4", ipv4Gateway: "10.70.0.1", ipv4Token: expect.any(Number) }]);
    const ep = await boundEndpoint("web", ns);
    expect(ep.status?.current).toMatchObject({ uid: pod.metadata?.uid, reservation: a.reservation, ips: a.ips });
    expect(ep.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Pod", name: "web", uid: pod.metadata?.uid });
    expect(ep.status?.ownerControllerType).toBe("Pod");
    let seen: string[] = [];
    const events = await waitFor("IPReserved event", async () => {
      const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: "involvedObject.name=web" });
      seen = list.items.map((e) => `${e.reason ?? ""}: ${e.message ?? ""}`);
      return list.items.find((e) => e.reason === "IPReserved");
    }).catch(async (err: unknown) => {
      // This wait failed twice in full runs and never alone: say what there was, for the next look.
      const p = (await pools.get("podadm-v4")) as SpiderIPPool;
      throw new Error(`${(err as Error).message}; events of the Pod: ${JSON.stringify(seen)}; pool record: ${p.status?.allocations ?? "(none)"}; reservation ${a.reservation}`);
    });
    expect(events.message).toContain("eth0 10.70.0.10/24");
  });

  it("gives each NIC of a multi-NIC pod its own pool, with the pool's routes and vlan", async () => {
    const ns = await tc.createPodNamespace("multinic");
    const pod = await createPod(
      kc,
      ns,
      podSpec("two-nics", {
        "k8s.v1.cni.cncf.io/networks": "kube-system/podadm-macvlan-b",
        "ipam.spidernet.io/ippools": '[{"interface":"eth0","ipv4":["podadm-v4"]},{"interface":"net1","ipv4":["podadm-net1"],"cleangateway":true}]',
      }),
    );
    const ips = assignedOf(pod).ips;
    expect(ips.map((n) => [n.interface, n.ipv4Pool])).toEqual([
      ["eth0", "podadm-v4"],
      ["net1", "podadm-net1"],
    ]);
    expect(ips[1]).toMatchObject({ ipv4: "10.71.0.10/24", vlan: 71, cleanGateway: true, routes: [{ dst: "172.20.0.0/16", gw: "10.71.0.1" }] });
    await boundEndpoint("two-nics", ns);
  });

  it("honours a pinned address and refuses the same pin for a second pod", async () => {
    const ns = await tc.createPodNamespace("pinned");
    const pin = { [IPPOOL]: '{"ipv4":["podadm-v4"]}', "ipam.spidernet.io/ips": '[{"interface":"eth0","ipv4":"10.70.0.17"}]' };
    const pod = await createPod(kc, ns, podSpec("pinned", pin));
    expect(assignedOf(pod).ips[0]?.ipv4).toBe("10.70.0.17/24");
    const status = await refusal(createPod(kc, ns, podSpec("pinned-again", pin)));
    expect(status.message).toContain("10.70.0.17 in pool podadm-v4 is in use");
    const outside = await refusal(createPod(kc, ns, podSpec("pinned-outside", { [IPPOOL]: '{"ipv4":["podadm-v4"]}', "ipam.spidernet.io/ips": '[{"interface":"eth0","ipv4":"10.99.0.1"}]' })));
    expect(outside.message).toContain("pins 10.99.0.1 for eth0, but no pool it may use holds it (candidates: podadm-v4)");
  });

  it("uses the namespace's default pool when the pod names none", async () => {
    const ns = await tc.createPodNamespace("nsdefault", {}, { "ipam.spidernet.io/default-ipv4-ippool": '["podadm-nsdefault"]' });
    const pod = await createPod(kc, ns, podSpec("plain"));
    expect(assignedOf(pod).ips[0]).toMatchObject({ interface: "eth0", ipv4: "10.72.0.10/24", ipv4Pool: "podadm-nsdefault" });
  });

  it("falls back from a full pool to the next candidate, and names every full pool when all are", async () => {
    const ns = await tc.createPodNamespace("fallback");
    const both = { [IPPOOL]: '{"ipv4":["podadm-tiny","podadm-next"]}' };
    expect(assignedOf(await createPod(kc, ns, podSpec("first", both))).ips[0]?.ipv4Pool).toBe("podadm-tiny");
    expect(assignedOf(await createPod(kc, ns, podSpec("second", both))).ips[0]?.ipv4Pool).toBe("podadm-next");
    const status = await refusal(createPod(kc, ns, podSpec("third", { [IPPOOL]: '{"ipv4":["podadm-tiny"]}' })));
    expect(status.message).toMatch(/pod fallback-\w+\/third cannot get an address: no IPv4 address for eth0: pool podadm-tiny has 0 of 1 addresses free \(1 allocated\); add addresses to those pools or name another pool/);
  });

  it("adds a node-affine pool's node affinity to the pod, and picks the pool of a node the pod names", async () => {
    const ns = await tc.createPodNamespace("rack");
    const racks = { [IPPOOL]: '{"ipv4":["podadm-rack1","podadm-rack2"]}' };
    const pod = await createPod(kc, ns, podSpec("unscheduled", racks));
    expect(assignedOf(pod).ips[0]?.ipv4Pool).toBe("podadm-rack1");
    expect(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: "topology.example/rack", operator: "In", values: ["rack1"] }] },
    ]);

    const node = `podadm-node-${Date.now() % 100000}`;
    await core.createNode({ body: { metadata: { name: node, labels: { "topology.example/rack": "rack2" } } } });
    try {
      await waitFor("node in the controller's cache", async () => {
        // A dry run answers with what a real admission would choose, reserving nothing.
        const dry = await core.createNamespacedPod({ namespace: ns, body: podSpec("probe", racks, { nodeName: node }), dryRun: "All" });
        return assignedOf(dry).ips[0]?.ipv4Pool === "podadm-rack2";
      });
      const pinnedToNode = await createPod(kc, ns, podSpec("on-node", racks, { nodeName: node }));
      expect(assignedOf(pinnedToNode).ips[0]?.ipv4Pool).toBe("podadm-rack2");
      expect(pinnedToNode.spec?.affinity).toBeUndefined();
    } finally {
      await core.deleteNode({ name: node });
    }
  });

  it("gives a dual-stack pod one address of each family", async () => {
    // A cluster with enableIPv6: every pod then needs an IPv6 address too.
    const dualStack = await startTestController(kc, "podadm6", {}, "enableIPv4: true\nenableIPv6: true\n");
    try {
      const ns = await dualStack.createPodNamespace("dual");
      const pod = await createPod(kc, ns, podSpec("dual", { [IPPOOL]: '{"ipv4":["podadm-v4"],"ipv6":["podadm-v6"]}' }));
      const nic = assignedOf(pod).ips[0];
      expect(nic).toMatchObject({ interface: "eth0", ipv4Pool: "podadm-v4", ipv6: "fd00:70::10/64", ipv6Pool: "podadm-v6", ipv6Gateway: "fd00:70::1" });
      expect(nic?.ipv4).toMatch(/^10\.70\.0\.1\d\/24$/);
      const ep = await boundEndpoint("dual", ns);
      expect(ep.status?.current?.ips).toEqual(assignedOf(pod).ips);
      const v4only = await refusal(createPod(kc, ns, podSpec("v4-only", { [IPPOOL]: '{"ipv4":["podadm-v4"]}' })));
      expect(v4only.message).toContain("names no IPv6 pool for eth0, but IPv6 is enabled");
    } finally {
      await dualStack.stop();
    }
  });

  it("refuses, with a sentence, a malformed annotation, an unknown pool and a pool the pod may not use", async () => {
    const ns = await tc.createPodNamespace("refused");
    const bad = await refusal(createPod(kc, ns, podSpec("bad", { [IPPOOL]: '{"ipv4":"podadm-v4"}' })));
    expect(bad.code).toBe(422);
    expect(bad.message).toContain(`annotation ${IPPOOL} has value '{"ipv4":"podadm-v4"}'`);
    const unknown = await refusal(createPod(kc, ns, podSpec("unknown", { [IPPOOL]: '{"ipv4":["no-such-pool"]}' })));
    expect(unknown.message).toContain("no-such-pool does not exist");
    const forbidden = await refusal(createPod(kc, ns, podSpec("forbidden", { [IPPOOL]: '{"ipv4":["podadm-team"]}' })));
    expect(forbidden.message).toMatch(/podadm-team .*team-only/);
  });

  it("shows the address a server-side dry run would get and reserves nothing", async () => {
    const ns = await tc.createPodNamespace("dryrun");
    const before = await held("podadm-dry");
    const yaml = await kubectl(["create", "--dry-run=server", "-o", "yaml", "-n", ns, "-f", "-"], JSON.stringify(podSpec("preview", { [IPPOOL]: '{"ipv4":["podadm-dry"]}' })));
    expect(yaml).toContain("ipam.spidernet.io/assigned-ips");
    expect(yaml).toContain("10.79.0.10/24");
    expect(await held("podadm-dry")).toBe(before);
    expect(before).toBe(0);
  });

  it("releases, within the TTL, the reservation of a pod a later admission step refused", async () => {
    const ns = await tc.createPodNamespace("quota");
    await core.createNamespacedResourceQuota({ namespace: ns, body: { metadata: { name: "one-pod" }, spec: { hard: { pods: "1" } } } });
    // The quota controller (kube-controller-manager) is not running in this tier: set the
    // quota's usage by hand so the apiserver's ResourceQuota admission enforces it.
    await waitFor("quota usage accepted", async () => {
      const q = await core.readNamespacedResourceQuota({ name: "one-pod", namespace: ns });
      q.status = { hard: { pods: "1" }, used: { pods: "1" } };
      await core.replaceNamespacedResourceQuotaStatus({ name: "one-pod", namespace: ns, body: q });
      return true;
    });
    const status = await refusal(createPod(kc, ns, podSpec("over-quota", { [IPPOOL]: '{"ipv4":["podadm-quota"]}' })));
    expect(status.message).toContain("exceeded quota");
    // The webhook had reserved an address before the quota said no.
    expect(await held("podadm-quota")).toBe(1);
    await waitFor("reservation released after its TTL", async () => (await held("podadm-quota")) === 0, 20000);
  });

  it("refuses a change of assigned-ips by anyone but the system", async () => {
    const ns = await tc.createPodNamespace("tamper");
    const pod = await createPod(kc, ns, podSpec("victim", { [IPPOOL]: '{"ipv4":["podadm-v4"]}' }));
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "pod-editor" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "update", "patch"] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: { metadata: { name: "pod-editor" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-editor" }, subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "tamperer" }] },
    });
    const tamperer = userKubeConfig("tamperer").makeApiClient(CoreV1Api);
    const forged = JSON.stringify({ ...assignedOf(pod), ips: [{ ...assignedOf(pod).ips[0], ipv4: "10.70.0.99/24" }] });
    const current = (await tamperer.readNamespacedPod({ name: "victim", namespace: ns }));
    current.metadata = { ...current.metadata, annotations: { ...current.metadata?.annotations, "ipam.spidernet.io/assigned-ips": forged } };
    const status = await refusal(tamperer.replaceNamespacedPod({ name: "victim", namespace: ns, body: current }));
    expect(status.message).toContain("annotation ipam.spidernet.io/assigned-ips is written by Spiderpool only");
    expect(status.message).toContain("tamperer changed it");
    // Other annotations stay the user's business.
    const fresh = (await tamperer.readNamespacedPod({ name: "victim", namespace: ns }));
    fresh.metadata = { ...fresh.metadata, annotations: { ...fresh.metadata?.annotations, note: "fine" } };
    await expect(tamperer.replaceNamespacedPod({ name: "victim", namespace: ns, body: fresh })).resolves.toBeDefined();
  });

  it("does not bind an annotation copied from another pod where the webhook does not look", async () => {
    const ns = await tc.createPodNamespace("original");
    const original = await createPod(kc, ns, podSpec("original", { [IPPOOL]: '{"ipv4":["podadm-v4"]}' }));
    await boundEndpoint("original", ns);
    // A namespace the Pod webhooks do not see: nothing strips the copied annotation.
    const elsewhere = await createNamespace(kc, "copycat");
    const copied = original.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"] ?? "";
    await createPod(kc, elsewhere, podSpec("copycat", { "ipam.spidernet.io/assigned-ips": copied }));
    const warning = await waitFor("a mismatch warning", async () => {
      const list = await core.listNamespacedEvent({ namespace: elsewhere, fieldSelector: "involvedObject.name=copycat" });
      return list.items.find((e) => e.reason === "AssignedIPsMismatch");
    });
    expect(warning.message).toContain("is not pending for reservation");
    expect(await endpoints.get("copycat", elsewhere)).toBeUndefined();
  });

  it("counts allocations and refusals in its metrics", async () => {
    const text = await tc.controller.metrics.registry.metrics();
    expect(text).toMatch(/spiderpool_ipam_allocation_counts_total \d+/);
    expect(text).toMatch(/spiderpool_ipam_allocation_failure_counts_total\{reason="POOL_EXHAUSTED"\} [1-9]/);
    expect(text).toMatch(/spiderpool_ipam_allocation_duration_seconds_count [1-9]/);
  });
});
