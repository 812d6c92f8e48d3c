import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { chainAdd, chainCheck, chainDel, type ChainCall, type ConfList } from "../../local-cluster/cni-chain.js";
import { cni, DEBIAN_CNI_DIR, installedCniBinDir } from "../../local-cluster/cni-exec.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { addNetns, delNetns, ip, Underlay } from "../../local-cluster/netns.js";
import { routeGet, tcpAsk, tcpServer } from "../../local-cluster/netns-tcp.js";
import { SimNode } from "../../local-cluster/node-sim.js";
import { assignedOf, createPool, nadStore, podSpec } from "../../local-cluster/pods.js";
import { NAD_API_VERSION, NAD_KIND } from "../../ipam/kinds/network-attachment.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { testKubeConfig } from "../harness/kube.js";

/**
 * The coordinator with real parts: a simulated node (a network namespace of its own, with
 * addresses and a Service CIDR answered locally, as kube-proxy would), two underlays
 * (bridges), Debian's macvlan with the spiderpool IPAM plugin and its real agent, and the
 * installed coordinator chained after them, each run inside the node's namespace as a
 * runtime there would. Nothing runs in, or is left in, the test machine's own namespace.
 */
const NODE_V4 = "10.91.255.1";
const NODE_V6 = "fd91:ff::1";
const SERVICE_V4 = "10.91.128.10";
const SERVICE_V6 = "fd91:96::10";
const REMOTE_CLIENT = "10.91.200.9";
const PORT = 8080;

