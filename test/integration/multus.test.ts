import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { API_VERSION, GROUP, VERSION } from "../../ipam/kinds/meta.js";
import { MULTUS_CONFIG_PLURAL, type SpiderMultusConfig } from "../../ipam/kinds/multus-config.js";
import { CustomResources } from "../../k8s/resources.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { assignedOf, createPod, createPool, macvlanNad, nadStore, podSpec } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { refusal, testKubeConfig } from "../harness/kube.js";

const NETWORKS = "k8s.v1.cni.cncf.io/networks";

/**
 * Admission that knows which NICs are Spiderpool's, with eth0 served by another plugin
 * (--primary-network other): NetworkAttachmentDefinitions decide, their CNI config's default
 * pools apply, and the limits refuse before anything is taken.
 */
describe("Multus networks at Pod admission", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let ns: string;
  const pools = (): CustomResources<SpiderIPPool> => new CustomResources(kc, IPPOOL_PLURAL);
  /**
   * Every pool's held addresses and token counter ("v1;<nextToken>;<runs>", the allocation
   * record without its pending list), to show that a refusal took nothing. The pending list is
   * left out: the binder may bind an earlier test's reservation at any moment.
   */
  const records = async (): Promise<Record<string, string | undefined>> => {
    const list: SpiderIPPool[] = (await pools().list()).items;
    const held = (p: SpiderIPPool): string | undefined => p.status?.allocations?.split(";").slice(0, 3).join(";");
    return Object.fromEntries(list.filter((p) => p.metadata.name?.startsWith("multus-")).map((p) => [p.metadata.name ?? "", held(p)]));
  };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "multus", { SPIDERPOOL_PRIMARY_NETWORK: "other" });
    await createPool(kc, tc.labels, "multus-default", { subnet: "10.90.0.0/24", ips: ["10.90.0.10-10.90.0.59"] });
    await createPool(kc, tc.labels, "multus-p", { subnet: "10.91.0.0/24", ips: ["10.91.0.10-10.91.0.59"] });
    ns = await tc.createPodNamespace("multus");
    const nads = nadStore(kc);
    // Pools come from the NADs' defaults (not default: true pools, which every test file's controller would see).
    await nads.create(macvlanNad(ns, "macvlan-a", { type: "spiderpool", default_ipv4_ippool: ["multus-default"] }));
    await nads.create(macvlanNad(ns, "other-net", { type: "host-local", ranges: [[{ subnet: "192.168.9.0/24" }]] }));
    await nads.create(macvlanNad(ns, "with-default", { type: "spiderpool", default_ipv4_ippool: ["multus-p"] }));
  });
  afterAll(() => tc.stop());

  it("admits a plain Pod untouched", async () => {
    const pod = await createPod(kc, ns, podSpec("plain"));
    expect(pod.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]).toBeUndefined();
  });

  it("reserves for net1 only when macvlan-a uses spiderpool and other-net does not", async () => {
    const pod = await createPod(kc, ns, podSpec("two-nets", { [NETWORKS]: "macvlan-a, other-net" }));
    expect(assignedOf(pod).ips).toEqual([expect.objectContaining({ interface: "net1", ipv4Pool: "multus-default" })]);
  });

  it("takes the pool of the NAD's default_ipv4_ippool with no pool annotation", async () => {
    const pod = await createPod(kc, ns, podSpec("nad-default", { [NETWORKS]: "with-default" }));
    expect(assignedOf(pod).ips).toEqual([expect.objectContaining({ interface: "net1", ipv4Pool: "multus-p", ipv4: expect.stringMatching(/^10\.91\.0\.\d+\/24$/) })]);
  });

  it("looks a NAD up live when it was created a moment before the Pod", async () => {
    await nadStore(kc).create(macvlanNad(ns, "fresh", { type: "spiderpool", default_ipv4_ippool: ["multus-p"] }));
    const pod = await createPod(kc, ns, podSpec("fresh-nad", { [NETWORKS]: "fresh" }));
    expect(assignedOf(pod).ips[0]).toMatchObject({ interface: "net1", ipv4Pool: "multus-p" });
  });

  it("admits a Pod naming a network that does not exist, reserving nothing for it", async () => {
    const pod = await createPod(kc, ns, podSpec("missing-net", { [NETWORKS]: "no-such-net" }));
    expect(pod.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]).toBeUndefined();
  });

  it.each([
    ["300 NICs", { [NETWORKS]: Array.from({ length: 299 }, (_, i) => `macvlan-a@n${i}`).join(",") }, /300 network interfaces.*at most 16/],
    ["a 16-byte interface name", { [NETWORKS]: "macvlan-a@abcdefghijklmnop" }, /abcdefghijklmnop.*16 bytes.*at most 15/],
    ["a 1 MiB annotation", { [NETWORKS]: `macvlan-a,${"x".repeat(1 << 20)}` }, /k8s.v1.cni.cncf.io\/networks is \d+ bytes.*at most 32768/],
  ])("refuses a Pod with %s and changes no pool", async (_what, annotations, message) => {
    const before = await records();
    const status = await refusal(createPod(kc, ns, podSpec("too-much", annotations)));
    expect(status.message).toMatch(message);
    expect(await records()).toEqual(before);
  });
});

