import { describe, expect, it } from "@jest/globals";
import { defaultMultusConfig, multusConfigWarnings, validateMultusConfig } from "../../../ipam/kinds/multus-config-admission.js";
import { desiredNad, nadUpToDate } from "../../../ipam/kinds/multus-config-nad.js";
import type { MultusConfigSpec, SpiderMultusConfig } from "../../../ipam/kinds/multus-config.js";
import { cniConfigIpam, networkIpam, parsePrimaryNetwork } from "../../../ipam/kinds/network-attachment.js";

const smc = (spec: Partial<MultusConfigSpec>, annotations?: Record<string, string>): SpiderMultusConfig => ({
  metadata: { name: "net-a", namespace: "app", uid: "u1", ...(annotations ? { annotations } : {}) },
  spec: { cniType: "macvlan", ...spec },
});
const config = (s: SpiderMultusConfig): { cniVersion: string; name: string; plugins: Record<string, unknown>[] } => JSON.parse(desiredNad(s).spec?.config ?? "null") as never;
const messages = (s: SpiderMultusConfig, old?: SpiderMultusConfig): string[] => validateMultusConfig(s, old).map((v) => v.message);

describe("SpiderMultusConfig to NetworkAttachmentDefinition", () => {
  it("writes the main plugin with spiderpool IPAM and its default pools, then the coordinator entry", () => {
    const s = defaultMultusConfig(smc({ macvlan: { master: ["eth1"], ippools: { ipv4: ["a"], ipv6: ["a6"] } }, coordinator: { mode: "underlay", podDefaultRouteNIC: "net1", detectGateway: true } }));
    expect(config(s)).toEqual({
      cniVersion: "0.3.1",
      name: "net-a",
      plugins: [
        { type: "macvlan", master: "eth1", mode: "bridge", ipam: { type: "spiderpool", default_ipv4_ippool: ["a"], default_ipv6_ippool: ["a6"] } },
        { type: "coordinator", mode: "underlay", podDefaultRouteNic: "net1", detectGateway: true },
      ],
    });
    expect(desiredNad(s).metadata).toMatchObject({ name: "net-a", namespace: "app", ownerReferences: [{ kind: "SpiderMultusConfig", name: "net-a", uid: "u1", controller: true }] });
    // What it generates is read back as a Spiderpool network with those defaults.
    expect(networkIpam(desiredNad(s))).toEqual({ kind: "spiderpool", defaults: { ipv4: ["a"], ipv6: ["a6"] }, cleanGateway: false });
  });

  it.each([
    [{ cniType: "macvlan", macvlan: { master: ["eth1"], vlanID: 100 } }, { type: "macvlan", master: "eth1.100" }],
    [{ cniType: "ipvlan", ipvlan: { master: ["eth1", "eth2"], bond: { name: "bond0", mode: 1 }, vlanID: 7 } }, { type: "ipvlan", master: "bond0.7" }],
    [{ cniType: "sriov", sriov: { resourceName: "r/vf", vlanID: 5, maxTxRateMbps: 100 } }, { type: "sriov", vlan: 5, maxTxRate: 100 }],
    [{ cniType: "ovs", ovs: { bridge: "br1", vlan: 9 } }, { type: "ovs", bridge: "br1", vlan: 9 }],
    [{ cniType: "ib-sriov", ibsriov: { resourceName: "r/ib", pkey: "0x8001" } }, { type: "ib-sriov", pkey: "0x8001" }],
  ])("writes %j as %j", (spec, plugin) => {
    const s = smc({ ...(spec as Partial<MultusConfigSpec>), enableCoordinator: false });
    expect(config(s).plugins).toEqual([expect.objectContaining({ ...plugin, ipam: { type: "spiderpool" } })]);
  });

  it("chains rdma after sriov, puts the resource on the NAD, and leaves IPAM out when disabled", () => {
    const s = smc({ cniType: "sriov", sriov: { resourceName: "r/vf", enableRdma: true }, disableIPAM: true, enableCoordinator: false });
    expect(config(s).plugins).toEqual([{ type: "sriov" }, { type: "rdma" }]);
    expect(desiredNad(s).metadata.annotations).toEqual({ "k8s.v1.cni.cncf.io/resourceName": "r/vf" });
    expect(networkIpam(desiredNad(s)).kind).toBe("other");
  });

  it("takes the name and cniVersion from the annotations and writes custom configs as they are", () => {
    const named = smc({ macvlan: { master: ["eth1"] } }, { "multus.spidernet.io/cr-name": "other-name", "multus.spidernet.io/cni-version": "1.0.0" });
    expect(desiredNad(named).metadata.name).toBe("other-name");
    expect(config(named)).toMatchObject({ cniVersion: "1.0.0", name: "other-name" });
    const custom = smc({ cniType: "custom", customCNI: '{"cniVersion":"1.0.0","name":"x","type":"bridge"}' });
    expect(desiredNad(custom).spec?.config).toBe('{"cniVersion":"1.0.0","name":"x","type":"bridge"}');
    expect(desiredNad(smc({ cniType: "custom" })).spec).toEqual({});
  });

  it("tells a NAD that matches from one that was edited or belongs to another owner", () => {
    const want = desiredNad(smc({ macvlan: { master: ["eth1"] } }));
    expect(nadUpToDate(want, want)).toBe(true);
    expect(nadUpToDate({ ...want, spec: { config: "{}" } }, want)).toBe(false);
    expect(nadUpToDate({ ...want, metadata: { ...want.metadata, ownerReferences: [] } }, want)).toBe(false);
  });
});

