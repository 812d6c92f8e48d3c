import { describe, expect, it } from "@jest/globals";
import * as ipam from "../../../ipam/index.js";

describe("ipam/index.ts", () => {
  it("exposes the core from one entry point", () => {
    for (const name of [
      "parseIP",
      "formatIP",
      "parseCIDR",
      "parseIPList",
      "IPSet",
      "buildPoolView",
      "applyPoolRequests",
      "allocate",
      "release",
      "releaseReservation",
      "bindReservation",
      "encodeAllocations",
      "decodeAllocations",
      "selectCandidates",
      "matchesSelector",
      "parseIPPoolAnnotation",
      "parseAssignedIPs",
      "podInterfaces",
      "IpamError",
      "ERROR_CODES",
    ]) {
      expect(typeof (ipam as Record<string, unknown>)[name]).not.toBe("undefined");
    }
  });

  it("runs an admission end to end: select, allocate, annotate, encode", () => {
    const pool = { metadata: { name: "v4-a" }, spec: { subnet: "10.6.0.0/24", ips: ["10.6.0.10-10.6.0.20"], gateway: "10.6.0.1" } };
    const [nic] = ipam.selectCandidates({
      pod: { namespace: "app", annotations: { [ipam.ANNO_IPPOOL]: '{"ipv4":["v4-*"]}' } },
      nics: ipam.podInterfaces({}, "app"),
      pools: [pool],
      subnets: [],
      config: { enableIPv4: true, enableIPv6: false, enableSpiderSubnet: false, clusterDefaultIPv4IPPool: [], clusterDefaultIPv6IPPool: [], installNamespace: "kube-system" },
    });
    expect(nic?.ipv4?.candidates).toEqual([{ name: "v4-a" }]);
    const view = ipam.buildPoolView(pool);
    const { state, allocation } = ipam.allocate(view, ipam.emptyAllocations(), { reservation: { id: "r1", expiresAt: 60_000 } }, { now: 0, coolDownMs: 0 });
    const annotation = ipam.formatAssignedIPs({
      reservation: "r1",
      ips: [{ interface: "eth0", ipv4: ipam.formatAddressInCIDR(allocation.address, view.subnet), ipv4Pool: "v4-a", ipv4Gateway: "10.6.0.1", ipv4Token: allocation.token }],
    });
    expect(annotation).toBe('{"reservation":"r1","ips":[{"interface":"eth0","ipv4":"10.6.0.10/24","ipv4Pool":"v4-a","ipv4Gateway":"10.6.0.1","ipv4Token":1}]}');
    expect(ipam.encodeAllocations(state, view.subnet)).toBe("v1;2;a;r1||1aao|a@eth0;");
  });
});
