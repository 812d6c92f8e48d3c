import { describe, expect, it } from "@jest/globals";
import { cidrFamily } from "../../../cni/address-syntax.js";
import { agentRefusal, readAddAnswer, readAgentError } from "../../../cni/agent-answer.js";
import type { AddAnswer } from "../../../cni/protocol.js";
import { formatAddResult, isDefaultRoute } from "../../../cni/result.js";
import { SUPPORTED_VERSIONS } from "../../../cni/versions.js";
import { cniCode, cniError } from "./helpers.js";

/** A dual-stack answer for eth0 plus an address of the Pod's second NIC. */
const answer: AddAnswer = {
  ips: [
    { interface: "eth0", address: "10.6.0.5/24", gateway: "10.6.0.1", family: 4, vlan: 100 },
    { interface: "eth0", address: "fd00:6::5/64", gateway: "fd00:6::1", family: 6 },
    { interface: "net1", address: "10.7.0.9/16", family: 4 },
  ],
  routes: [
    { dst: "0.0.0.0/0", gw: "10.6.0.1" },
    { dst: "::/0", gw: "fd00:6::1" },
    { dst: "172.16.0.0/12", gw: "10.6.0.254" },
    { dst: "10.96.0.0/12" },
  ],
};
const opts = { ifName: "eth0", cleanGateway: false };

describe("formatAddResult", () => {
  it.each([
    ["0.3.0", true],
    ["0.3.1", true],
    ["0.4.0", true],
    ["1.0.0", false],
    ["1.1.0", false],
  ] as const)("at %s echoes cniVersion, and IPs carry `version`: %s", (cniVersion, withVersion) => {
    const result = formatAddResult(answer, { ...opts, cniVersion });
    expect(result.cniVersion).toBe(cniVersion);
    expect(result.ips.map((ip) => "version" in ip)).toEqual([withVersion, withVersion]);
    if (withVersion) expect(result.ips.map((ip) => ip.version)).toEqual(["4", "6"]);
  });

  it("is an IPAM result: no interfaces, no interface index, no vlan; only CNI_IFNAME's addresses", () => {
    const result = formatAddResult(answer, { ...opts, cniVersion: "1.0.0" });
    expect(result).toEqual({
      cniVersion: "1.0.0",
      ips: [
        { address: "10.6.0.5/24", gateway: "10.6.0.1" },
        { address: "fd00:6::5/64", gateway: "fd00:6::1" },
      ],
      routes: [
        { dst: "0.0.0.0/0", gw: "10.6.0.1" },
        { dst: "::/0", gw: "fd00:6::1" },
        { dst: "172.16.0.0/12", gw: "10.6.0.254" },
        { dst: "10.96.0.0/12" },
      ],
    });
    expect(JSON.stringify(result)).not.toMatch(/interface|vlan/);
  });

  it("the exact 0.3.1 text", () => {
    const result = formatAddResult({ ips: [answer.ips[0]!], routes: [answer.routes[0]!] }, { ...opts, cniVersion: "0.3.1" });
    expect(JSON.stringify(result)).toBe(
      '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.6.0.5/24","gateway":"10.6.0.1"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.6.0.1"}]}',
    );
  });

  it("clean_gateway drops the default routes of both families, keeps the others and the gateways", () => {
    const result = formatAddResult(answer, { ...opts, cniVersion: "1.1.0", cleanGateway: true });
    expect(result.routes).toEqual([{ dst: "172.16.0.0/12", gw: "10.6.0.254" }, { dst: "10.96.0.0/12" }]);
    expect(result.ips.map((ip) => ip.gateway)).toEqual(["10.6.0.1", "fd00:6::1"]);
  });

  it("omits routes and dns when there are none, and passes dns through", () => {
    const bare = formatAddResult({ ips: [answer.ips[2]!], routes: [] }, { ...opts, ifName: "net1", cniVersion: "1.0.0" });
    expect(bare).toEqual({ cniVersion: "1.0.0", ips: [{ address: "10.7.0.9/16" }] });
    const dns = { nameservers: ["10.96.0.10"], search: ["svc.cluster.local"] };
    expect(formatAddResult({ ...answer, dns }, { ...opts, cniVersion: "1.0.0" }).dns).toEqual(dns);
    expect(formatAddResult({ ...answer, dns: {} }, { ...opts, cniVersion: "1.0.0" }).dns).toBeUndefined();
  });

  it("refuses an answer with no address for CNI_IFNAME (code 100, naming what it had)", () => {
    const err = cniError(() => formatAddResult(answer, { ...opts, ifName: "net2", cniVersion: "1.0.0" }));
    expect(err.code).toBe(100);
    expect(err.message).toMatch(/no address for interface net2/);
    expect(err.details).toBe("the answer has addresses for eth0, net1");
  });

  it.each([
    ["0.0.0.0/0", true],
    ["::/0", true],
    ["10.0.0.0/8", false],
    ["::/1", false],
  ])("isDefaultRoute(%s) = %s", (dst, yes) => {
    expect(isDefaultRoute(dst)).toBe(yes);
  });

  it("speaks every supported version", () => {
    for (const cniVersion of SUPPORTED_VERSIONS) expect(formatAddResult(answer, { ...opts, cniVersion }).ips).toHaveLength(2);
  });
});

