import { beforeEach, describe, expect, it } from "@jest/globals";
import type { ClusterDefaults } from "../../../../cni/coordinator/agent-defaults.js";
import { hostVethAlias, hostVethName } from "../../../../cni/coordinator/names.js";
import { type CoordinatorIO, type Outcome, runCoordinator } from "../../../../cni/coordinator/plugin.js";
import { K8S_ARGS } from "../helpers.js";
import { FakeHost, emptyNs } from "./fake-host.js";

const POD = "/var/run/netns/pod";
const CONTAINER = "c0ffee";
const HOST_VETH = hostVethName(CONTAINER);

const prevResult = (ifName = "eth0", address = "10.6.0.5/24", gateway = "10.6.0.1") => ({
  cniVersion: "1.0.0",
  interfaces: [{ name: ifName, mac: "02:00:00:00:00:05", sandbox: POD }],
  ips: [{ interface: 0, address, gateway }],
});

const conf = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: "1.0.0", name: "net", type: "coordinator", serviceCIDR: ["10.233.0.0/18"], agentSocketPath: "", prevResult: prevResult(), ...over });

const env = (over: Record<string, string> = {}) => ({ CNI_COMMAND: "ADD", CNI_CONTAINERID: CONTAINER, CNI_NETNS: POD, CNI_IFNAME: "eth0", CNI_ARGS: K8S_ARGS, ...over });

let host: FakeHost;
let stderr: string[];

/** A node with one address and this container's veth already made (a repeated ADD), and the Pod's eth0 from macvlan. */
function scenario(): void {
  host = new FakeHost();
  const node = host.state(undefined);
  node.addrs.push({ ifname: "lo", family: "inet", local: "192.0.2.50", prefixlen: 32 }, { ifname: "lo", family: "inet6", local: "2001:db8:50::1", prefixlen: 128 });
  node.links.push({ ifindex: 9, ifname: HOST_VETH, mtu: 1500, address: "aa:aa:aa:aa:aa:01", flags: ["UP"], ifalias: hostVethAlias("net", CONTAINER) });
  const pod = emptyNs();
  pod.links.push({ ifindex: 2, ifname: "eth0", mtu: 1500, address: "02:00:00:00:00:05", flags: ["UP"] }, { ifindex: 3, ifname: "veth0", mtu: 1500, address: "bb:bb:bb:bb:bb:01", flags: ["UP"] });
  pod.addrs.push({ ifname: "eth0", family: "inet", local: "10.6.0.5", prefixlen: 24 });
  pod.routes4.push({ dst: "default", gateway: "10.6.0.1", dev: "eth0", flags: [] }, { dst: "10.6.0.0/24", dev: "eth0", protocol: "kernel", scope: "link", prefsrc: "10.6.0.5", flags: [] });
  host.ns.set(POD, pod);
}

beforeEach(() => {
  scenario();
  stderr = [];
});

function run(vars: Record<string, string>, stdin: string, defaults: ClusterDefaults = {}): Promise<Outcome> {
  const io: CoordinatorIO = {
    env: vars,
    readStdin: () => stdin,
    stderr: (l) => stderr.push(l),
    openLogFile: () => () => undefined,
    tools: host,
    pid: 4242,
    clusterDefaults: () => Promise.resolve(defaults),
  };
  return runCoordinator(io);
}

const errorOf = (o: Outcome) => {
  expect(o.exitCode).toBe(1);
  return JSON.parse(o.stdout) as { code: number; msg: string; details?: string };
};

