import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { type AssignedIPs, formatAssignedIPs, parseAssignedIPs } from "../../../../ipam/annotations/assigned.js";
import { AnnotationError } from "../../../../ipam/errors.js";

const sample: AssignedIPs = {
  reservation: "r-8kq2z",
  ips: [
    {
      interface: "eth0",
      ipv4: "10.6.0.5/24",
      ipv4Pool: "v4-a",
      ipv4Gateway: "10.6.0.1",
      ipv4Token: 17,
      ipv6: "fd00:6::5/64",
      ipv6Pool: "v6-a",
      ipv6Token: 3,
      vlan: 100,
      cleanGateway: false,
      routes: [{ dst: "10.7.0.0/16", gw: "10.6.0.1" }],
    },
    { interface: "net1", ipv4: "10.8.0.9/16", ipv4Pool: "v4-b", cleanGateway: true },
  ],
};

function problem(value: string): string {
  try {
    parseAssignedIPs(value);
  } catch (err) {
    if (err instanceof AnnotationError) return err.message;
    throw err;
  }
  throw new Error("expected an AnnotationError");
}

describe("ipam.spidernet.io/assigned-ips", () => {
  it("round-trips and writes a fixed key order", () => {
    const text = formatAssignedIPs(sample);
    expect(text).toBe(
      '{"reservation":"r-8kq2z","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"v4-a","ipv4Gateway":"10.6.0.1","ipv4Token":17,' +
        '"ipv6":"fd00:6::5/64","ipv6Pool":"v6-a","ipv6Token":3,"vlan":100,"cleanGateway":false,"routes":[{"dst":"10.7.0.0/16","gw":"10.6.0.1"}]},' +
        '{"interface":"net1","ipv4":"10.8.0.9/16","ipv4Pool":"v4-b","cleanGateway":true}]}',
    );
    expect(parseAssignedIPs(text)).toEqual(sample);
    expect(formatAssignedIPs(parseAssignedIPs(text))).toBe(text);
  });

  it("canonicalises the addresses it reads", () => {
    const a = parseAssignedIPs('{"reservation":"r","ips":[{"interface":"eth0","ipv6":"FD00:6:0:0::5/64","ipv6Pool":"p","ipv6Gateway":"fd00:6::0:1"}]}');
    expect(a.ips[0]).toEqual({ interface: "eth0", ipv6: "fd00:6::5/64", ipv6Pool: "p", ipv6Gateway: "fd00:6::1" });
  });

  it("round-trips generated values", () => {
    const nic = fc.record({
      interface: fc.constantFrom("eth0", "net1", "net2"),
      ipv4: fc.integer({ min: 1, max: 254 }).map((n) => `10.6.0.${n}/24`),
      ipv4Pool: fc.constantFrom("a", "b"),
      ipv4Token: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
      vlan: fc.option(fc.integer({ min: 0, max: 4094 }), { nil: undefined }),
      cleanGateway: fc.option(fc.boolean(), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.uniqueArray(nic, { minLength: 1, maxLength: 3, selector: (n) => n.interface }), (reservation, ips) => {
        const clean = ips.map((n) => Object.fromEntries(Object.entries(n).filter(([, v]) => v !== undefined))) as unknown as AssignedIPs["ips"];
        const value = { reservation, ips: clean };
        expect(parseAssignedIPs(formatAssignedIPs(value))).toEqual(value);
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ['{"ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"a"}]}', "field reservation must be a non-empty string"],
    ['{"reservation":"r","ips":[]}', "field ips is empty"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"10.6.0.5","ipv4Pool":"a"}]}', "field ipv4: '10.6.0.5' is not a valid CIDR"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"fd00::5/64","ipv4Pool":"a"}]}', "field ipv4 must be an IPv4 address"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24"}]}', "field ipv4Pool must be a non-empty string"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4Pool":"a"}]}', "has ipv4Pool without ipv4"],
    ['{"reservation":"r","ips":[{"interface":"eth0"}]}', "has neither ipv4 nor ipv6"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"a","ipv4Gateway":"10.7.0.1"}]}', "ipv4Gateway 10.7.0.1 is outside 10.6.0.5/24"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"a","ipv4Token":0}]}', "ipv4Token must be a whole number from 1"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"a","vlan":4095}]}', "vlan must be a whole number from 0 to 4094"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"a","routes":[{"dst":"10.9.0.0/16","gw":"10.7.0.1"}]}]}', "goes via 10.7.0.1, which is not in this NIC's ipv4 subnet"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ipv4":"10.6.0.5/24","ipv4Pool":"a"},{"interface":"eth0","ipv4":"10.6.0.6/24","ipv4Pool":"a"}]}', "interface eth0 appears twice"],
    ['{"reservation":"r","ips":[{"interface":"eth0","ip":"10.6.0.5/24"}]}', "unknown field 'ip'"],
  ])("refuses %s", (value, message) => {
    expect(problem(value)).toContain(message);
  });
});