describe("reading the agent's answers", () => {
  it("reads a full ADD answer and defaults missing routes to none", () => {
    expect(readAddAnswer(JSON.parse(JSON.stringify(answer)))).toEqual(answer);
    expect(readAddAnswer({ ips: [answer.ips[0]] }).routes).toEqual([]);
  });

  it.each([
    ["not an object", []],
    ["no ips", { routes: [] }],
    ["an address without prefix", { ips: [{ interface: "eth0", address: "10.6.0.5", family: 4 }] }],
    ["a family that disagrees", { ips: [{ interface: "eth0", address: "10.6.0.5/24", family: 6 }] }],
    ["a prefix too long", { ips: [{ interface: "eth0", address: "10.6.0.5/33", family: 4 }] }],
    ["an IPv6 gateway for IPv4", { ips: [{ interface: "eth0", address: "10.6.0.5/24", gateway: "fd00::1", family: 4 }] }],
    ["no interface", { ips: [{ address: "10.6.0.5/24", family: 4 }] }],
    ["a vlan of 4095", { ips: [{ interface: "eth0", address: "10.6.0.5/24", family: 4, vlan: 4095 }] }],
    ["a route to a bare address", { ips: [answer.ips[0]], routes: [{ dst: "10.0.0.1" }] }],
    ["a route whose gw is of the other family", { ips: [answer.ips[0]], routes: [{ dst: "10.0.0.0/8", gw: "fd00::1" }] }],
    ["dns.nameservers as a string", { ips: [answer.ips[0]], routes: [], dns: { nameservers: "10.96.0.10" } }],
    ["a zone id", { ips: [{ interface: "eth0", address: "fe80::1%eth0/64", family: 6 }] }],
  ])("refuses %s with code 100", (_what, body) => {
    expect(cniCode(() => readAddAnswer(body))).toBe(100);
  });

  it.each([
    ["10.0.0.0/8", 4],
    ["fd00::/8", 6],
    ["10.0.0.0/x", undefined],
    ["10.0.0.0/", undefined],
    ["fd00::/129", undefined],
    ["010.0.0.1/8", undefined],
  ])("cidrFamily(%s) = %s", (text, family) => {
    expect(cidrFamily(text)).toBe(family);
  });

  it("reads an AgentError and puts its reason first in the details", () => {
    const body = { code: 110, msg: "pool v4-a has 0 of 500 addresses free", reason: "POOL_EXHAUSTED", details: "namespace default" };
    const err = readAgentError(body);
    expect(err).toEqual(body);
    const printed = agentRefusal(err!);
    expect([printed.code, printed.message, printed.details]).toEqual([110, body.msg, "POOL_EXHAUSTED: namespace default"]);
    expect(agentRefusal({ code: 11, msg: "later" }).details).toBe("");
  });

  it.each([[undefined], ["x"], [{ msg: "no code" }], [{ code: 0, msg: "zero" }], [{ code: 1.5, msg: "x" }], [{ code: 7 }]])(
    "does not take %j for an AgentError",
    (body) => {
      expect(readAgentError(body)).toBeUndefined();
    },
  );
});
