import { describe, expect, it } from "@jest/globals";
import { IPSet } from "../../../ipam/address/ipset.js";
import type { ObjectRef, Workload } from "../../../ipam/kinds/application.js";
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from "../../../ipam/kinds/cluster-config.js";
import type { SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import { ApplicationPools } from "../../../ipam/lifecycle/application-pools.js";
import { AutoPoolCarver } from "../../../ipam/lifecycle/auto-pool-carver.js";
import type { NodeLike } from "../../../ipam/placement/node-fit.js";
import type { ApplicationDirectory } from "../../../ipam/ports.js";
import { FakeClock } from "../../fakes/clock.js";
import { RecordingLog } from "../../fakes/log.js";
import { FakeStore, listCache } from "../../fakes/store.js";

/** Applications by kind/namespace/name, as the caches and the apiserver would answer. */
class FakeDirectory implements ApplicationDirectory {
  readonly objects = new Map<string, Workload>();
  readonly reads: string[] = [];
  private key = (r: Pick<ObjectRef, "kind" | "namespace" | "name">): string => `${r.kind}/${r.namespace}/${r.name}`;
  put(kind: string, w: Workload): Workload {
    this.objects.set(this.key({ kind, namespace: w.metadata.namespace ?? "", name: w.metadata.name ?? "" }), w);
    return w;
  }
  get(ref: ObjectRef): Promise<Workload | undefined> {
    return Promise.resolve(this.objects.get(this.key(ref)));
  }
  read(ref: ObjectRef): Promise<Workload | undefined> {
    this.reads.push(this.key(ref));
    return this.get(ref);
  }
}

const SUBNET = "ipam.spidernet.io/subnet";
const NUMBER = "ipam.spidernet.io/ippool-ip-number";

function setup(cluster: Partial<ClusterConfig> = {}, nodes: NodeLike[] = []) {
  const pools = new FakeStore<SpiderIPPool>();
  const subnets = new FakeStore<SpiderSubnet>();
  subnets.seed({ metadata: { name: "s4" }, spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.200"] } });
  subnets.seed({ metadata: { name: "s6" }, spec: { subnet: "fd00:6::/64", ips: ["fd00:6::10-fd00:6::ff"] } });
  const clock = new FakeClock();
  const carver = new AutoPoolCarver({ pools, subnets, poolCache: pools.cache(), reserved: (f) => IPSet.empty(f), clock, log: new RecordingLog() });
  const apps = new FakeDirectory();
  const service = new ApplicationPools({ carver, apps, nodes: listCache(nodes as never[]), cluster: () => ({ ...DEFAULT_CLUSTER_CONFIG, ...cluster }), limit: { count: 50, setting: "--auto-pool-max-ips" } });
  return { service, pools, apps };
}

const deployment = (annotations: Record<string, string>, replicas = 3, extra: Partial<Workload["metadata"]> = {}): Workload => ({
  metadata: { name: "web", namespace: "shop", uid: "dddd-00001", ...extra },
  spec: { replicas, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" }, annotations } } },
});

const sizes = (pools: FakeStore<SpiderIPPool>) => pools.all().map((p) => [p.metadata.name, p.spec.ips]);

describe("ApplicationPools at application admission", () => {
  it("sizes each NIC and enabled family's pool to replicas + N, or to the scale's replicas", async () => {
    const t = setup({ enableIPv6: true });
    await t.service.forApplication("Deployment", deployment({ [SUBNET]: '{"ipv4":["s4"],"ipv6":["s6"]}', [NUMBER]: "+2" }), { dryRun: false });
    expect(sizes(t.pools)).toEqual([
      ["auto4-web-eth0-00001", ["10.6.0.10-10.6.0.14"]],
      ["auto6-web-eth0-00001", ["fd00:6::10-fd00:6::14"]],
    ]);
    await t.service.forApplication("Deployment", deployment({ [SUBNET]: '{"ipv4":["s4"],"ipv6":["s6"]}', [NUMBER]: "+2" }), { replicas: 6, dryRun: false });
    expect(t.pools.peek("auto4-web-eth0-00001")?.spec.ips).toEqual(["10.6.0.10-10.6.0.17"]);
  });

  it("leaves alone an application owned by another, one that names no subnet, and every one with SpiderSubnet off", async () => {
    const t = setup();
    const owned = deployment({ [SUBNET]: '{"ipv4":["s4"]}' }, 2, { ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "x", controller: true }] });
    expect(await t.service.forApplication("ReplicaSet", owned, { dryRun: false })).toEqual([]);
    expect(await t.service.forApplication("Deployment", deployment({}), { dryRun: false })).toEqual([]);
    const off = setup({ enableSpiderSubnet: false });
    expect(await off.service.forApplication("Deployment", deployment({ [SUBNET]: '{"ipv4":["s4"]}' }), { dryRun: false })).toEqual([]);
    expect([...t.pools.all(), ...off.pools.all()]).toEqual([]);
  });

  it("refuses a size beyond the limit and a malformed annotation, carving nothing", async () => {
    const t = setup();
    await expect(t.service.forApplication("Deployment", deployment({ [SUBNET]: '{"ipv4":["s4"]}', [NUMBER]: "51" }), { dryRun: false })).rejects.toMatchObject({ code: "POOL_TOO_LARGE" });
    await expect(t.service.forApplication("Deployment", deployment({ [SUBNET]: '{"ipv4":["s4"]}' }), { replicas: 60, dryRun: false })).rejects.toThrow(/wants 60 Pods plus 1 spare/);
    await expect(t.service.forApplication("Deployment", deployment({ [SUBNET]: '{"ipv4":"s4"}' }), { dryRun: false })).rejects.toMatchObject({ code: "ANNOTATION_INVALID" });
    expect(t.pools.all()).toEqual([]);
  });

  it("sizes a DaemonSet to the nodes its template fits, and a CronJob to its Job template", async () => {
    const nodes = [{ metadata: { name: "a", labels: { role: "edge" } } }, { metadata: { name: "b", labels: { role: "edge" } } }, { metadata: { name: "c" } }];
    const t = setup({}, nodes);
    const ds: Workload = { metadata: { name: "agent", namespace: "sys", uid: "eeee-00002" }, spec: { selector: { matchLabels: { app: "agent" } }, template: { metadata: { annotations: { [SUBNET]: '{"ipv4":["s4"]}', [NUMBER]: "+0" } }, spec: { nodeSelector: { role: "edge" } } } } };
    expect((await t.service.forApplication("DaemonSet", ds, { dryRun: false }))[0]?.spec.ips).toEqual(["10.6.0.10-10.6.0.11"]);
    const cron: Workload = { metadata: { name: "nightly", namespace: "sys", uid: "ffff-00003" }, spec: { jobTemplate: { spec: { completions: 3, template: { metadata: { labels: { app: "nightly" }, annotations: { [SUBNET]: '{"ipv4":["s4"]}', [NUMBER]: "+1" } } } } } } };
    const [pool] = await t.service.forApplication("CronJob", cron, { dryRun: false });
    expect(pool?.spec).toMatchObject({ ips: ["10.6.0.12-10.6.0.15"], podAffinity: { matchLabels: { app: "nightly" } }, namespaceName: ["sys"] });
  });
});

describe("ApplicationPools at Pod admission", () => {
  const podOf = (annotations: Record<string, string>, owner?: { apiVersion: string; kind: string; name: string; uid: string }) => ({
    namespace: "shop",
    labels: { app: "web" },
    annotations,
    ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
  });

  it("follows a Pod's owners to its application (ReplicaSet to Deployment) and draws from that pool", async () => {
    const t = setup();
    const d = t.apps.put("Deployment", deployment({ [SUBNET]: '{"ipv4":["s4"]}', [NUMBER]: "+1" }));
    t.apps.put("ReplicaSet", { metadata: { name: "web-5d9f", namespace: "shop", uid: "rs-uid", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: d.metadata.uid ?? "", controller: true }] } });
    const pool = await t.service.forPod(podOf({ [SUBNET]: '{"ipv4":["s4"]}', [NUMBER]: "+1" }, { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d9f", uid: "rs-uid" }), "eth0", 4, ["s4"], false);
    expect(pool.metadata.labels?.["ipam.spidernet.io/owner-application-kind"]).toBe("Deployment");
    expect(pool.spec).toMatchObject({ ips: ["10.6.0.10-10.6.0.13"], podAffinity: { matchLabels: { app: "web" } } });
  });

  it("gives a third party's Pods a pool of the annotated size, bound by owner and namespace only", async () => {
    const t = setup();
    const owner = { apiVersion: "example.com/v1", kind: "Widget", name: "w", uid: "wwww-00004" };
    t.apps.put("Widget", { metadata: { name: "w", namespace: "shop", uid: owner.uid }, spec: { selector: "anything" as never } });
    const pool = await t.service.forPod(podOf({ [SUBNET]: '{"ipv4":["s4"]}', [NUMBER]: "4" }, owner), "eth0", 4, ["s4"], false);
    expect(pool.spec.ips).toEqual(["10.6.0.10-10.6.0.13"]);
    expect(pool.spec.podAffinity).toBeUndefined();
    expect(pool.metadata.labels).toMatchObject({ "ipam.spidernet.io/owner-application-kind": "Widget", "ipam.spidernet.io/owner-application-gv": "example.com_v1" });
  });

  it("does not read an owner that is another object of the same name (uid differs), and refuses a bare Pod", async () => {
    const t = setup();
    t.apps.put("Deployment", deployment({ [SUBNET]: '{"ipv4":["s4"]}' }, 9));
    const pool = await t.service.forPod(podOf({ [SUBNET]: '{"ipv4":["s4"]}' }, { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "not-that-one" }), "eth0", 4, ["s4"], false);
    expect(pool.metadata.labels?.["ipam.spidernet.io/owner-application-uid"]).toBe("not-that-one");
    expect(pool.spec.ips).toEqual(["10.6.0.10-10.6.0.11"]);
    await expect(t.service.forPod(podOf({ [SUBNET]: '{"ipv4":["s4"]}' }), "eth0", 4, ["s4"], false)).rejects.toThrow(/a bare pod cannot use ipam.spidernet.io\/subnet/);
  });
});
