import { describe, expect, it } from "@jest/globals";
import { parseCIDR } from "../../../../ipam/address/cidr.js";
import { applyPoolRequests } from "../../../../ipam/allocation/batch.js";
import { encodeAllocations } from "../../../../ipam/allocation/codec.js";
import { emptyAllocations } from "../../../../ipam/allocation/state.js";
import { readRecord } from "../../../../ipam/allocation/usage.js";
import type { SpiderIPPool } from "../../../../ipam/kinds/ippool.js";
import { opts, view } from "./fixtures.js";

/** A pool as the apiserver stores it (uid, spec generation) holding one pending reservation. */
function stored(generation: number, spec: Partial<SpiderIPPool["spec"]> = {}): SpiderIPPool {
  const v = view("p", { subnet: "10.188.0.0/24", ips: ["10.188.0.10-10.188.0.20"] });
  const { state } = applyPoolRequests(v, emptyAllocations(), [{ kind: "allocate", interface: "eth0", reservation: { id: "r1", owner: "ns/a", expiresAt: 10_000 } }], opts());
  return {
    apiVersion: "spiderpool.spidernet.io/v2beta1",
    kind: "SpiderIPPool",
    metadata: { name: "p", uid: "usage-test-uid", generation },
    spec: { ipVersion: 4, subnet: "10.188.0.0/24", ips: ["10.188.0.10-10.188.0.20"], ...spec },
    status: { allocations: encodeAllocations(state, parseCIDR("10.188.0.0/24")) },
  };
}

describe("readRecord", () => {
  it("reads each spec generation of a pool as it is: a later generation whose spec does not parse gives no record", () => {
    expect(readRecord(stored(1))?.pending.map((r) => r.id)).toEqual(["r1"]);
    expect(readRecord(stored(2, { ips: ["10.189.0.1"] }))).toBeUndefined();
    expect(readRecord(stored(3))?.pending[0]?.held[0]?.address).toBe(parseCIDR("10.188.0.10/32").network);
  });

  it("decodes against the subnet of the generation it is given", () => {
    expect(readRecord(stored(4))?.pending[0]?.held[0]?.address).toBe(parseCIDR("10.188.0.10/32").network);
    // Another generation with another subnet (an edit that admission would refuse): its own subnet applies.
    const moved = { ...stored(5), spec: { ipVersion: 4 as const, subnet: "10.190.0.0/24", ips: ["10.190.0.10-10.190.0.20"] } };
    expect(readRecord(moved)?.pending[0]?.held[0]?.address).toBe(parseCIDR("10.190.0.10/32").network);
  });
});
