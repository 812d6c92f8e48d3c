import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AppsV1Api, AuthenticationV1Api, CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { pino } from "pino";
import { decodeAllocations } from "../../ipam/allocation/codec.js";
import { tokenAt } from "../../ipam/allocation/state.js";
import { parseAddressInCIDR, parseCIDR } from "../../ipam/address/cidr.js";
import { ENDPOINT_PLURAL, type SpiderEndpoint } from "../../ipam/kinds/endpoint.js";
import { IPPOOL_PLURAL, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { CustomResources } from "../../k8s/resources.js";
import { cni, installedCniBinDir, PATH_WITHOUT_NODE } from "../../local-cluster/cni-exec.js";
import { expectConsistent } from "../harness/consistency.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, createNamespace, waitFor } from "../../local-cluster/kube.js";
import { testKubeConfig } from "../harness/kube.js";
import { addressesIn, ping, Underlay } from "../../local-cluster/netns.js";
import { SimNode } from "../../local-cluster/node-sim.js";
import { assignedOf, createPool } from "../../local-cluster/pods.js";

const SIM_LABEL = "spiderpool.test/sim-node";

/**
 * The CNI path with real parts: two test nodes, each with its own spiderpool-agent and a
 * kubelet stand-in that runs Debian's macvlan plugin (ipam: spiderpool, the installed
 * single-executable plugin) in real network namespaces, wired through a bridge.
 */
describe("CNI with the real macvlan plugin in network namespaces", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let core: CoreV1Api;
  let underlay: Underlay;
  let binDir: string;
  const nodes: SimNode[] = [];
  const id = Math.random().toString(36).slice(2, 6);
  let ns: string;
  let pods: V1Pod[];

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "e2ecni");
    core = kc.makeApiClient(CoreV1Api);
    binDir = await installedCniBinDir();
    underlay = await Underlay.create(id);
    const sockets = mkdtempSync(join(tmpdir(), "spiderpool-agents-"));
    const log = pino({ level: process.env.SPIDERPOOL_TEST_LOG_LEVEL ?? "error" });
    // The agents run as the chart's agent ServiceAccount (a token bound to their Node) and
    // may ask the controller for late allocation, trusting its CA, as in a cluster.
    for (const n of ["a", "b"]) {
      nodes.push(
        await SimNode.start({ kc, name: `sim-${id}-${n}`, labels: { [SIM_LABEL]: id }, master: await underlay.plug(n), binDir, socketPath: join(sockets, `${n}.sock`), log, agentIdentity: (node) => tc.agentIdentity(node) }),
      );
    }
    await createPool(kc, tc.labels, "e2ecni-pool", { subnet: "10.82.0.0/24", ips: ["10.82.0.10-10.82.0.59"], gateway: "10.82.0.1" });
    ns = await tc.createPodNamespace("cni");
  });

  afterAll(async () => {
    try {
      // Every suite ends with the consistency checker over its own pools: 0 leaked, 0 missing, 0 duplicates.
      if (tc) await expectConsistent(kc, tc.labels);
    } finally {
      for (const n of nodes) await n.stop();
      await underlay?.destroy();
      await tc?.stop();
    }
  });

  const simOf = (pod: V1Pod): SimNode => nodes.find((n) => n.o.name === pod.spec?.nodeName) as SimNode;
  const keyOf = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

  const createWebDeployment = async (replicas: number): Promise<void> => {
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" }, annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["e2ecni-pool"]}' } },
            spec: { nodeSelector: { [SIM_LABEL]: id }, containers: [{ name: "web", image: "example.invalid/web:1" }] },
          },
        },
      },
    });
  };

  /** Each pod has its reserved address on eth0 inside its sandbox, as its podIP; no two share one. */
  const expectReservedAddressesInSandboxes = async (list: readonly V1Pod[]): Promise<void> => {
    const seen = new Set<string>();
    for (const pod of list) {
      const reserved = assignedOf(pod).ips[0]?.ipv4 ?? "";
      const sandbox = simOf(pod).sandboxes.get(keyOf(pod));
      expect(sandbox).toBeDefined();
      expect(await addressesIn(sandbox?.netnsName ?? "", "eth0")).toEqual([reserved]);
      expect(pod.status?.podIP).toBe(reserved.split("/")[0]);
      seen.add(reserved);
    }
    expect(seen.size).toBe(list.length);
  };

  /** The agent recorded the pod's sandbox on its endpoint (it writes that right after answering ADD). */
  const expectSandboxRecorded = async (pod: V1Pod): Promise<void> => {
    const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
    const want = [{ containerID: simOf(pod).sandboxes.get(keyOf(pod))?.containerID, interface: "eth0", network: "macvlan-underlay" }];
    const recorded = async () => (await endpoints.get(pod.metadata?.name ?? "", ns))?.status?.current?.attachments;
    await waitFor("the sandbox recorded on the endpoint", async () => isDeepStrictEqual(await recorded(), want), 10_000, 50).catch(() => undefined);
    expect(await recorded()).toEqual(want);
  };

  it("gives each of 10 replicas its reserved address on eth0 inside its namespace, and pods on two nodes reach each other", async () => {
    await createWebDeployment(10);
    pods = await waitFor(
      "10 Running pods",
      async () => {
        const list = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" })).items.filter((p) => p.status?.phase === "Running");
        return list.length === 10 ? list : undefined;
      },
      180000,
      500,
    );
    await expectReservedAddressesInSandboxes(pods);

    const onA = pods.find((p) => p.spec?.nodeName === nodes[0]?.o.name);
    const onB = pods.find((p) => p.spec?.nodeName === nodes[1]?.o.name);
    expect(onA && onB).toBeTruthy();
    const from = simOf(onA as V1Pod).sandboxes.get(keyOf(onA as V1Pod))?.netnsName ?? "";
    expect(await ping(from, onB?.status?.podIP ?? "")).toBe(true);
    await expectSandboxRecorded(onA as V1Pod);
  });

  it("runs the controller and each agent as the chart's ServiceAccounts, each agent's token bound to its node", async () => {
    const whoAmI = async (k: KubeConfig | undefined) => (await (k as KubeConfig).makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} })).status?.userInfo;
    expect((await whoAmI(tc.controllerKubeConfig))?.username).toBe(tc.identities?.controller.username);
    for (const n of nodes) {
      const user = await whoAmI(n.agentKubeConfig);
      expect({ username: user?.username, node: user?.extra?.["authentication.kubernetes.io/node-name"] }).toEqual({ username: tc.identities?.agent.username, node: [n.o.name] });
    }
  });

  it("shows the agent's health and CNI metrics", async () => {
    const agent = nodes[0]?.agent;
    const base = `http://127.0.0.1:${agent?.healthPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // Its Pods' ADDs were answered: on the socket, or by the plugin from the agent's answer
    // file when the endpoint (written once, with its node) reached the agent first.
    const count = (series: RegExp): number => Number(series.exec(metrics)?.[1] ?? 0);
    const onSocket = count(/spiderpool_agent_cni_requests_total\{command="add",result="ok"\} (\d+)/);
    const fromFiles = count(/spiderpool_agent_answer_file_adds_total (\d+)/);
    expect(metrics).toMatch(/spiderpool_agent_answer_file_adds_total \d+/);
    expect(onSocket + fromFiles).toBeGreaterThan(0);
    const lint = spawnSync("promtool", ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect(`${lint.stdout}${lint.stderr}`.trim()).toBe("");
  });

  it("gives a re-created sandbox (DEL, then ADD) the same address", async () => {
    const pod = pods[0] as V1Pod;
    const sim = simOf(pod);
    const before = sim.sandboxes.get(keyOf(pod));
    const del = await sim.destroySandbox(keyOf(pod), pod);
    expect(del?.code).toBe(0);
    // DEL again (a runtime retry) is fine too.
    const again = await cni({ command: "DEL", plugin: "spiderpool", binDirs: [binDir], config: sim.networkConfig(), containerID: before?.containerID ?? "", ifName: "eth0", args: { K8S_POD_NAMESPACE: ns, K8S_POD_NAME: pod.metadata?.name ?? "" } });
    expect(again.code).toBe(0);
    const agentAdds = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${sim.agent?.healthPort}/metrics`)).text();
      return Number(/spiderpool_agent_cni_requests_total\{command="add",result="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const asked = await agentAdds();
    const recreated = await sim.createSandbox(keyOf(pod), pod);
    expect(recreated.containerID).not.toBe(before?.containerID);
    expect(await addressesIn(recreated.netnsName, "eth0")).toEqual([assignedOf(pod).ips[0]?.ipv4]);
    // The plugin answered from the agent's answer file (no request on the socket), and the
    // agent recorded the new sandbox from the plugin's note.
    expect(await agentAdds()).toBe(asked);
    await expectSandboxRecorded(pod);
  });

  it("allocates late, through the controller, for a pod the webhook never saw", async () => {
    // A namespace without this run's label: the Pod webhooks do not see its Pods.
    const unseen = await createNamespace(kc, "late");
    const created = await core.createNamespacedPod({
      namespace: unseen,
      body: {
        metadata: { name: "late", annotations: { "ipam.spidernet.io/ippool": '{"ipv4":["e2ecni-pool"]}' } },
        spec: { nodeSelector: { [SIM_LABEL]: id }, containers: [{ name: "c", image: "example.invalid/c:1" }] },
      },
    });
    expect(created.metadata?.annotations?.["ipam.spidernet.io/assigned-ips"]).toBeUndefined();
    const running = await waitFor("the late pod Running", async () => {
      const p = await core.readNamespacedPod({ name: "late", namespace: unseen });
      return p.status?.phase === "Running" ? p : undefined;
    }, 60000);
    const reserved = assignedOf(running).ips[0]?.ipv4 ?? "";
    expect(reserved).toMatch(/^10\.82\.0\.\d+\/24$/);
    const sandbox = simOf(running).sandboxes.get(`${unseen}/late`);
    expect(await addressesIn(sandbox?.netnsName ?? "", "eth0")).toEqual([reserved]);
  });

  it("GC drops attachments the runtime no longer lists, and releases the addresses of pods that vanished unnoticed", async () => {
    const sim = nodes[1] as SimNode;
    const mine = pods.filter((p) => p.spec?.nodeName === sim.o.name);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    const [kept, vanished] = mine as [V1Pod, V1Pod];
    const vanishedIP = assignedOf(vanished).ips[0];
    // The pod disappears while neither the controller nor this node's kubelet looks.
    await tc.controller.close();
    await sim.stopKubelet();
    await core.deleteNamespacedPod({ name: vanished.metadata?.name ?? "", namespace: ns, gracePeriodSeconds: 0 });

    const valid = [...sim.sandboxes.entries()].filter(([k]) => k !== keyOf(vanished) && k !== keyOf(kept)).map(([, s]) => ({ containerID: s.containerID, ifname: "eth0" }));
    const gc = await cni({ command: "GC", plugin: "spiderpool", binDirs: [binDir], config: { ...sim.networkConfig("1.1.0"), "cni.dev/valid-attachments": valid } });
    expect(gc.code).toBe(0);

    const endpoints = new CustomResources<SpiderEndpoint>(kc, ENDPOINT_PLURAL, true);
    // The live pod keeps its address; only its attachment is forgotten.
    const keptEp = await endpoints.get(kept.metadata?.name ?? "", ns);
    expect(keptEp?.status?.current?.attachments ?? []).toEqual([]);
    expect(keptEp?.status?.current?.ips).toEqual(assignedOf(kept).ips);
    // The vanished pod's address is free again in the pool, and its endpoint gone.
    await waitFor("vanished pod's endpoint removed", async () => (await endpoints.get(vanished.metadata?.name ?? "", ns)) === undefined);
    const pool = (await new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL).get("e2ecni-pool")) as SpiderIPPool;
    const record = decodeAllocations(pool.status?.allocations, parseCIDR(pool.spec.subnet));
    expect(tokenAt(record.runs, parseAddressInCIDR(vanishedIP?.ipv4 ?? "").address.value)).toBeUndefined();
  });

  it("answers STATUS with 50 once the node's agent is stopped", async () => {
    const sim = nodes[0] as SimNode;
    const ok = await cni({ command: "STATUS", plugin: "spiderpool", binDirs: [binDir], config: sim.networkConfig("1.1.0") });
    expect(ok.code).toBe(0);
    await sim.stopAgent();
    const down = await cni({ command: "STATUS", plugin: "spiderpool", binDirs: [binDir], config: sim.networkConfig("1.1.0") });
    expect(down.code).not.toBe(0);
    expect(down.json).toMatchObject({ code: 50 });
  });

  it("runs the installed plugin with no node on PATH", async () => {
    expect(spawnSync("sh", ["-c", "command -v node"], { env: { PATH: PATH_WITHOUT_NODE } }).status).not.toBe(0);
    const version = await cni({ command: "VERSION", plugin: "spiderpool", binDirs: [binDir], config: { cniVersion: "1.0.0" } });
    expect(version.code).toBe(0);
    expect(version.json?.supportedVersions).toEqual(expect.arrayContaining(["0.3.1", "0.4.0", "1.0.0", "1.1.0"]));
  });

  it("gives bad input the CNI error code that says what is wrong", async () => {
    const sim = nodes[0] as SimNode;
    const base = { plugin: "spiderpool", binDirs: [binDir], containerID: "c1", netns: "/var/run/netns/none", ifName: "eth0", args: { K8S_POD_NAMESPACE: ns, K8S_POD_NAME: "x" } } as const;
    const notJson = await cni({ ...base, command: "ADD", config: {}, stdin: "not json" });
    expect(notJson.json).toMatchObject({ code: 6 });
    const noIpam = await cni({ ...base, command: "ADD", config: { cniVersion: "1.0.0", name: "n", type: "macvlan" } });
    expect(noIpam.json).toMatchObject({ code: 7 });
    const unknownVersion = await cni({ ...base, command: "ADD", config: { ...sim.networkConfig(), cniVersion: "9.9.9" } });
    expect(unknownVersion.json).toMatchObject({ code: 1 });
  });
});
