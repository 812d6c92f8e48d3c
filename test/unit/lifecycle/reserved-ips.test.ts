import { describe, expect, it } from "@jest/globals";
import { parseIP } from "../../../ipam/address/ip.js";
import type { SpiderReservedIP } from "../../../ipam/kinds/reservedip.js";
import { reservedFrom } from "../../../ipam/lifecycle/pool-commit.js";
import { RecordingLog } from "../../fakes/log.js";

const reservedIP = (name: string, ips: string[]): SpiderReservedIP => ({
  apiVersion: "spiderpool.spidernet.io/v2beta1",
  kind: "SpiderReservedIP",
  metadata: { name },
  spec: { ipVersion: 4, ips },
});

/**
 * Issue 13: SpiderReservedIP failed open. One object that cannot be read (stored before
 * the validating webhook ran, or written around it) emptied the whole family's reserved
 * set, so every other reserved address became allocatable.
 */
describe("reservedFrom", () => {
  it("skips an unreadable SpiderReservedIP, reports it by name, and keeps every other reserved address", () => {
    const log = new RecordingLog();
    const objects = [reservedIP("gateways", ["10.6.0.1", "10.6.0.250-10.6.0.254"]), reservedIP("broken", ["10.6.0.300"]), reservedIP("printers", ["10.6.0.20"])];
    const set = reservedFrom(() => objects, log)(4);
    for (const kept of ["10.6.0.1", "10.6.0.252", "10.6.0.20"]) expect(set.contains(parseIP(kept).value)).toBe(true);
    const reports = log.lines.filter((l) => l.level === "error" || l.level === "warn");
    expect(reports.map((l) => JSON.stringify(l.fields) + l.message).join("\n")).toContain("broken");
  });
});
