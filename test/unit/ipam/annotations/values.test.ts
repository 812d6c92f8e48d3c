import { describe, expect, it } from "@jest/globals";
import { parseIP } from "../../../../ipam/address/ip.js";
import { formatPinnedIPs, parsePinnedIPs } from "../../../../ipam/annotations/pinned.js";
import { formatRoutesAnnotation, parseRoutesAnnotation } from "../../../../ipam/annotations/routes.js";
import {
  autoPoolSize,
  formatPoolIPNumber,
  formatReclaim,
  parsePoolIPNumber,
  parseReclaim,
} from "../../../../ipam/annotations/scalars.js";
import { problem } from "../throws.js";


describe("ippool-ip-number and ippool-reclaim", () => {
  it.each([
    ["5", { flexible: false, count: 5 }, 5],
    ["+2", { flexible: true, count: 2 }, 5],
    ["0", { flexible: false, count: 0 }, 0],
    ["+0", { flexible: true, count: 0 }, 3],
  ])("%s", (value, parsed, size) => {
    const n = parsePoolIPNumber(value);
    expect(n).toEqual(parsed);
    expect(formatPoolIPNumber(n)).toBe(value);
    expect(autoPoolSize(n, 3)).toBe(size);
  });

  it.each(["-1", "05", "+", "1.5", " 3", "3 ", "2+", "", "1e3"])("refuses %j", (value) => {
    expect(problem(() => parsePoolIPNumber(value))).toBe(
      `annotation ipam.spidernet.io/ippool-ip-number has value '${value}': expected "N" (a fixed number of addresses) or "+N" (replicas plus N spares), e.g. "5" or "+2"`,
    );
  });

  it("reclaim takes what Go's ParseBool takes", () => {
    expect(parseReclaim("true")).toBe(true);
    expect(parseReclaim("False")).toBe(false);
    expect(parseReclaim("0")).toBe(false);
    expect(formatReclaim(false)).toBe("false");
    expect(problem(() => parseReclaim("yes"))).toContain('expected "true" or "false"');
  });
});

describe("routes", () => {
  it("canonicalises destinations and gateways", () => {
    const r = parseRoutesAnnotation('[{"dst":"10.7.0.0/16","gw":"10.6.0.1"},{"dst":"FD00:7::/64","gw":"fd00:6:0:0::1"}]');
    expect(r).toEqual([
      { dst: "10.7.0.0/16", gw: "10.6.0.1" },
      { dst: "fd00:7::/64", gw: "fd00:6::1" },
    ]);
    expect(parseRoutesAnnotation(formatRoutesAnnotation(r))).toEqual(r);
  });

  it.each([
    ['[{"dst":"10.7.0.1/16","gw":"10.6.0.1"}]', "host bits are set; the network is 10.7.0.0/16"],
    ['[{"dst":"0.0.0.0/0","gw":"10.6.0.1"}]', "is a default route; set the pool's gateway instead"],
    ['[{"dst":"10.7.0.0/16","gw":"fd00::1"}]', "route gw for 10.7.0.0/16 'fd00::1' is IPv6 but IPv4 is expected"],
    ['[{"dst":"10.7.0.0/16","gw":"10.6.0.1"},{"dst":"10.7.0.0/16","gw":"10.6.0.2"}]', "two routes to 10.7.0.0/16"],
    ['[{"dst":"10.7.0.0/16"}]', "entry 0 field gw must be a non-empty string"],
    ['[{"dst":"10.7.0.0/16","gw":"10.6.0.1","via":"x"}]', "unknown field 'via'"],
  ])("refuses %s", (value, message) => {
    expect(problem(() => parseRoutesAnnotation(value))).toContain(message);
  });
});

describe("ips (pinned)", () => {
  it("parses per-NIC addresses and formats them canonically", () => {
    const p = parsePinnedIPs('[{"interface":"eth0","ipv4":"10.6.0.50","ipv6":"FD00:6:0::50"},{"interface":"net1","ipv4":"10.7.0.9"}]');
    expect(p).toEqual([
      { interface: "eth0", ipv4: parseIP("10.6.0.50"), ipv6: parseIP("fd00:6::50") },
      { interface: "net1", ipv4: parseIP("10.7.0.9") },
    ]);
    expect(formatPinnedIPs(p)).toBe('[{"interface":"eth0","ipv4":"10.6.0.50","ipv6":"fd00:6::50"},{"interface":"net1","ipv4":"10.7.0.9"}]');
    expect(parsePinnedIPs('[{"ipv4":"10.6.0.50"}]')).toEqual([{ interface: "eth0", ipv4: parseIP("10.6.0.50") }]);
  });

  it.each([
    ['[{"interface":"eth0","ipv4":"fd00::1"}]', "entry 0 field ipv4 'fd00::1' is IPv6 but IPv4 is expected"],
    ['[{"interface":"eth0","ipv4":"10.6.0.256"}]', "'10.6.0.256' is not a valid IP address"],
    ['[{"interface":"eth0"}]', "entry 0 pins no address"],
    ['[{"interface":"eth0","ipv4":"10.6.0.5"},{"ipv4":"10.6.0.6"}]', "interface must be set on every entry or on none"],
    ['[{"interface":"eth0","ipv4":"10.6.0.5"},{"interface":"eth0","ipv4":"10.6.0.6"}]', "interface eth0 appears twice"],
  ])("refuses %s", (value, message) => {
    expect(problem(() => parsePinnedIPs(value))).toContain(message);
  });
});
