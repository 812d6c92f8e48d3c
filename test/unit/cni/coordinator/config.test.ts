import { describe, expect, it } from "@jest/globals";
import { canonicalDst, canonicalIP, networkOf, parseCidr } from "../../../../cni/coordinator/addr.js";
import { parseCoordinatorConf } from "../../../../cni/coordinator/config.js";
import { resolveSettings } from "../../../../cni/coordinator/settings.js";
import { cniError } from "../helpers.js";

const conf = (over: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: "1.0.0", name: "net", type: "coordinator", prevResult: {}, ...over });

describe("the coordinator's network config", () => {
  it("reads Spiderpool's fields, in either spelling of the default-route NIC", () => {
    const c = parseCoordinatorConf(
      conf({
        mode: "underlay",
        tunePodRoutes: false,
        podDefaultRouteNic: "net1",
        detectGateway: true,
        detectIPConflict: true,
        detectOptions: { retries: 2, interval: "10ms", timeout: "1s" },
        podMACPrefix: "0A-1B",
        serviceCIDR: ["10.233.0.5/18", "fd00:0:0:0::/108"],
        hostRuleTable: 600,
        hostRPFilter: -1,
        podRPFilter: 2,
        txQueueLen: 1000,
        vethLinkAddress: "169.254.100.1",
        vethMTU: 1400,
        podCIDRType: "calico",
        multusNicPrefix: "net",
        logOptions: { logLevel: "warning", logFile: "/var/log/spidernet/coordinator.log", logMaxSize: 10, logMaxAge: 5, logMaxCount: 2 },
      }),
      "ADD",
    );
    expect(c.tunables).toEqual({
      mode: "underlay",
      tunePodRoutes: false,
      podDefaultRouteNIC: "net1",
      detectGateway: true,
      detectIPConflict: true,
      podMACPrefix: "0a:1b",
      serviceCIDR: [{ family: 4, ip: "10.233.0.0", prefix: 18 }, { family: 6, ip: "fd00::", prefix: 108 }],
      hostRuleTable: 600,
      hostRPFilter: -1,
      podRPFilter: 2,
      txQueueLen: 1000,
      vethLinkAddress: "169.254.100.1",
      vethMTU: 1400,
    });
    expect(c.detect).toEqual({ retries: 2, intervalMs: 10, timeoutMs: 1000 });
    expect(c.log).toEqual({ level: "warn", file: "/var/log/spidernet/coordinator.log", maxSizeMiB: 10, maxCount: 2 });
    expect(parseCoordinatorConf(conf({ podDefaultRouteNIC: "net2" }), "ADD").tunables.podDefaultRouteNIC).toBe("net2");
    expect(parseCoordinatorConf(conf({ mode: "disable" }), "ADD").tunables.mode).toBe("disabled");
  });

  it("defaults to the agent's socket, eth0 as the first NIC, and nothing else set", () => {
    const c = parseCoordinatorConf(conf(), "ADD");
    expect(c).toMatchObject({ agentSocketPath: "/var/run/spidernet/spiderpool.sock", podDefaultCniNic: "eth0", tunables: {} });
  });

  it.each([
    ["an unknown field", { serviceCidr: [] }, 2, "unsupported field serviceCidr"],
    ["a bad mode", { mode: "bridge" }, 7, 'mode is "bridge"'],
    ["a multicast MAC prefix", { podMACPrefix: "01:1b" }, 7, "podMACPrefix"],
    ["an rp_filter of 3", { podRPFilter: 3 }, 7, "podRPFilter must be a whole number from -1 to 2"],
    ["a table of 0", { hostRuleTable: 0 }, 7, "hostRuleTable"],
    ["a duration without unit", { detectOptions: { timeout: "100" } }, 7, "detectOptions.timeout"],
    ["a relative agent socket", { agentSocketPath: "agent.sock" }, 7, "agentSocketPath"],
    ["an interface name with a slash", { podDefaultRouteNIC: "a/b" }, 7, "podDefaultRouteNIC is not an interface name"],
    ["a veth address that is not one", { vethLinkAddress: "169.254.100" }, 7, "vethLinkAddress"],
    ["an unknown log level", { logOptions: { logLevel: "loud" } }, 7, "logOptions.logLevel"],
    ["a hijackCIDR that is a bare address", { hijackCIDR: ["169.254.20.10"] }, 7, "hijackCIDR[0] is not a CIDR"],
  ])("refuses %s", (_what, over, code, msg) => {
    const err = cniError(() => parseCoordinatorConf(conf(over), "ADD"));
    expect(err.code).toBe(code);
    expect(err.message).toContain(msg);
  });

  it("ADD and CHECK need a prevResult: the coordinator is chained", () => {
    const err = cniError(() => parseCoordinatorConf(conf({ prevResult: undefined }), "CHECK"));
    expect(err).toMatchObject({ code: 7, message: "CHECK without prevResult" });
    expect(parseCoordinatorConf(conf({ prevResult: undefined }), "DEL").prevResult).toBeUndefined();
  });

  it("GC needs the valid attachments; CHECK needs 0.4.0", () => {
    expect(cniError(() => parseCoordinatorConf(conf({ cniVersion: "1.1.0" }), "GC")).code).toBe(7);
    expect(parseCoordinatorConf(conf({ cniVersion: "1.1.0", "cni.dev/attachments": [{ containerID: "a", ifname: "eth0" }] }), "GC").validAttachments).toEqual([{ containerID: "a", ifname: "eth0" }]);
    expect(cniError(() => parseCoordinatorConf(conf({ cniVersion: "0.3.1" }), "CHECK")).code).toBe(1);
  });
});

describe("settings", () => {
  it("the network config wins over the cluster's defaults, the Pod's annotation over both for the default route", () => {
    const svc = (ip: string) => [{ family: 4 as const, ip, prefix: 16 }];
    const s = resolveSettings({ mode: "underlay", serviceCIDR: svc("10.1.0.0"), podDefaultRouteNIC: "net1" }, { mode: "disabled", serviceCIDR: svc("10.2.0.0"), overlayPodCIDR: svc("10.3.0.0"), hostRuleTable: 700 }, "net2");
    expect(s).toMatchObject({ mode: "underlay", hostRuleTable: 700, podDefaultRouteNIC: "net2", tunePodRoutes: true, podRPFilter: 0 });
    expect(s.hijack.map((c) => c.ip)).toEqual(["10.1.0.0", "10.3.0.0"]);
    expect(resolveSettings({}, {}).mode).toBe("auto");
  });
});

describe("addresses as ip prints them", () => {
  it.each([
    ["FD00:0:0:0:0:0:0:1", "fd00::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["fe80:0:0:0:1:2:3:4", "fe80::1:2:3:4"],
    ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
    ["10.6.0.5", "10.6.0.5"],
  ])("%s is %s", (text, canonical) => expect(canonicalIP(text)).toBe(canonical));

  it("clears host bits and reads ip's destinations", () => {
    expect(networkOf(parseCidr("10.6.7.8/20") ?? { family: 4, ip: "", prefix: 0 })).toBe("10.6.0.0/20");
    expect(networkOf(parseCidr("fd00::ffff/120") ?? { family: 6, ip: "", prefix: 0 })).toBe("fd00::ff00/120");
    expect(canonicalDst("default", 6)).toBe("::/0");
    expect(canonicalDst("10.6.0.5", 4)).toBe("10.6.0.5/32");
    expect(parseCidr("10.6.0.5/33")).toBeUndefined();
  });
});