describe("the coordinator chained after macvlan + spiderpool, in network namespaces", () => {
  const id = randomBytes(2).toString("hex");
  const nodeNs = `spc${id}node`;
  const peerA = `spc${id}pa`;
  const peerB = `spc${id}pb`;
  const pods: string[] = [];
  let kc: KubeConfig;
  let tc: TestController;
  let binDir: string;
  let sim: SimNode;
  let underlayA: Underlay;
  let underlayB: Underlay;
  let ns: string;
  let socket: string;
  let networkA: ConfList;
  let networkB: ConfList;

  /** A link of the underlay, moved into `netns` and up; returns its name. */
  const plugInto = async (u: Underlay, name: string, netns: string): Promise<string> => {
    const link = await u.plug(name);
    await ip("link", "set", link, "netns", netns);
    await ip("-n", netns, "link", "set", link, "up");
    return link;
  };

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "e2ecoord", {}, "enableIPv4: true\nenableIPv6: true\n");
    binDir = await installedCniBinDir();
    underlayA = await Underlay.create(`${id}a`);
    underlayB = await Underlay.create(`${id}b`);
    // The node: its own addresses, and Service addresses it answers itself (a local route:
    // kube-proxy's DNAT would do the same for a real ClusterIP).
    await addNetns(nodeNs);
    await ip("-n", nodeNs, "addr", "add", `${NODE_V4}/32`, "dev", "lo");
    await ip("-n", nodeNs, "-6", "addr", "add", `${NODE_V6}/128`, "dev", "lo");
    await ip("-n", nodeNs, "route", "add", "local", "10.91.128.0/24", "dev", "lo");
    await ip("-n", nodeNs, "-6", "route", "add", "local", "fd91:96::/112", "dev", "lo");
    await ip("netns", "exec", nodeNs, "sysctl", "-qw", "net.ipv6.ip_nonlocal_bind=1");
    const masterA = await plugInto(underlayA, "n", nodeNs);
    const masterB = await plugInto(underlayB, "n", nodeNs);
    // The underlays' other hosts: their gateways; underlay A's also stands for a client
    // beyond its gateway (REMOTE_CLIENT), whose requests reach the Pod's first NIC.
    for (const [peer, u, addrs] of [
      [peerA, underlayA, ["10.91.1.1/24", "fd91:1::1/64", `${REMOTE_CLIENT}/32`]],
      [peerB, underlayB, ["10.91.2.1/24"]],
    ] as const) {
      await addNetns(peer);
      const link = await plugInto(u, "p", peer);
      for (const a of addrs) await ip("-n", peer, "addr", "add", a, "dev", a === `${REMOTE_CLIENT}/32` ? "lo" : link, ...(a.includes(":") ? ["nodad"] : []));
    }

    socket = join(mkdtempSync(join(tmpdir(), "spiderpool-coord-")), "agent.sock");
    const log = pino({ level: process.env.SPIDERPOOL_TEST_LOG_LEVEL ?? "error" });
    sim = await SimNode.start({ kc, name: `coord-${id}`, labels: { "spiderpool.test/coordinator": id }, master: masterA, binDir, socketPath: socket, log, agentIdentity: (n) => tc.agentIdentity(n) });
    await sim.stopKubelet(); // this test is the node's runtime: it runs the CNI chains itself
    await createPool(kc, tc.labels, "e2ecoord-a4", { subnet: "10.91.1.0/24", ips: ["10.91.1.10-10.91.1.30"], gateway: "10.91.1.1" });
    await createPool(kc, tc.labels, "e2ecoord-a6", { subnet: "fd91:1::/64", ips: ["fd91:1::10-fd91:1::30"], gateway: "fd91:1::1" });
    await createPool(kc, tc.labels, "e2ecoord-b4", { subnet: "10.91.2.0/24", ips: ["10.91.2.10-10.91.2.30"], gateway: "10.91.2.1" });
    await createPool(kc, tc.labels, "e2ecoord-b6", { subnet: "fd91:2::/64", ips: ["fd91:2::10-fd91:2::30"], gateway: "fd91:2::1" });
    ns = await tc.createPodNamespace("coord");

    const coordinator = { type: "coordinator", serviceCIDR: ["10.91.128.0/24", "fd91:96::/112"], detectIPConflict: true, agentSocketPath: socket };
    const macvlan = (name: string, master: string, cleanGateway: boolean): ConfList => ({
      cniVersion: "1.0.0",
      name,
      plugins: [
        { type: "macvlan", master, mode: "bridge", ipam: { type: "spiderpool", ipam_unix_socket_path: socket, clean_gateway: cleanGateway } },
        coordinator,
      ],
    });
    networkA = macvlan("macvlan-a", masterA, false);
    networkB = macvlan("macvlan-b", masterB, true);
    // The webhook reserves for a secondary NIC only when its NetworkAttachmentDefinition says
    // Spiderpool is its IPAM (docs/multus.md): publish net1's network as Multus would read it.
    await nadStore(kc).create({ apiVersion: NAD_API_VERSION, kind: NAD_KIND, metadata: { name: networkB.name, namespace: ns }, spec: { config: JSON.stringify(networkB) } });
  }, 180_000);

  afterAll(async () => {
    for (const p of pods) await delNetns(p);
    for (const n of [nodeNs, peerA, peerB]) await delNetns(n);
    await underlayA?.destroy();
    await underlayB?.destroy();
    await sim?.stop();
    await tc?.stop();
  });

  /** A Pod bound to the simulated node, with its reservation; and a namespace for its sandbox. */
  const createPod = async (name: string, annotations: Record<string, string>): Promise<{ pod: V1Pod; call: (ifName: string) => ChainCall; netns: string }> => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: ns, body: podSpec(name, annotations, { nodeName: sim.o.name }) });
    const pod = await core.readNamespacedPod({ name, namespace: ns });
    const netns = `spc${id}${name}`.slice(0, 30);
    pods.push(netns);
    const path = await addNetns(netns);
    const containerID = randomBytes(16).toString("hex");
    const args = { IgnoreUnknown: "1", K8S_POD_NAMESPACE: ns, K8S_POD_NAME: name, K8S_POD_UID: pod.metadata?.uid ?? "", K8S_POD_INFRA_CONTAINER_ID: containerID };
    return { pod, netns, call: (ifName) => ({ binDirs: [binDir, DEBIAN_CNI_DIR], containerID, netns: path, ifName, args, hostNetns: nodeNs }) };
  };

  /** ADD, retried while the agent has no record of the Pod yet (code 11: the controller binds it first). */
  const add = (list: ConfList, call: ChainCall) =>
    waitFor(`ADD ${list.name} for ${call.args?.K8S_POD_NAME}`, async () => {
      const out = await chainAdd(list, call);
      if (out.failed === "macvlan" && out.last.json?.code === 11) {
        await chainDel(list, call);
        return undefined;
      }
      return out;
    }, 60_000, 500);

  /** Everything on the node that is the coordinator's: host veths, its rules (both families), table 500. */
  const nodeLeftovers = async (): Promise<string[]> => {
    const links = (JSON.parse(await ip("-n", nodeNs, "-j", "link", "show")) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n.startsWith("vsp"));
    const rules = [
      ...(JSON.parse(await ip("-n", nodeNs, "-j", "rule", "show")) as { protocol?: string; dst?: string }[]),
      ...(JSON.parse(await ip("-n", nodeNs, "-6", "-j", "rule", "show")) as { protocol?: string; dst?: string }[]),
    ].filter((r) => r.protocol === "212").map((r) => `rule to ${r.dst}`);
    // A table with no route left does not exist at all for the kernel: nothing there.
    const table500 = async (family: string): Promise<{ dst: string }[]> =>
      JSON.parse(await ip("-n", nodeNs, family, "-j", "route", "show", "table", "500").catch(() => "[]")) as { dst: string }[];
    const routes = [...(await table500("-4")), ...(await table500("-6"))].map((r) => `route ${r.dst}`);
    return [...links, ...rules, ...routes];
  };

  /** The cluster is dual-stack: every NIC gets an address of each family. */
  const ippools = (nics: { interface: string; ipv4: string[]; ipv6: string[]; cleangateway?: boolean }[]) => ({ "ipam.spidernet.io/ippools": JSON.stringify(nics) });

  let web: Awaited<ReturnType<typeof createPod>>;
  let webResult: Record<string, unknown> | undefined;
  let webV4 = "";
  let webV6 = "";

  it("gives a dual-stack Pod the Service CIDR and its node through the veth, keeps the default route on eth0, and lets the node reach the Pod", async () => {
    web = await createPod("web", ippools([{ interface: "eth0", ipv4: ["e2ecoord-a4"], ipv6: ["e2ecoord-a6"] }]));
    const out = await add(networkA, web.call("eth0"));
    expect(out.failed).toBeUndefined();
    webResult = out.result;
    const assigned = assignedOf(await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: "web", namespace: ns })).ips[0];
    webV4 = (assigned?.ipv4 ?? "").split("/")[0] ?? "";
    webV6 = (assigned?.ipv6 ?? "").split("/")[0] ?? "";
    expect(webV4).toMatch(/^10\.91\.1\./);
    expect(webV6).toMatch(/^fd91:1::/);

    // From inside the Pod, the "ClusterIP" on the node answers, over both families.
    const servers = [await tcpServer(nodeNs, SERVICE_V4, PORT), await tcpServer(nodeNs, SERVICE_V6, PORT)];
    try {
      expect(await tcpAsk(web.netns, SERVICE_V4, PORT)).toBe(`hello from ${SERVICE_V4} to ${webV4}`);
      expect(await tcpAsk(web.netns, SERVICE_V6, PORT)).toBe(`hello from ${SERVICE_V6} to ${webV6}`);
    } finally {
      servers.forEach((s) => s.stop());
    }
    // From the node, the Pod's addresses answer: the kubelet's probe path.
    const probe = [await tcpServer(web.netns, "::", PORT)];
    try {
      // (The server listens on "::", so IPv4 peers show as IPv4-mapped addresses.)
      expect(await tcpAsk(nodeNs, webV4, PORT)).toBe(`hello from ::ffff:${webV4} to ::ffff:${NODE_V4}`);
      expect(await tcpAsk(nodeNs, webV6, PORT)).toBe(`hello from ${webV6} to ${NODE_V6}`);
    } finally {
      probe.forEach((s) => s.stop());
    }
    expect(await routeGet(web.netns, SERVICE_V4)).toMatchObject({ dev: "veth0", gateway: NODE_V4 });
    expect(await routeGet(web.netns, NODE_V4)).toMatchObject({ dev: "veth0" });
    expect(await routeGet(web.netns, "10.91.1.1")).toMatchObject({ dev: "eth0" });
    expect(await routeGet(web.netns, "192.0.2.77")).toMatchObject({ dev: "eth0", gateway: "10.91.1.1" });
    expect(await routeGet(web.netns, "2001:db8::77")).toMatchObject({ dev: "eth0", gateway: "fd91:1::1" });
  });

  it("CHECK passes, then fails with the coordinator's code after a route is removed by hand", async () => {
    const ok = await chainCheck(networkA, web.call("eth0"), webResult);
    expect(ok.failed).toBeUndefined();
    await ip("-n", web.netns, "route", "del", "10.91.128.0/24");
    const broken = await chainCheck(networkA, web.call("eth0"), webResult);
    expect(broken.failed).toBe("coordinator");
    expect(broken.last.json).toMatchObject({ code: 203 });
    expect(String(broken.last.json?.details)).toContain("route 10.91.128.0/24 via 10.91.255.1 dev veth0");
    // The coordinator's ADD again (it is idempotent) puts the route back.
    const again = await cni({ ...web.call("eth0"), command: "ADD", plugin: "coordinator", config: { ...networkA.plugins[1], cniVersion: "1.0.0", name: networkA.name, prevResult: webResult } });
    expect(again.code).toBe(0);
    expect((await chainCheck(networkA, web.call("eth0"), webResult)).failed).toBeUndefined();
  });

  it("a two-NIC Pod's replies leave by the NIC the request came in on, its annotation puts the default route on net1; DEL leaves no veth, route or rule behind", async () => {
    const two = await createPod("two", {
      "k8s.v1.cni.cncf.io/networks": "macvlan-b",
      // Read by the agent for the coordinator: net1 holds the default route.
      "ipam.spidernet.io/default-route-nic": "net1",
      ...ippools([
        { interface: "eth0", ipv4: ["e2ecoord-a4"], ipv6: ["e2ecoord-a6"] },
        { interface: "net1", ipv4: ["e2ecoord-b4"], ipv6: ["e2ecoord-b6"], cleangateway: true },
      ]),
    });
    const eth0 = await add(networkA, two.call("eth0"));
    expect(eth0.failed).toBeUndefined();
    expect(await routeGet(two.netns, REMOTE_CLIENT)).toMatchObject({ dev: "eth0" }); // one NIC so far: its default route
    const net1 = await add(networkB, two.call("net1"));
    expect(net1.failed).toBeUndefined();
    const assigned = assignedOf(await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: "two", namespace: ns })).ips;
    const [a0, a1] = ["eth0", "net1"].map((nic) => (assigned.find((i) => i.interface === nic)?.ipv4 ?? "").split("/")[0] ?? "");
    expect(a1).toMatch(/^10\.91\.2\./);

    const rules = JSON.parse(await ip("-n", two.netns, "-j", "rule", "show")) as { src?: string; table?: string }[];
    expect(rules).toEqual(expect.arrayContaining([expect.objectContaining({ src: a0, table: "100" }), expect.objectContaining({ src: a1, table: "101" })]));
    expect(await routeGet(two.netns, REMOTE_CLIENT)).toMatchObject({ dev: "net1", gateway: "10.91.2.1" });
    expect(await routeGet(two.netns, REMOTE_CLIENT, "from", a0 ?? "")).toMatchObject({ dev: "eth0", gateway: "10.91.1.1" });
    expect(await routeGet(two.netns, SERVICE_V4, "from", a1 ?? "")).toMatchObject({ dev: "veth0" });
    // A client beyond eth0's gateway asks eth0's address: the answer goes back through eth0,
    // though the default route is on net1 (without the rule it would leave by net1 and be lost).
    const fromRemote = await ip("netns", "exec", peerA, "ping", "-c", "1", "-W", "2", "-I", REMOTE_CLIENT, a0 ?? "");
    expect(fromRemote).toContain("1 received");
    const server = await tcpServer(two.netns, a1 ?? "", PORT);
    try {
      expect(await tcpAsk(peerB, a1 ?? "", PORT)).toBe(`hello from ${a1} to 10.91.2.1`);
    } finally {
      server.stop();
    }

    expect((await chainDel(networkB, two.call("net1"), net1.result)).failed).toBeUndefined();
    expect(await routeGet(two.netns, REMOTE_CLIENT)).toMatchObject({ dev: "eth0", gateway: "10.91.1.1" }); // the default route is back on eth0
    expect((await chainDel(networkA, two.call("eth0"), eth0.result)).failed).toBeUndefined();
    const podRules = JSON.parse(await ip("-n", two.netns, "-j", "rule", "show")) as { protocol?: string }[];
    expect(podRules.filter((r) => r.protocol === "212")).toEqual([]);
    expect((JSON.parse(await ip("-n", two.netns, "-j", "link", "show")) as { ifname: string }[]).map((l) => l.ifname)).toEqual(["lo"]);
    // Only the first Pod's objects remain on the node: its veth, and its two addresses' rules and routes.
    const left = await nodeLeftovers();
    expect(left.filter((x) => x.startsWith("vsp"))).toHaveLength(1);
    expect(left.filter((x) => !x.startsWith("vsp")).sort()).toEqual([`route ${webV4}`, `route ${webV6}`, `rule to ${webV4}`, `rule to ${webV6}`].sort());
  });

  it("refuses an address another host already holds on the underlay, and leaves nothing behind", async () => {
    const squatter = `spc${id}sq`;
    pods.push(squatter);
    await addNetns(squatter);
    await ip("-n", squatter, "addr", "add", "10.91.1.25/24", "dev", await plugInto(underlayA, "q", squatter));
    const taken = await createPod("taken", { ...ippools([{ interface: "eth0", ipv4: ["e2ecoord-a4"], ipv6: ["e2ecoord-a6"] }]), "ipam.spidernet.io/ips": '[{"interface":"eth0","ipv4":"10.91.1.25"}]' });
    const before = (await nodeLeftovers()).sort();
    const out = await add(networkA, taken.call("eth0"));
    expect(out.failed).toBe("coordinator");
    expect(out.last.json).toMatchObject({ code: 201 });
    expect(String(out.last.json?.msg)).toContain("10.91.1.25");
    expect((await nodeLeftovers()).sort()).toEqual(before);
    expect((JSON.parse(await ip("-n", taken.netns, "-j", "link", "show")) as { ifname: string }[]).map((l) => l.ifname)).not.toContain("veth0");
    // The runtime's DEL after a failed ADD cleans the main plugin's part.
    expect((await chainDel(networkA, taken.call("eth0"))).failed).toBeUndefined();
  });

  it("GC (CNI 1.1) removes the node's side of containers the runtime no longer lists, and keeps the others; STATUS answers", async () => {
    const coordinator = (command: "GC" | "STATUS", extra: Record<string, unknown> = {}) =>
      cni({ ...web.call("eth0"), command, plugin: "coordinator", config: { ...networkA.plugins[1], cniVersion: "1.1.0", name: networkA.name, ...extra } });
    expect((await coordinator("STATUS")).code).toBe(0);
    const before = await nodeLeftovers();
    const stale = await createPod("stale", ippools([{ interface: "eth0", ipv4: ["e2ecoord-a4"], ipv6: ["e2ecoord-a6"] }]));
    const added = await add(networkA, stale.call("eth0"));
    expect(added.failed).toBeUndefined();
    expect((await nodeLeftovers()).length).toBe(before.length + 5); // its veth, 2 rules, 2 routes
    // Another network's GC does not touch this network's veths.
    expect((await coordinator("GC", { name: "macvlan-other", "cni.dev/valid-attachments": [] })).code).toBe(0);
    expect((await nodeLeftovers()).length).toBe(before.length + 5);
    // The runtime lists only the first Pod: the stale one's veth and rules go.
    expect((await coordinator("GC", { "cni.dev/valid-attachments": [{ containerID: web.call("eth0").containerID, ifname: "eth0" }] })).code).toBe(0);
    expect((await nodeLeftovers()).sort()).toEqual([...before].sort());
    expect((await chainDel(networkA, stale.call("eth0"), added.result)).failed).toBeUndefined();
  });

  it("DEL of the last Pod leaves the node as it was", async () => {
    expect((await chainDel(networkA, web.call("eth0"), webResult)).failed).toBeUndefined();
    expect(await nodeLeftovers()).toEqual([]);
    // DEL again (a runtime retry) is fine.
    expect((await chainDel(networkA, web.call("eth0"), webResult)).failed).toBeUndefined();
  });
});