describe("SpiderMultusConfig", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let ns: string;
  const smcs = (): CustomResources<SpiderMultusConfig> => new CustomResources(kc, MULTUS_CONFIG_PLURAL, true);
  const smc = (name: string, spec: SpiderMultusConfig["spec"], annotations?: Record<string, string>): SpiderMultusConfig => ({
    apiVersion: API_VERSION,
    kind: "SpiderMultusConfig",
    metadata: { name, namespace: ns, labels: tc.labels, ...(annotations ? { annotations } : {}) },
    spec,
  });
  const configOf = async (name: string): Promise<{ plugins: Record<string, unknown>[] } | undefined> => {
    const nad = await nadStore(kc).get(name, ns);
    return nad?.spec?.config ? (JSON.parse(nad.spec.config) as { plugins: Record<string, unknown>[] }) : undefined;
  };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "smc");
    ns = await tc.createPodNamespace("smc");
  });
  afterAll(() => tc.stop());

  it("creates, updates and deletes its NetworkAttachmentDefinition", async () => {
    const created = await smcs().create(smc("macvlan-100", { cniType: "macvlan", macvlan: { master: ["eth1"], ippools: { ipv4: ["pool-a"] } }, coordinator: { mode: "underlay", podDefaultRouteNIC: "net1" } }));
    // The mutating webhook sets Spiderpool's defaults.
    expect(created.spec).toMatchObject({ enableCoordinator: true, disableIPAM: false });
    const first = await waitFor("the NAD", () => configOf("macvlan-100"));
    expect(first).toMatchObject({
      cniVersion: "0.3.1",
      name: "macvlan-100",
      plugins: [
        { type: "macvlan", master: "eth1", mode: "bridge", ipam: { type: "spiderpool", default_ipv4_ippool: ["pool-a"] } },
        { type: "coordinator", mode: "underlay", podDefaultRouteNic: "net1" },
      ],
    });
    const nad = await nadStore(kc).get("macvlan-100", ns);
    expect(nad?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "SpiderMultusConfig", name: "macvlan-100", uid: created.metadata.uid, controller: true })]);

    await smcs().replace({ ...created, spec: { ...created.spec, enableCoordinator: false, macvlan: { master: ["eth2"], ippools: { ipv4: ["pool-b"] } } } });
    const updated = await waitFor("the NAD updated", async () => {
      const c = await configOf("macvlan-100");
      return c?.plugins[0]?.master === "eth2" ? c : undefined;
    });
    expect(updated.plugins).toEqual([{ type: "macvlan", master: "eth2", mode: "bridge", ipam: { type: "spiderpool", default_ipv4_ippool: ["pool-b"] } }]);

    await smcs().delete("macvlan-100", ns, {});
    await waitFor("the NAD deleted", async () => (await nadStore(kc).get("macvlan-100", ns)) === undefined);
  });

  it("puts the NAD back when someone deletes it, under the name of multus.spidernet.io/cr-name", async () => {
    await smcs().create(smc("renamed", { cniType: "ipvlan", ipvlan: { master: ["eth1"] } }, { "multus.spidernet.io/cr-name": "ipvlan-net", "multus.spidernet.io/cni-version": "1.0.0" }));
    const nad = await waitFor("the NAD", () => nadStore(kc).get("ipvlan-net", ns));
    expect(JSON.parse(nad.spec?.config ?? "{}")).toMatchObject({ cniVersion: "1.0.0", name: "ipvlan-net", plugins: [{ type: "ipvlan", master: "eth1" }, { type: "coordinator" }] });
    await nadStore(kc).delete("ipvlan-net", ns, {});
    await waitFor("the NAD re-created", async () => {
      const again = await nadStore(kc).get("ipvlan-net", ns);
      return again !== undefined && again.metadata.uid !== nad.metadata.uid;
    });
  });

  it.each([
    ["macvlan without a master", { cniType: "macvlan", macvlan: { master: [] } }, /spec.macvlan.master.*at least 1/],
    ["two sections", { cniType: "macvlan", macvlan: { master: ["eth1"] }, ipvlan: { master: ["eth1"] } }, /cniType macvlan takes only spec.macvlan; remove spec.ipvlan/],
    ["two masters without a bond", { cniType: "ipvlan", ipvlan: { master: ["eth1", "eth2"] } }, /bond.name must name the bond/],
    ["a custom config that is not JSON", { cniType: "custom", customCNI: "{not json" }, /spec.customCNI is not a JSON object/],
    ["a multicast MAC prefix", { cniType: "macvlan", macvlan: { master: ["eth1"] }, coordinator: { podMACPrefix: "01:00" } }, /podMACPrefix is '01:00'/],
  ])("refuses %s, saying what to change", async (_what, spec, message) => {
    const status = await refusal(
      kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: MULTUS_CONFIG_PLURAL, namespace: ns, body: smc("bad", spec as SpiderMultusConfig["spec"]) }),
    );
    expect(status.message).toMatch(message);
  });
});
