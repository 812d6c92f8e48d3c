import { describe, expect, it } from "@jest/globals";
import { formatIP } from "../../../../ipam/address/ip.js";
import { buildPoolView, reservedAddresses, saturatingCount } from "../../../../ipam/allocation/pool-view.js";
import { view } from "./fixtures.js";
import { codeOf } from "../throws.js";


describe("buildPoolView", () => {
  it("allocatable = ips − excludeIPs − gateway − reserved; total = |ips − excludeIPs|", () => {
    const v = view(
      "v4-a",
      { subnet: "10.6.0.0/24", ips: ["10.6.0.1-10.6.0.10"], excludeIPs: ["10.6.0.5"], gateway: "10.6.0.1" },
      ["10.6.0.10", "10.7.0.1"],
    );
    expect(v.family).toBe(4);
    expect(v.allocatable.toStrings()).toEqual(["10.6.0.2-10.6.0.4", "10.6.0.6-10.6.0.9"]);
    expect(v.totalIPCount).toBe(9);
    expect(v.reserved.toStrings()).toEqual(["10.6.0.10"]);
    expect(formatIP(4, v.gateway ?? 0n)).toBe("10.6.0.1");
  });

  it("an absent ips list means no addresses, never the whole subnet", () => {
    const v = view("empty", { subnet: "10.6.0.0/24" });
    expect(v.allocatable.isEmpty).toBe(true);
    expect(v.totalIPCount).toBe(0);
  });

  it("saturates the count of a /64 and does not enumerate it", () => {
    const v = view("v6", { subnet: "fd00::/64", ips: ["fd00::-fd00::ffff:ffff:ffff:ffff"] });
    expect(v.totalIPCount).toBe(Number.MAX_SAFE_INTEGER);
    expect(saturatingCount(5n)).toBe(5);
  });

  it.each([
    [{ subnet: "10.6.0.5/24" }, "POOL_INVALID", /host bits are set/],
    [{ subnet: "10.6.0.0/24", ips: ["10.6.1.1"] }, "POOL_INVALID", /ips 10\.6\.1\.1 lie outside subnet 10\.6\.0\.0\/24/],
    [{ subnet: "10.6.0.0/24", excludeIPs: ["10.6.0.1-10.6.1.1"] }, "POOL_INVALID", /excludeIPs 10\.6\.1\.0-10\.6\.1\.1 lie outside/],
    [{ subnet: "10.6.0.0/24", gateway: "10.6.1.1" }, "POOL_INVALID", /gateway 10\.6\.1\.1 lies outside/],
    [{ subnet: "10.6.0.0/24", gateway: "fd00::1" }, "FAMILY_MISMATCH", /gateway 'fd00::1' is IPv6/],
    [{ subnet: "10.6.0.0/24", ipVersion: 6 as const }, "FAMILY_MISMATCH", /ipVersion is 6 but subnet/],
    [{ subnet: "10.6.0.0/24", ips: ["fd00::1"] }, "FAMILY_MISMATCH", /ips\[0\]: 'fd00::1' is IPv6/],
    [{ subnet: "10.6.0.0/24", ips: ["10.6.0.9-10.6.0.1"] }, "POOL_INVALID", /start is above the end/],
  ])("refuses %j with %s", (spec, code, message) => {
    const build = () => buildPoolView({ metadata: { name: "p" }, spec });
    expect(codeOf(build)).toBe(code);
    expect(build).toThrow(message);
    expect(build).toThrow(/^pool p: /);
  });

  it("collects SpiderReservedIP addresses of one family", () => {
    const objects = [
      { metadata: { name: "r4" }, spec: { ips: ["10.6.0.1-10.6.0.3"] } },
      { metadata: { name: "r6" }, spec: { ipVersion: 6 as const, ips: ["fd00::1"] } },
      { metadata: { name: "r4b" }, spec: { ipVersion: 4 as const, ips: ["10.6.0.4"] } },
    ];
    expect(reservedAddresses(4, objects).toStrings()).toEqual(["10.6.0.1-10.6.0.4"]);
    expect(reservedAddresses(6, objects).toStrings()).toEqual(["fd00::1"]);
  });
});
