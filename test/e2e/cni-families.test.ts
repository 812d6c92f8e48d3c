import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { installedCniBinDir } from "../../local-cluster/cni-exec.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { addressesIn, ping, Underlay } from "../../local-cluster/netns.js";
import { SimNode } from "../../local-cluster/node-sim.js";
import { assignedOf, createPool } from "../../local-cluster/pods.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";

const SIM_LABEL = "spiderpool.test/sim-families";

/**
 * The CNI path in an IPv6-only and in a dual-stack cluster (one controller each, by their
 * cluster configuration), with Debian's real macvlan plugin putting the reserved addresses on
 * eth0 inside network namespaces.
 */
describe("CNI in IPv6-only and dual-stack clusters", () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let underlay: Underlay;
  let node: SimNode;
  let v6: TestController;
  let dual: TestController;
  const id = Math.random().toString(36).slice(2, 6);

  const runningPod = async (namespace: string, name: string): Promise<V1Pod> => {
    await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { nodeSelector: { [SIM_LABEL]: id }, containers: [{ name: "c", image: "example.invalid/c:1" }] } } });
    return waitFor(`pod ${name} Running`, async () => {
      const p = await core.readNamespacedPod({ name, namespace });
      return p.status?.phase === "Running" ? p : undefined;
    }, 120000, 300);
  };
  const netnsOf = (pod: V1Pod): string => node.sandboxes.get(`${pod.metadata?.namespace}/${pod.metadata?.name}`)?.netnsName ?? "";

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    core = kc.makeApiClient(CoreV1Api);
    underlay = await Underlay.create(`f${id}`);
    v6 = await startTestController(kc, "e2ev6", {}, "enableIPv4: false\nenableIPv6: true\n");
    dual = await startTestController(kc, "e2edual", {}, "enableIPv4: true\nenableIPv6: true\n");
    const dir = mkdtempSync(join(tmpdir(), "spiderpool-families-"));
    // One agent serves both controllers' Pods; it runs as the first one's chart identity.
    const agentIdentity = (n: string): ReturnType<TestController["agentIdentity"]> => v6.agentIdentity(n);
    node = await SimNode.start({ kc, name: `sim-families-${id}`, labels: { [SIM_LABEL]: id }, master: await underlay.plug("a"), binDir: await installedCniBinDir(), socketPath: join(dir, "agent.sock"), log: pino({ level: process.env.SPIDERPOOL_TEST_LOG_LEVEL ?? "error" }), agentIdentity });
  });

  afterAll(async () => {
    await node?.stop();
    await underlay?.destroy();
    await v6?.stop();
    await dual?.stop();
  });

  it("puts an IPv6-only Pod's address on eth0 inside its namespace", async () => {
    const tc = v6;
    await createPool(kc, tc.labels, "e2ev6-pool", { subnet: "fd00:95::/64", ips: ["fd00:95::10-fd00:95::2f"], gateway: "fd00:95::1" });
    const ns = await tc.createPodNamespace("v6", {}, { "ipam.spidernet.io/default-ipv6-ippool": '["e2ev6-pool"]' });
    const pods = [await runningPod(ns, "v6-a"), await runningPod(ns, "v6-b")];
    for (const pod of pods) {
      const eth0 = assignedOf(pod).ips[0];
      expect(eth0).toMatchObject({ interface: "eth0", ipv6: expect.stringMatching(/^fd00:95::[0-9a-f]+\/64$/), ipv6Pool: "e2ev6-pool" });
      expect(eth0?.ipv4).toBeUndefined();
      expect(await addressesIn(netnsOf(pod), "eth0")).toEqual([eth0?.ipv6]);
      expect(pod.status?.podIP).toBe(eth0?.ipv6?.split("/")[0]);
    }
    expect(await ping(netnsOf(pods[0] as V1Pod), pods[1]?.status?.podIP ?? "")).toBe(true);
  });

  it("puts a dual-stack Pod's two addresses on eth0 inside its namespace", async () => {
    const tc = dual;
    await createPool(kc, tc.labels, "e2edual-v4", { subnet: "10.96.0.0/24", ips: ["10.96.0.10-10.96.0.29"], gateway: "10.96.0.1" });
    await createPool(kc, tc.labels, "e2edual-v6", { subnet: "fd00:96::/64", ips: ["fd00:96::10-fd00:96::2f"], gateway: "fd00:96::1" });
    const ns = await tc.createPodNamespace("dual", {}, { "ipam.spidernet.io/default-ipv4-ippool": '["e2edual-v4"]', "ipam.spidernet.io/default-ipv6-ippool": '["e2edual-v6"]' });
    const pod = await runningPod(ns, "dual");
    const eth0 = assignedOf(pod).ips[0];
    expect(eth0).toMatchObject({ interface: "eth0", ipv4Pool: "e2edual-v4", ipv6Pool: "e2edual-v6" });
    expect((await addressesIn(netnsOf(pod), "eth0")).sort()).toEqual([eth0?.ipv4, eth0?.ipv6].sort());
    expect(pod.status?.podIPs?.map((p) => p.ip).sort()).toEqual([eth0?.ipv4?.split("/")[0], eth0?.ipv6?.split("/")[0]].sort());
  });
});
