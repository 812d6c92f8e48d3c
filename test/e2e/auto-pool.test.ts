import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { parseIPList } from "../../ipam/address/iplist.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { SUBNET_PLURAL, type SpiderSubnet } from "../../ipam/kinds/subnet.js";
import { CustomResources } from "../../k8s/resources.js";
import { KWOK_NODE_ANNOTATION } from "../../local-cluster/cluster.js";
import { expectConsistent } from "../harness/consistency.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { refusal, testKubeConfig } from "../harness/kube.js";
import { assignedOf, createPod, podSpec } from "../../local-cluster/pods.js";

/** ipam.spidernet.io/subnet: each application gets its own pool carved from the subnet, sized to its replicas. */
describe("automatic per-application pools", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const node = `auto-kwok-${Date.now() % 100000}`;
  const pools = () => new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "autopool");
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNode({ body: { metadata: { name: node, annotations: { [KWOK_NODE_ANNOTATION]: "fake" } } } });
    await new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL).create({
      apiVersion: API_VERSION,
      kind: "SpiderSubnet",
      metadata: { name: "autopool-subnet", labels: tc.labels },
      spec: { subnet: "10.84.0.0/24", ips: ["10.84.0.10-10.84.0.40"], gateway: "10.84.0.1" },
    });
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

  const deployment = (name: string, replicas: number, annotations: Record<string, string>) => ({
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [{ name: "c", image: "example.invalid/c:1" }] } },
    },
  });
  const withAddresses = async (ns: string, app: string) =>
    (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items.filter((p) => p.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]);
  const uid5 = (uid: string | undefined) => (uid ?? "").split("-").pop()?.slice(0, 5) ?? "";

  it("creates the application's pool with replicas + spare addresses, grows it on scale-up, and keeps applications apart", async () => {
    const ns = await tc.createPodNamespace("auto");
    const annotations = { "ipam.spidernet.io/subnet": '{"ipv4":["autopool-subnet"]}', "ipam.spidernet.io/ippool-ip-number": "+1" };
    const d = await apps.createNamespacedDeployment({ namespace: ns, body: deployment("api", 3, annotations) });
    const name = `auto4-api-eth0-${uid5(d.metadata?.uid)}`;
    await waitFor("3 pods with addresses", async () => (await withAddresses(ns, "api")).length === 3, 60000);
    const pool = (await pools().get(name)) as SpiderIPPool;
    expect(pool.spec).toMatchObject({ subnet: "10.84.0.0/24", ipVersion: 4, ips: ["10.84.0.10-10.84.0.13"], gateway: "10.84.0.1", podAffinity: { matchLabels: { app: "api" } } });
    expect(pool.metadata.labels).toMatchObject({
      "ipam.spidernet.io/owner-application-kind": "Deployment",
      "ipam.spidernet.io/owner-application-name": "api",
      "ipam.spidernet.io/owner-spider-subnet": "autopool-subnet",
      "ipam.spidernet.io/ippool-reclaim": "true",
    });
    for (const p of await withAddresses(ns, "api")) expect(assignedOf(p).ips[0]?.ipv4Pool).toBe(name);

    await apps.patchNamespacedDeploymentScale({ name: "api", namespace: ns, body: { spec: { replicas: 5 } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    await waitFor("5 pods with addresses", async () => (await withAddresses(ns, "api")).length === 5, 60000);
    const grown = (await pools().get(name)) as SpiderIPPool;
    expect(Number(parseIPList(grown.spec.ips ?? [], 4).size())).toBe(6);

    // Another application of the same subnet gets addresses of its own.
    const other = await apps.createNamespacedDeployment({ namespace: ns, body: deployment("web", 2, annotations) });
    const otherName = `auto4-web-eth0-${uid5(other.metadata?.uid)}`;
    await waitFor("2 web pods with addresses", async () => (await withAddresses(ns, "web")).length === 2, 60000);
    const theirs = parseIPList((await pools().get(otherName))?.spec.ips ?? [], 4);
    expect(Number(theirs.size())).toBe(3);
    expect(theirs.overlaps(parseIPList(grown.spec.ips ?? [], 4))).toBe(false);
    const subnet = await waitFor("subnet status listing both pools", async () => {
      const s = await new CustomResources<SpiderSubnet>(kc, SUBNET_PLURAL).get("autopool-subnet");
      const c = s?.status?.controlledIPPools ?? {};
      return name in c && otherName in c ? s : undefined;
    });
    expect(subnet.status?.controlledIPPools?.[name]?.application).toBe(`Deployment/${ns}/api`);
  });

  it("refuses a bare pod asking for a subnet", async () => {
    const ns = await tc.createPodNamespace("autobare");
    const status = await refusal(createPod(kc, ns, podSpec("bare", { "ipam.spidernet.io/subnet": '{"ipv4":["autopool-subnet"]}' })));
    expect(status.message).toContain("a bare pod cannot use ipam.spidernet.io/subnet");
  });
});
