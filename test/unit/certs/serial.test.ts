import { describe, expect, it } from "@jest/globals";
import { serialNumber } from "../../../certs/pki.js";

describe("certificate serial numbers", () => {
  it.each([0x00, 0x01, 0x7f, 0x80, 0xff])("are positive and minimal in DER when the first random byte is %i", (first) => {
    const serial = serialNumber((n) => Buffer.from([first, ...Array.from({ length: n - 1 }, () => 0x42)]));
    const lead = Number.parseInt(serial.slice(0, 2), 16);
    // Not negative (top bit clear) and no leading zero byte (Go's x509 refuses both).
    expect(lead & 0x80).toBe(0);
    expect(lead).not.toBe(0);
    expect(serial).toHaveLength(32);
  });
});