describe("SpiderMultusConfig admission", () => {
  it("defaults the coordinator on and IPAM on, as Spiderpool does", () => {
    expect(defaultMultusConfig(smc({ macvlan: { master: ["eth1"] } })).spec).toMatchObject({ enableCoordinator: true, disableIPAM: false });
    expect(defaultMultusConfig(smc({ macvlan: { master: ["eth1"] }, enableCoordinator: false })).spec.enableCoordinator).toBe(false);
  });

  it("admits a well-formed spec of each type", () => {
    for (const spec of [
      { macvlan: { master: ["eth1"], vlanID: 0 } },
      { cniType: "sriov", sriov: { resourceName: "r" } },
      { cniType: "ovs", ovs: { bridge: "br", trunk: [{ minID: 1, maxID: 5 }] } },
      { cniType: "custom", customCNI: "" },
    ] as Partial<MultusConfigSpec>[]) {
      expect(messages(smc(spec))).toEqual([]);
    }
  });

  it.each([
    [{ cniType: "vxlan" }, /spec.cniType is 'vxlan'; use one of macvlan, ipvlan, sriov, ovs, ib-sriov, custom/],
    [{ cniType: "sriov" }, /cniType sriov needs spec.sriov/],
    [{ macvlan: { master: ["eth1"], vlanID: 5000 } }, /spec.macvlan.vlanID is 5000; use a whole number from 0 to 4094/],
    [{ macvlan: { master: ["averylonginterface"] } }, /spec.macvlan.master: interface name 'averylonginterface' is 18 bytes/],
    [{ macvlan: { master: ["eth12345678"], vlanID: 4000 } }, /the VLAN interface eth12345678.4000: .*16 bytes/],
    [{ cniType: "sriov", sriov: { resourceName: "r", minTxRateMbps: 10, maxTxRateMbps: 5 } }, /minTxRateMbps \(10\) is above maxTxRateMbps \(5\)/],
    [{ cniType: "ovs", ovs: { bridge: "br", trunk: [{ minID: 9, maxID: 2 }] } }, /trunk\[0\] has minID 9 above maxID 2/],
    [{ macvlan: { master: ["eth1"], ippools: { ipv4: ["Bad_Name"] } } }, /ippools.ipv4 has 'Bad_Name'/],
    [{ macvlan: { master: ["eth1"] }, coordinator: { mode: "fast" } }, /spec.coordinator.mode is 'fast'/],
    [{ macvlan: { master: ["eth1"] }, coordinator: { hijackCIDR: ["10.0.0.1/8"] } }, /spec.coordinator.hijackCIDR/],
  ])("refuses %j", (spec, message) => {
    expect(messages(smc(spec as Partial<MultusConfigSpec>)).join("; ")).toMatch(message);
  });

  it("refuses a bad cni-version and a change of the NAD's name", () => {
    expect(messages(smc({ macvlan: { master: ["eth1"] } }, { "multus.spidernet.io/cni-version": "0.2.0" })).join()).toMatch(/use one of 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0/);
    const old = smc({ macvlan: { master: ["eth1"] } });
    expect(messages(smc({ macvlan: { master: ["eth1"] } }, { "multus.spidernet.io/cr-name": "new" }), old).join()).toMatch(/cannot change \(from 'net-a' to 'new'\)/);
  });

  it("warns that VLAN and bond interfaces must exist on the nodes", () => {
    expect(multusConfigWarnings(smc({ macvlan: { master: ["eth1"], vlanID: 100 } }))).toEqual([expect.stringContaining("master eth1.100, which must exist on every node")]);
    expect(multusConfigWarnings(smc({ macvlan: { master: ["eth1"] } }))).toEqual([]);
  });
});

describe("reading a network's IPAM", () => {
  it.each([
    ['{"cniVersion":"1.0.0","name":"n","type":"macvlan","ipam":{"type":"spiderpool","clean_gateway":true}}', { kind: "spiderpool", defaults: { ipv4: [], ipv6: [] }, cleanGateway: true }],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"macvlan","ipam":{"type":"whereabouts"}},{"type":"tuning"}]}', { kind: "other", ipamType: "whereabouts" }],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"}]}', { kind: "other" }],
    ["", { kind: "unknown", why: expect.stringContaining("file on the node") }],
    ["{oops", { kind: "unknown", why: "its config is not valid JSON" }],
  ])("%s", (text, want) => {
    expect(cniConfigIpam(text)).toEqual(want);
  });

  it("parses the primary-network setting", () => {
    expect(parsePrimaryNetwork("spiderpool")).toBe("spiderpool");
    expect(parsePrimaryNetwork("other")).toBe("other");
    expect(parsePrimaryNetwork("kube-system/calico")).toEqual({ namespace: "kube-system", name: "calico" });
    expect(parsePrimaryNetwork("Calico")).toBeUndefined();
  });
});
