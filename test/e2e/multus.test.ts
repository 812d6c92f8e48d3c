import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { MULTUS_CONFIG_PLURAL, type SpiderMultusConfig } from "../../ipam/kinds/multus-config.js";
import { CustomResources } from "../../k8s/resources.js";
import { installedCniBinDir } from "../../local-cluster/cni-exec.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { addressesIn, Underlay } from "../../local-cluster/netns.js";
import { SimNode } from "../../local-cluster/node-sim.js";
import { assignedOf, createPool, macvlanNad, nadStore } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";

const SIM_LABEL = "spiderpool.test/sim-multus";
const NETWORKS = "k8s.v1.cni.cncf.io/networks";

/**
 * Multus with real parts: eth0 is served by another plugin (a stand-in: Debian's macvlan with
 * host-local, as Calico would serve it), secondary NICs come from NetworkAttachmentDefinitions,
 * one of them generated from a SpiderMultusConfig; the controller runs with
 * --primary-network other and its Pod webhook's failurePolicy is Fail.
 */
describe("Multus secondary NICs with eth0 served by another plugin", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let core: CoreV1Api;
  let underlay: Underlay;
  let node: SimNode;
  let ns: string;
  const id = Math.random().toString(36).slice(2, 6);

  const runningPod = async (name: string, annotations: Record<string, string> = {}): Promise<V1Pod> => {
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name, annotations }, spec: { nodeSelector: { [SIM_LABEL]: id }, containers: [{ name: "c", image: "example.invalid/c:1" }] } } });
    return waitFor(`pod ${name} Running`, async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns });
      return p.status?.phase === "Running" ? p : undefined;
    }, 120000, 300);
  };
  const netnsOf = (pod: V1Pod): string => node.sandboxes.get(`${ns}/${pod.metadata?.name}`)?.netnsName ?? "";

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "e2emultus", { SPIDERPOOL_PRIMARY_NETWORK: "other" });
    core = kc.makeApiClient(CoreV1Api);
    underlay = await Underlay.create(`m${id}`);
    const dir = mkdtempSync(join(tmpdir(), "spiderpool-multus-"));
    const primary = { cniVersion: "1.0.0", name: "standin-eth0", plugins: [{ type: "macvlan", master: "x", mode: "bridge", ipam: { type: "host-local", ranges: [[{ subnet: "192.168.200.0/24" }]], dataDir: join(dir, "host-local") } }] };
    node = await SimNode.start({ kc, name: `sim-multus-${id}`, labels: { [SIM_LABEL]: id }, master: await underlay.plug("a"), binDir: await installedCniBinDir(), socketPath: join(dir, "agent.sock"), log: pino({ level: process.env.SPIDERPOOL_TEST_LOG_LEVEL ?? "error" }), primary, agentIdentity: (n) => tc.agentIdentity(n) });
    await createPool(kc, tc.labels, "e2emultus-a", { subnet: "10.93.0.0/24", ips: ["10.93.0.10-10.93.0.29"] });
    await createPool(kc, tc.labels, "e2emultus-smc", { subnet: "10.94.0.0/24", ips: ["10.94.0.10-10.94.0.29"] });
    ns = await tc.createPodNamespace("multus");
    const nads = nadStore(kc);
    await nads.create(macvlanNad(ns, "macvlan-a", { type: "spiderpool", default_ipv4_ippool: ["e2emultus-a"] }));
    await nads.create(macvlanNad(ns, "other-net", { type: "host-local", ranges: [[{ subnet: "192.168.201.0/24" }]], dataDir: join(dir, "host-local") }));
  });

  afterAll(async () => {
    await node?.stop();
    await underlay?.destroy();
    await tc?.stop();
  });

  it("gives net1 (macvlan-a, spiderpool) its reserved address and net2 (other-net) its own IPAM's", async () => {
    const pod = await runningPod("two-nets", { [NETWORKS]: "macvlan-a, other-net" });
    const assigned = assignedOf(pod).ips;
    expect(assigned.map((n) => n.interface)).toEqual(["net1"]);
    expect(await addressesIn(netnsOf(pod), "net1")).toEqual([assigned[0]?.ipv4]);
    expect(await addressesIn(netnsOf(pod), "net2")).toEqual([expect.stringMatching(/^192\.168\.201\.\d+\/24$/)]);
    expect(await addressesIn(netnsOf(pod), "eth0")).toEqual([expect.stringMatching(/^192\.168\.200\.\d+\/24$/)]);
  });

  it("attaches a Pod through a NAD generated from a SpiderMultusConfig", async () => {
    const smcs = new CustomResources<SpiderMultusConfig>(kc, MULTUS_CONFIG_PLURAL, true);
    await smcs.create({
      apiVersion: API_VERSION,
      kind: "SpiderMultusConfig",
      metadata: { name: "smc-net", namespace: ns, labels: tc.labels },
      // No coordinator: its plugin is not installed on these test nodes.
      spec: { cniType: "macvlan", macvlan: { master: ["eth1"], ippools: { ipv4: ["e2emultus-smc"] } }, enableCoordinator: false },
    });
    await waitFor("the generated NAD", () => nadStore(kc).get("smc-net", ns));
    const pod = await runningPod("via-smc", { [NETWORKS]: "smc-net" });
    const net1 = assignedOf(pod).ips[0];
    expect(net1).toMatchObject({ interface: "net1", ipv4Pool: "e2emultus-smc" });
    expect(await addressesIn(netnsOf(pod), "net1")).toEqual([net1?.ipv4]);
  });

  it("admits a plain Pod, and runs it, while the controller is stopped", async () => {
    await tc.controller.close();
    const pod = await runningPod("plain");
    expect(pod.metadata?.annotations?.[ANNO_ASSIGNED_IPS]).toBeUndefined();
    expect(await addressesIn(netnsOf(pod), "eth0")).toEqual([expect.stringMatching(/^192\.168\.200\.\d+\/24$/)]);
  });
});
