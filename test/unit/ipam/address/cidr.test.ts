import { describe, expect, it } from "@jest/globals";
import {
  cidrContains,
  cidrSize,
  cidrsOverlap,
  formatAddressInCIDR,
  formatCIDR,
  parseAddressInCIDR,
  parseCIDR,
} from "../../../../ipam/address/cidr.js";
import { formatIP } from "../../../../ipam/address/ip.js";
import { isIpamError } from "../../../../ipam/errors.js";

describe("CIDR", () => {
  it.each([
    ["10.6.0.0/24", "10.6.0.0", "10.6.0.255", 256n],
    ["10.6.0.4/31", "10.6.0.4", "10.6.0.5", 2n],
    ["10.6.0.5/32", "10.6.0.5", "10.6.0.5", 1n],
    ["0.0.0.0/0", "0.0.0.0", "255.255.255.255", 1n << 32n],
    ["fd00::/64", "fd00::", "fd00::ffff:ffff:ffff:ffff", 1n << 64n],
    ["fd00::/127", "fd00::", "fd00::1", 2n],
    ["fd00::1/128", "fd00::1", "fd00::1", 1n],
  ])("%s spans %s..%s (%s addresses)", (text, first, last, size) => {
    const c = parseCIDR(text);
    expect(formatIP(c.family, c.network)).toBe(first);
    expect(formatIP(c.family, c.last)).toBe(last);
    expect(cidrSize(c)).toBe(size);
    expect(formatCIDR(c)).toBe(text);
  });

  it("refuses host bits in the network form and names the network meant", () => {
    expect(() => parseCIDR("10.6.0.5/24")).toThrow(/host bits are set; the network is 10\.6\.0\.0\/24/);
    expect(() => parseCIDR("fd00::1/64")).toThrow(/the network is fd00::\/64/);
  });

  it("accepts host bits in the address-in-network form", () => {
    const a = parseAddressInCIDR("10.6.0.5/24");
    expect(formatIP(4, a.address.value)).toBe("10.6.0.5");
    expect(formatCIDR(a.cidr)).toBe("10.6.0.0/24");
    expect(formatAddressInCIDR(a.address.value, a.cidr)).toBe("10.6.0.5/24");
  });

  it.each(["10.6.0.0", "10.6.0.0/33", "fd00::/129", "10.6.0.0/024", "10.6.0.0/", "10.6.0.0/24/1", "10.6.0/24", "x/24"])(
    "refuses %j as CIDR_INVALID",
    (text) => {
      let code: string | undefined;
      try {
        parseCIDR(text);
      } catch (err) {
        code = isIpamError(err) ? err.code : "other";
      }
      expect(code).toBe("CIDR_INVALID");
    },
  );

  it("answers contains and overlap on the edges", () => {
    const a = parseCIDR("10.6.0.0/24");
    expect(cidrContains(a, parseCIDR("10.6.0.255/32").network)).toBe(true);
    expect(cidrContains(a, parseCIDR("10.6.1.0/32").network)).toBe(false);
    expect(cidrsOverlap(a, parseCIDR("10.6.0.128/25"))).toBe(true);
    expect(cidrsOverlap(a, parseCIDR("10.6.1.0/24"))).toBe(false);
    expect(cidrsOverlap(a, parseCIDR("10.0.0.0/8"))).toBe(true);
    expect(cidrsOverlap(parseCIDR("::/0"), parseCIDR("0.0.0.0/0"))).toBe(false);
  });
});
