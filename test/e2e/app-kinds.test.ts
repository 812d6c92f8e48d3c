import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { apply, applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";
import {
  apis,
  createKwokNodes,
  cronJobBody,
  daemonSetBody,
  deleteNodes,
  failedCreates,
  jobBody,
  ownedPod,
  poolSize,
  poolsOfApp,
  runningWithAddresses,
  statefulSetBody,
  subnetHanded,
} from "../harness/workloads.js";

const SUBNET = "ipam.spidernet.io/subnet";
const IP_NUMBER = "ipam.spidernet.io/ippool-ip-number";
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/**
 * Every kind of application gets an automatic pool sized to it and reclaimed with it, with
 * real controllers: StatefulSet, DaemonSet (on three kwok nodes), Job, a CronJob's run, and
 * a third-party controller (a custom resource owning bare Pods).
 */
describe("automatic pools for every kind of application", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let a: ReturnType<typeof apis>;
  const nodes = ["appkinds-kwok-1", "appkinds-kwok-2", "appkinds-kwok-3"];
  const subnetName = "appkinds-subnet";
  const ann = (n: string) => ({ [SUBNET]: `{"ipv4":["${subnetName}"]}`, [IP_NUMBER]: n });
  const pool = async (uid: string | undefined) => (await poolsOfApp(kc, uid ?? ""))[0];
  const gone = (uid: string | undefined) => waitFor("the pool gone", async () => (await poolsOfApp(kc, uid ?? "")).length === 0, 120000);
  const sizeBecomes = (uid: string | undefined, n: number) => waitFor(`a pool of ${n}`, async () => poolSize(await pool(uid)) === n, 90000);
  let before: number | undefined;

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    // The third-party owner (a Widget) is read as an operator allows it: controller.extraRules (docs/install.md).
    const extraRules = [{ apiGroups: ["apppools.example.com"], resources: ["widgets"], verbs: ["get"] }];
    tc = await startTestController(kc, "appkinds", { SPIDERPOOL_RESERVATION_TTL_MS: "4000", SPIDERPOOL_AUTO_POOL_RESYNC_MS: "5000" }, undefined, 1, { chartValues: { controller: { extraRules } } });
    a = apis(kc);
    await createKwokNodes(kc, nodes, { "appkinds/ds": "yes" });
    await a.subnets.create({
      apiVersion: API_VERSION,
      kind: "SpiderSubnet",
      metadata: { name: subnetName, labels: tc.labels },
      spec: { subnet: "10.111.0.0/24", ips: ["10.111.0.10-10.111.0.250"] },
    });
    before = await waitFor("the subnet's status", async () => {
      const n = await subnetHanded(kc, subnetName);
      return n === undefined ? undefined : { n };
    }).then((x) => x.n);
  });
  afterAll(async () => {
    await deleteNodes(kc, nodes);
    await tc.stop();
  });

  it("StatefulSet: 3 +1 is 4, 5 is 6, back to 2 is 3 once the removed ordinals are released, and goes with it", async () => {
    const ns = await tc.createPodNamespace("sts");
    const sts = await a.apps.createNamespacedStatefulSet({ namespace: ns, body: statefulSetBody("db", 3, ann("+1")) });
    expect(poolSize(await pool(sts.metadata?.uid))).toBe(4);
    await waitFor("3 running", async () => (await runningWithAddresses(kc, ns, "app=db")).length === 3, 120000);
    await a.apps.patchNamespacedStatefulSetScale({ name: "db", namespace: ns, body: { spec: { replicas: 5 } } }, merge);
    expect(poolSize(await pool(sts.metadata?.uid))).toBe(6);
    await waitFor("5 running", async () => (await runningWithAddresses(kc, ns, "app=db")).length === 5, 120000);
    await a.apps.patchNamespacedStatefulSetScale({ name: "db", namespace: ns, body: { spec: { replicas: 2 } } }, merge);
    await sizeBecomes(sts.metadata?.uid, 3);
    expect(await failedCreates(kc, ns)).toEqual([]);
    await a.apps.deleteNamespacedStatefulSet({ name: "db", namespace: ns, propagationPolicy: "Background" });
    await gone(sts.metadata?.uid);
  });

  it("DaemonSet on three kwok nodes: a pool of 3 +1, one Pod per node without added affinity, gone with it", async () => {
    const ns = await tc.createPodNamespace("ds");
    const ds = await a.apps.createNamespacedDaemonSet({ namespace: ns, body: daemonSetBody("agent", ann("+1"), { "appkinds/ds": "yes" }) });
    expect(poolSize(await pool(ds.metadata?.uid))).toBe(4);
    const pods = await waitFor("3 running", async () => {
      const r = await runningWithAddresses(kc, ns, "app=agent");
      return r.length === 3 ? r : undefined;
    }, 120000);
    expect(new Set(pods.map((p) => p.spec?.nodeName))).toEqual(new Set(nodes));
    for (const p of pods) expect(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toHaveLength(1);
    await a.apps.deleteNamespacedDaemonSet({ name: "agent", namespace: ns, propagationPolicy: "Background" });
    await gone(ds.metadata?.uid);
  });

  it("DaemonSet on node-affine pools: each Pod gets the pool of its node, and keeps the affinity the DaemonSet gave it", async () => {
    const ns = await tc.createPodNamespace("dsrack");
    await createPool(kc, tc.labels, "appkinds-rack-a", { subnet: "10.112.0.0/24", ips: ["10.112.0.10-10.112.0.19"], nodeName: [nodes[0] ?? "", nodes[1] ?? ""] });
    await createPool(kc, tc.labels, "appkinds-rack-b", { subnet: "10.112.1.0/24", ips: ["10.112.1.10-10.112.1.19"], nodeName: [nodes[2] ?? ""] });
    await a.apps.createNamespacedDaemonSet({ namespace: ns, body: daemonSetBody("rack", { "ipam.spidernet.io/ippool": '{"ipv4":["appkinds-rack-a","appkinds-rack-b"]}' }, { "appkinds/ds": "yes" }) });
    const pods = await waitFor("3 running", async () => {
      const r = await runningWithAddresses(kc, ns, "app=rack");
      return r.length === 3 ? r : undefined;
    }, 120000);
    for (const p of pods) expect(assignedOf(p).ips[0]?.ipv4Pool).toBe(p.spec?.nodeName === nodes[2] ? "appkinds-rack-b" : "appkinds-rack-a");
    expect(await failedCreates(kc, ns)).toEqual([]);
    await a.apps.deleteNamespacedDaemonSet({ name: "rack", namespace: ns, propagationPolicy: "Background" });
  });

  it("Job: completions 3 +1 is 4; its Pods finish and release; deleted, its pool goes", async () => {
    const ns = await tc.createPodNamespace("job");
    const job = await a.batch.createNamespacedJob({ namespace: ns, body: jobBody("batch", 3, ann("+1")) });
    expect(poolSize(await pool(job.metadata?.uid))).toBe(4);
    await waitFor("the Job complete", async () => (await a.batch.readNamespacedJob({ name: "batch", namespace: ns })).status?.succeeded === 3, 120000);
    await a.batch.deleteNamespacedJob({ name: "batch", namespace: ns, propagationPolicy: "Background" });
    await gone(job.metadata?.uid);
  });

  it("CronJob: a run draws from the CronJob's pool; deleted, its pool goes", async () => {
    const ns = await tc.createPodNamespace("cron");
    const cron = await a.batch.createNamespacedCronJob({ namespace: ns, body: cronJobBody("nightly", 2, ann("+1")) });
    expect(poolSize(await pool(cron.metadata?.uid))).toBe(3);
    // A run, as `kubectl create job --from=cronjob/nightly` makes it.
    const template = cron.spec?.jobTemplate;
    await a.batch.createNamespacedJob({
      namespace: ns,
      body: { metadata: { name: "nightly-run", ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "nightly", uid: cron.metadata?.uid ?? "", controller: true }] }, spec: template?.spec },
    });
    await waitFor("the run complete", async () => (await a.batch.readNamespacedJob({ name: "nightly-run", namespace: ns })).status?.succeeded === 2, 120000);
    const poolName = (await pool(cron.metadata?.uid))?.metadata.name;
    const events = (await a.core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === "IPReserved");
    expect(events.length).toBe(2);
    for (const e of events) expect(e.message).toContain("10.111.0.");
    expect(poolName).toMatch(/^auto4-nightly-eth0-/);
    await a.batch.deleteNamespacedCronJob({ name: "nightly", namespace: ns, propagationPolicy: "Background" });
    await gone(cron.metadata?.uid);
  });

  it("third-party controller: a custom resource's bare Pods get a pool of the fixed size, reclaimed when the owner is gone", async () => {
    const ns = await tc.createPodNamespace("crd");
    await apply(kc, [
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "widgets.apppools.example.com" },
        spec: {
          group: "apppools.example.com",
          names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
          scope: "Namespaced",
          versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
        },
      } as KubernetesObject,
    ]);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const widget = await waitFor("the Widget kind served", () =>
      custom.createNamespacedCustomObject({ group: "apppools.example.com", version: "v1", namespace: ns, plural: "widgets", body: { apiVersion: "apppools.example.com/v1", kind: "Widget", metadata: { name: "w" } } }).catch(() => undefined),
    ) as { metadata: { name: string; uid: string } };
    const owner = { apiVersion: "apppools.example.com/v1", kind: "Widget", name: "w", uid: widget.metadata.uid };
    for (const i of [0, 1]) await createPod(kc, ns, ownedPod(`w-${i}`, owner, { app: "w" }, ann("3")));
    expect(poolSize(await pool(widget.metadata.uid))).toBe(3);
    await custom.deleteNamespacedCustomObject({ group: "apppools.example.com", version: "v1", namespace: ns, plural: "widgets", name: "w" });
    await gone(widget.metadata.uid);
  });

  it("has given the subnet all its addresses back", async () => {
    await waitFor("the subnet back where it was", async () => (await subnetHanded(kc, subnetName)) === before, 60000);
  });
});
