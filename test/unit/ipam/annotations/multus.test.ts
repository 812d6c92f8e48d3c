import { describe, expect, it } from "@jest/globals";
import {
  parseDefaultNetworkAnnotation,
  parseNetworksAnnotation,
  podInterfaces,
} from "../../../../ipam/annotations/multus.js";
import { problem } from "../throws.js";


describe("Multus annotations", () => {
  it("reads the comma form, defaulting namespaces and naming NICs net1, net2, …", () => {
    expect(parseNetworksAnnotation("kube-system/macvlan@data, sriov ,other/ipvlan", "app")).toEqual([
      { interface: "data", network: { namespace: "kube-system", name: "macvlan" } },
      { interface: "net2", network: { namespace: "app", name: "sriov" } },
      { interface: "net3", network: { namespace: "other", name: "ipvlan" } },
    ]);
  });

  it("reads the JSON form and ignores Multus' other fields", () => {
    const v = '[{"name":"macvlan","namespace":"kube-system","interface":"eth1","ips":["10.6.0.5/24"]},{"name":"sriov"}]';
    expect(parseNetworksAnnotation(v, "app")).toEqual([
      { interface: "eth1", network: { namespace: "kube-system", name: "macvlan" } },
      { interface: "net2", network: { namespace: "app", name: "sriov" } },
    ]);
  });

  it("builds the pod's interface list with the first NIC's network", () => {
    const nics = podInterfaces(
      { "v1.multus-cni.io/default-network": "kube-system/calico", "k8s.v1.cni.cncf.io/networks": "macvlan" },
      "app",
    );
    expect(nics).toEqual([
      { interface: "eth0", network: { namespace: "kube-system", name: "calico" } },
      { interface: "net1", network: { namespace: "app", name: "macvlan" } },
    ]);
    expect(podInterfaces(undefined, "app")).toEqual([{ interface: "eth0" }]);
    expect(podInterfaces({}, "app", { namespace: "kube-system", name: "k8s-pod-network" })).toEqual([
      { interface: "eth0", network: { namespace: "kube-system", name: "k8s-pod-network" } },
    ]);
    expect(parseDefaultNetworkAnnotation("calico", "app")).toEqual({ namespace: "app", name: "calico" });
  });

  it.each([
    ["a/b/c", "has more than one '/'"],
    ["Macvlan", "'Macvlan' is not a valid network name"],
    ["a@net1,b@net1", "interface net1 is used twice"],
    ["a@eth0", "interface eth0 is used twice (eth0 is the first NIC)"],
    ["a@", "empty interface name"],
    ['[{"namespace":"x"}]', "'' is not a valid network name"],
    ['{"name":"a"}', "must be a list of network selections"],
    ["[oops", "not valid JSON"],
  ])("refuses %j", (value, message) => {
    const text = problem(() => parseNetworksAnnotation(value, "app"));
    expect(text).toContain("annotation k8s.v1.cni.cncf.io/networks");
    expect(text).toContain(message);
  });

  it("refuses a default network with an interface or several networks", () => {
    expect(problem(() => parseDefaultNetworkAnnotation("a@net1", "app"))).toContain("always eth0");
    expect(problem(() => parseDefaultNetworkAnnotation("a,b", "app"))).toContain("exactly one network");
  });
});
