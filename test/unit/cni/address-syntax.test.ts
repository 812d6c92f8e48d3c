import { describe, expect, it } from "@jest/globals";
import { isIPv4 as nodeIsIPv4, isIPv6 as nodeIsIPv6 } from "node:net";
import { cidrFamily, ipFamily, isIPv4Text, isIPv6Text } from "../../../cni/address-syntax.js";

describe("address syntax (the plugin's own, to keep node:net's IPv6 regex out of start-up)", () => {
  it.each(["0.0.0.0", "10.6.0.5", "255.255.255.255", "192.168.1.10"])("IPv4 %s", (text) => {
    expect(isIPv4Text(text)).toBe(true);
    expect(ipFamily(text)).toBe(4);
  });

  it.each(["010.0.0.1", "10.1", "256.0.0.1", "1.2.3.4.5", "1.2.3.", "0x0a.0.0.1", " 1.2.3.4", "1.2.3.4\n"])("not IPv4: %j", (text) => {
    expect(isIPv4Text(text)).toBe(false);
  });

  it.each(["::", "::1", "fd00::5", "fd00:6::1", "2001:db8:0:0:0:0:0:1", "2001:db8::", "FE80::ABCD", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8"])("IPv6 %s", (text) => {
    expect(isIPv6Text(text)).toBe(true);
    expect(ipFamily(text)).toBe(6);
  });

  it.each([":::", "1::2::3", "fe80::1%eth0", "::ffff:10.0.0.1", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", ":1::", ""])(
    "not IPv6: %j",
    (text) => {
      expect(isIPv6Text(text)).toBe(false);
    },
  );

  it("agrees with node:net on every hex-only form it accepts", () => {
    const samples = ["::", "::1", "fd00::5", "2001:db8:0:0:0:0:0:1", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "10.6.0.5", "255.255.255.255"];
    for (const s of samples) expect([isIPv4Text(s), isIPv6Text(s)]).toEqual([nodeIsIPv4(s), nodeIsIPv6(s)]);
  });

  it.each([
    ["10.6.0.5/24", 4],
    ["10.0.0.0/32", 4],
    ["fd00::/128", 6],
    ["0.0.0.0/0", 4],
    ["::/0", 6],
    ["10.0.0.0/33", undefined],
    ["fd00::/129", undefined],
    ["10.0.0.0/08", undefined],
    ["10.0.0.0/-1", undefined],
    ["10.0.0.0", undefined],
    ["10.0.0.0/24/1", undefined],
  ])("cidrFamily(%s) = %s", (text, family) => {
    expect(cidrFamily(text)).toBe(family);
  });
});