describe("coordinator ADD", () => {
  it("routes the node's address and the Service CIDR through veth0 in the Pod, and the Pod's address back through the host veth", async () => {
    const out = await run(env(), conf());
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(prevResult());
    expect(host.written("")).toEqual(
      expect.arrayContaining([
        `route replace 10.6.0.5/32 dev ${HOST_VETH} scope link table 500 proto 212`,
        "rule add to 10.6.0.5/32 priority 1000 lookup 500 protocol 212",
        `neigh replace 10.6.0.5 lladdr bb:bb:bb:bb:bb:01 dev ${HOST_VETH} nud permanent`,
      ]),
    );
    const pod = host.written(POD);
    expect(pod).toEqual(
      expect.arrayContaining([
        "route replace 192.0.2.50/32 dev veth0 scope link table main proto 212",
        "route replace 10.233.0.0/18 via 192.0.2.50 dev veth0 table main proto 212",
        "neigh replace 192.0.2.50 lladdr aa:aa:aa:aa:aa:01 dev veth0 nud permanent",
      ]),
    );
    // The Pod has no IPv6 address: no IPv6 route to the node's IPv6 address.
    expect(pod.filter((l) => l.includes("2001:db8:50::1"))).toEqual([]);
    // The default route is not touched: it stays on eth0.
    expect(pod.filter((l) => l.includes("default"))).toEqual([]);
    expect(host.calls.filter((c) => c.tool === "sysctl").map((c) => c.args.join(" "))).toEqual([
      `-q -w net/ipv4/conf/${HOST_VETH}/rp_filter=0`,
      "-q -w net/ipv4/conf/all/rp_filter=0 net/ipv4/conf/eth0/rp_filter=0 net/ipv4/conf/veth0/rp_filter=0",
    ]);
  });

  it("takes the Service CIDRs from the cluster's defaults when the config names none, and echoes the config's version", async () => {
    const out = await run(env(), conf({ cniVersion: "0.4.0", serviceCIDR: undefined }), { tunables: { serviceCIDR: [{ family: 4, ip: "10.96.0.0", prefix: 12 }] } });
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ cniVersion: "0.4.0" });
    expect(host.written(POD)).toContain("route replace 10.96.0.0/12 via 192.0.2.50 dev veth0 table main proto 212");
  });

  it("podMACPrefix: the NIC's MAC is the prefix and its IPv4 address, and the result says so", async () => {
    const out = await run(env(), conf({ podMACPrefix: "0a:1b" }));
    expect(host.written(POD)).toContain("link set dev eth0 address 0a:1b:0a:06:00:05");
    expect((JSON.parse(out.stdout) as { interfaces: { mac: string }[] }).interfaces[0]?.mac).toBe("0a:1b:0a:06:00:05");
  });

  it("passes the result through untouched in mode disabled", async () => {
    const out = await run(env(), conf({ mode: "disabled", cniVersion: "1.1.0" }));
    expect(JSON.parse(out.stdout)).toEqual({ ...prevResult(), cniVersion: "1.1.0" });
    expect(host.calls).toEqual([]);
  });

  it.each([
    ["no prevResult", conf({ prevResult: undefined }), 7, "prevResult"],
    ["an unknown field", conf({ serviceCidr: ["10.0.0.0/8"] }), 2, "unsupported field serviceCidr"],
    ["a CIDR that is not one", conf({ serviceCIDR: ["10.233.0.0"] }), 7, "serviceCIDR[0] is not a CIDR"],
    ["another plugin's type", conf({ type: "macvlan" }), 7, 'type is "macvlan"'],
    ["mode overlay", conf({ mode: "overlay" }), 2, "mode overlay is not supported"],
    ["a prevResult without this NIC's address", conf({ prevResult: prevResult("net1") }), 7, "no address for eth0"],
  ])("refuses %s", async (_what, stdin, code, msg) => {
    const err = errorOf(await run(env(), stdin));
    expect(err.code).toBe(code);
    expect(err.msg).toContain(msg);
    expect(host.calls.filter((c) => c.tool === "ip" && !c.args.includes("-j"))).toEqual([]);
  });

  it("refuses an address that answers an ARP probe before changing anything", async () => {
    host.answers.arping = { status: 1, stdout: "ARPING 10.6.0.5 from 0.0.0.0 eth0\nUnicast reply from 10.6.0.5 [9E:7B:EA:A2:14:10]  0.556ms\n", stderr: "" };
    const err = errorOf(await run(env(), conf({ detectIPConflict: true })));
    expect(err).toMatchObject({ code: 201, msg: "address 10.6.0.5 of eth0 is already in use on the underlay" });
    expect(err.details).toContain("9e:7b:ea:a2:14:10");
    expect(host.calls.find((c) => c.tool === "arping")?.args).toEqual(["-D", "-c", "3", "-w", "1", "-I", "eth0", "10.6.0.5"]);
    expect(host.written("")).toEqual([]);
    expect(host.written(POD)).toEqual([]);
  });

  it("refuses an IPv6 address that failed duplicate address detection", async () => {
    host.state(POD).addrs.push({ ifname: "eth0", family: "inet6", local: "fd00::5", prefixlen: 64, tentative: true, dadfailed: true });
    const err = errorOf(await run(env(), conf({ detectIPConflict: true, prevResult: prevResult("eth0", "fd00::5/64", "fd00::1") })));
    expect(err).toMatchObject({ code: 201, msg: "address fd00::5 of eth0 is already in use on the underlay" });
  });

  it("refuses a gateway that does not answer, naming it", async () => {
    host.answers.ping = { status: 1, stdout: "", stderr: "" };
    const err = errorOf(await run(env(), conf({ detectGateway: true })));
    expect(err).toMatchObject({ code: 202, msg: "gateway 10.6.0.1 of eth0 does not answer" });
  });

  it("names the failing ip command and its output, and undoes what it made", async () => {
    host.failLine = (l) => (l.startsWith("rule add") ? "Error: Invalid dst address." : undefined);
    const err = errorOf(await run(env(), conf()));
    expect(err).toMatchObject({ code: 200, msg: "'ip rule add to 10.6.0.5/32 priority 1000 lookup 500 protocol 212' failed in the host namespace" });
    expect(err.details).toContain("Invalid dst address");
    // The rollback deletes the host veth (and with it its routes and veth0).
    expect(host.written("")).toContain(`link del ${HOST_VETH}`);
  });

  it("a secondary NIC without the first NIC's veth0 is refused with what to change", async () => {
    host.state(POD).links = host.state(POD).links.filter((l) => l.ifname !== "veth0");
    const err = errorOf(await run(env({ CNI_IFNAME: "net1" }), conf({ prevResult: prevResult("net1", "10.7.0.5/24", "10.7.0.1"), mode: "underlay" })));
    expect(err.code).toBe(205);
    expect(err.msg).toContain("no veth0");
  });

  it("a secondary NIC gets its own table and rule, and the default route when the Pod's annotation names it", async () => {
    const pod = host.state(POD);
    pod.links.push({ ifindex: 4, ifname: "net1", mtu: 1500, address: "02:00:00:00:00:07", flags: ["UP"] });
    pod.addrs.push({ ifname: "net1", family: "inet", local: "10.7.0.5", prefixlen: 24 });
    pod.routes4.push({ dst: "10.7.0.0/24", dev: "net1", protocol: "kernel", scope: "link", prefsrc: "10.7.0.5", flags: [] });
    const out = await run(env({ CNI_IFNAME: "net1" }), conf({ prevResult: prevResult("net1", "10.7.0.5/24", "10.7.0.1") }), { podDefaultRouteNIC: "net1" });
    expect(out.exitCode).toBe(0);
    const lines = host.written(POD);
    expect(lines).toEqual(
      expect.arrayContaining([
        "route replace 0.0.0.0/0 via 10.6.0.1 dev eth0 table 100 proto 212",
        "rule add from 10.6.0.5/32 priority 100 lookup 100 protocol 212",
        "route replace 10.7.0.0/24 dev net1 scope link src 10.7.0.5 table 101 proto 212",
        "route replace 0.0.0.0/0 via 10.7.0.1 dev net1 table 101 proto 212",
        "rule add from 10.7.0.5/32 priority 101 lookup 101 protocol 212",
        "route replace default via 10.7.0.1 dev net1 table main proto 212",
      ]),
    );
    expect(host.written("")).toContain("rule add to 10.7.0.5/32 priority 1000 lookup 500 protocol 212");
  });
});

