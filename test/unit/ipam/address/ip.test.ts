import { describe, expect, it } from "@jest/globals";
import { formatIP, parseIP, parseIPOfFamily } from "../../../../ipam/address/ip.js";
import { codeOf } from "../throws.js";


describe("parseIP / formatIP", () => {
  it.each([
    ["0.0.0.0", 4, 0n],
    ["10.0.0.255", 4, 0x0a0000ffn],
    ["10.0.1.0", 4, 0x0a000100n],
    ["255.255.255.255", 4, 0xffffffffn],
    ["::", 6, 0n],
    ["::1", 6, 1n],
    ["::ffff", 6, 0xffffn],
    ["::1:0", 6, 0x10000n],
    ["fd00::ffff:ffff", 6, (0xfd00n << 112n) | 0xffffffffn],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6, (1n << 128n) - 1n],
  ])("%s <-> family %d value %s", (text, family, value) => {
    expect(parseIP(text)).toEqual({ family, value });
    expect(formatIP(family as 4 | 6, value)).toBe(text);
  });

  it("carries across an IPv4 octet and an IPv6 word", () => {
    expect(formatIP(4, parseIP("10.0.0.255").value + 1n)).toBe("10.0.1.0");
    expect(formatIP(4, parseIP("10.0.255.255").value + 1n)).toBe("10.1.0.0");
    expect(formatIP(6, parseIP("::ffff").value + 1n)).toBe("::1:0");
    expect(formatIP(6, parseIP("fd00::ffff:ffff").value + 1n)).toBe("fd00::1:0:0");
  });

  it("prints IPv6 in RFC 5952 short form whatever the input notation", () => {
    expect(formatIP(6, parseIP("2001:DB8:0:0:0:0:0:1").value)).toBe("2001:db8::1");
    expect(formatIP(6, parseIP("2001:db8:0:0:1:0:0:1").value)).toBe("2001:db8::1:0:0:1");
    expect(formatIP(6, parseIP("fd00:0:0:1::").value)).toBe("fd00:0:0:1::");
  });

  it.each([
    ["10.1", "IP_INVALID"],
    ["010.0.0.1", "IP_INVALID"],
    ["0x0a.0.0.1", "IP_INVALID"],
    ["1.2.3.256", "IP_INVALID"],
    [" 10.0.0.1", "IP_INVALID"],
    ["", "IP_INVALID"],
    ["fe80::1%eth0", "IP_INVALID"],
    ["::ffff:10.0.0.1", "IP_INVALID"],
    ["::ffff:a00:1", "IP_INVALID"],
    ["64:ff9b::10.0.0.1", "IP_INVALID"],
    ["fd00::g", "IP_INVALID"],
    ["1:2:3:4:5:6:7:8:9", "IP_INVALID"],
  ])("refuses %j with %s", (text, code) => {
    expect(codeOf(() => parseIP(text))).toBe(code);
  });

  it("explains the IPv4-mapped refusal with the address to write instead", () => {
    expect(() => parseIP("::ffff:10.0.0.1")).toThrow(/write the IPv4 address 10\.0\.0\.1/);
    expect(() => parseIP("64:ff9b::10.0.0.1")).toThrow(/write 64:ff9b::a00:1/);
  });

  it("checks the family when one is required", () => {
    expect(codeOf(() => parseIPOfFamily("fd00::1", 4, "gateway"))).toBe("FAMILY_MISMATCH");
    expect(() => parseIPOfFamily("fd00::1", 4, "gateway")).toThrow(/gateway 'fd00::1' is IPv6 but IPv4 is expected/);
    expect(parseIPOfFamily("10.0.0.1", 4).value).toBe(0x0a000001n);
  });

  it("refuses to format a value outside the family", () => {
    expect(codeOf(() => formatIP(4, 1n << 32n))).toBe("IP_INVALID");
    expect(codeOf(() => formatIP(6, -1n))).toBe("IP_INVALID");
  });
});
