import { describe, expect, it } from "@jest/globals";
import { podInterfaces } from "../../../../ipam/annotations/multus.js";
import type { NetworkIpam } from "../../../../ipam/kinds/network-attachment.js";
import { spiderpoolNics } from "../../../../ipam/selection/nics.js";

const spiderpool = (ipv4: string[] = []): NetworkIpam => ({ kind: "spiderpool", defaults: { ipv4, ipv6: [] }, cleanGateway: false });
const known = new Map<string, NetworkIpam>([
  ["app/sp", spiderpool(["p"])],
  ["app/calico", { kind: "other", ipamType: "calico-ipam" }],
  ["app/file", { kind: "unknown", why: "its config is empty" }],
]);
const nics = (annotations: Record<string, string>, primary: Parameters<typeof spiderpoolNics>[0]["primary"], forced?: string[]) =>
  spiderpoolNics({ interfaces: podInterfaces(annotations, "app"), primary, networks: known, ...(forced ? { forced } : {}) });

describe("which of a Pod's NICs are Spiderpool's", () => {
  it("serves eth0 by the primary network setting, secondaries by their NAD", () => {
    const a = { "k8s.v1.cni.cncf.io/networks": "sp, calico, file, missing@extra" };
    expect(nics(a, "spiderpool").nics.map((n) => n.interface)).toEqual(["eth0", "net1"]);
    expect(nics(a, "other").nics.map((n) => n.interface)).toEqual(["net1"]);
    expect(nics(a, "other").nics[0]).toEqual({ interface: "net1", network: { namespace: "app", name: "sp" }, cniDefaults: { ipv4: ["p"], ipv6: [] }, cleanGateway: false });
  });

  it("says which NICs it could not judge, and not those of another IPAM", () => {
    const { undecided } = nics({ "k8s.v1.cni.cncf.io/networks": "calico, file, missing@extra" }, "other");
    expect(undecided).toEqual([expect.stringMatching(/^net2 is attached through app\/file, whose IPAM Spiderpool cannot tell/), expect.stringMatching(/^extra is attached through app\/missing, which is no NetworkAttachmentDefinition/)]);
  });

  it("judges eth0 by the Pod's default network, or by the primary network's NAD", () => {
    expect(nics({ "v1.multus-cni.io/default-network": "sp" }, "other").nics.map((n) => n.interface)).toEqual(["eth0"]);
    expect(nics({ "v1.multus-cni.io/default-network": "calico" }, "spiderpool").nics).toEqual([]);
    expect(nics({}, { namespace: "app", name: "sp" }).nics).toEqual([expect.objectContaining({ interface: "eth0", cniDefaults: { ipv4: ["p"], ipv6: [] } })]);
    expect(nics({}, { namespace: "app", name: "calico" }).nics).toEqual([]);
  });

  it("serves a NIC the CNI plugin asked for (late allocation) whatever its network says", () => {
    expect(nics({ "k8s.v1.cni.cncf.io/networks": "file" }, "other", ["net1"]).nics.map((n) => n.interface)).toEqual(["net1"]);
  });

  it("takes every named network as Spiderpool's when networks cannot be looked up", () => {
    const r = spiderpoolNics({ interfaces: podInterfaces({ "k8s.v1.cni.cncf.io/networks": "calico" }, "app"), primary: "spiderpool" });
    expect(r.nics.map((n) => n.interface)).toEqual(["eth0", "net1"]);
  });
});