describe("coordinator DEL, CHECK, GC and STATUS", () => {
  it("DEL with the Pod's namespace gone cleans the node's side and succeeds", async () => {
    host.ns.delete(POD);
    const node = host.state(undefined);
    node.rules4.push({ priority: 1000, src: "all", dst: "10.6.0.5", table: "500", protocol: "212" });
    node.routes4.push({ dst: "10.6.0.5", dev: HOST_VETH, table: "500", protocol: "212", scope: "link", flags: [] });
    const out = await run(env({ CNI_COMMAND: "DEL" }), conf());
    expect(out.exitCode).toBe(0);
    expect(host.written("")).toEqual(["rule del to 10.6.0.5/32 priority 1000 lookup 500", `link del ${HOST_VETH}`]);
  });

  it("CHECK names each missing route and rule", async () => {
    const err = errorOf(await run(env({ CNI_COMMAND: "CHECK" }), conf()));
    expect(err.code).toBe(203);
    expect(err.details).toContain(`route 10.6.0.5/32 dev ${HOST_VETH} table 500 in the node`);
    expect(err.details).toContain("rule to 10.6.0.5/32 lookup 500 in the node");
    expect(err.details).toContain("route 10.233.0.0/18 via 192.0.2.50 dev veth0 table main in the Pod");
  });

  it("GC deletes this network's host veths whose containers are gone, and rules left without a route", async () => {
    const node = host.state(undefined);
    node.links.push(
      { ifindex: 10, ifname: hostVethName("gone"), address: "aa:aa:aa:aa:aa:02", mtu: 1500, flags: ["UP"], ifalias: hostVethAlias("net", "gone") },
      { ifindex: 11, ifname: hostVethName("other"), address: "aa:aa:aa:aa:aa:03", mtu: 1500, flags: ["UP"], ifalias: hostVethAlias("another-network", "other") },
    );
    node.rules4.push({ priority: 1000, src: "all", dst: "10.6.0.9", table: "500", protocol: "212" });
    const stdin = conf({ cniVersion: "1.1.0", "cni.dev/valid-attachments": [{ containerID: CONTAINER, ifname: "eth0" }] });
    const out = await run({ CNI_COMMAND: "GC" }, stdin);
    expect(out.exitCode).toBe(0);
    expect(host.written("")).toEqual([`link del ${hostVethName("gone")}`, "rule del to 10.6.0.9/32 priority 1000 lookup 500"]);
  });

  it("STATUS is 50 when a tool the config needs is missing", async () => {
    host.missingTools.add("arping");
    const err = errorOf(await run({ CNI_COMMAND: "STATUS" }, conf({ cniVersion: "1.1.0", detectIPConflict: true })));
    expect(err.code).toBe(50);
    expect(err.details).toContain("iputils-arping");
    expect((await run({ CNI_COMMAND: "STATUS" }, conf({ cniVersion: "1.1.0" }))).exitCode).toBe(0);
  });

  it("answers VERSION", async () => {
    const out = await run({ CNI_COMMAND: "VERSION" }, '{"cniVersion":"0.4.0"}');
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: "0.4.0", supportedVersions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] });
  });
});
