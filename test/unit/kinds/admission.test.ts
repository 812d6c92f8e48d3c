import { describe, expect, it } from "@jest/globals";
import { encodeAllocations } from "../../../ipam/allocation/codec.js";
import { emptyAllocations } from "../../../ipam/allocation/state.js";
import { heldAddresses } from "../../../ipam/allocation/usage.js";
import { parseCIDR } from "../../../ipam/address/cidr.js";
import { parseIP } from "../../../ipam/address/ip.js";
import { defaultIPPool, POOL_FINALIZER, validateIPPool } from "../../../ipam/kinds/ippool-admission.js";
import type { IPPoolSpec, SpiderIPPool } from "../../../ipam/kinds/ippool.js";
import { defaultReservedIP, reservedIPWarnings } from "../../../ipam/kinds/reservedip-admission.js";
import type { SpiderSubnet } from "../../../ipam/kinds/subnet.js";
import { validateSubnet } from "../../../ipam/kinds/subnet-admission.js";

const pool = (name: string, spec: Partial<IPPoolSpec>, held: string[] = []): SpiderIPPool => {
  const p: SpiderIPPool = { metadata: { name }, spec: spec as IPPoolSpec };
  if (held.length > 0) {
    const runs = held.map((a, i) => ({ start: parseIP(a).value, count: 1, firstToken: i + 1 }));
    p.status = { allocations: encodeAllocations({ ...emptyAllocations(), nextToken: held.length + 1, runs }, parseCIDR(spec.subnet ?? "")) };
  }
  return p;
};
const subnet = (name: string, spec: SpiderSubnet["spec"]): SpiderSubnet => ({ metadata: { name, uid: `uid-${name}` }, spec });
const held = heldAddresses;
const none = { pools: [], subnets: [], held };

describe("defaultIPPool", () => {
  it("fills ipVersion, canonicalises lists, adds the finalizer on create only", () => {
    const input = pool("a", { subnet: "fd00::/64", ips: ["fd00:0::0:3", "fd00::1-fd00::2"] });
    const created = defaultIPPool(input, none, true);
    expect(created.spec).toEqual({ subnet: "fd00::/64", ipVersion: 6, ips: ["fd00::1-fd00::3"] });
    expect(created.metadata.finalizers).toEqual([POOL_FINALIZER]);
    expect(defaultIPPool(input, none, false).metadata.finalizers).toBeUndefined();
    expect(input.spec.ipVersion).toBeUndefined(); // the input is not touched
  });

  it("is adopted by the subnet on its CIDR and inherits what it does not set", () => {
    const s = subnet("s", { subnet: "10.1.0.0/16", gateway: "10.1.0.1", routes: [{ dst: "10.9.0.0/16", gw: "10.1.0.1" }], vlan: 7 });
    const out = defaultIPPool(pool("a", { subnet: "10.1.0.0/16", gateway: "10.1.0.254" }), { subnets: [s] }, true);
    expect(out.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "SpiderSubnet", name: "s", uid: "uid-s", controller: true })]);
    expect(out.spec.gateway).toBe("10.1.0.254");
    expect(out.spec.routes).toEqual([{ dst: "10.9.0.0/16", gw: "10.1.0.1" }]);
    expect(out.spec.vlan).toBe(7);
  });
});

describe("validateIPPool", () => {
  it("accepts a sound pool", () => {
    expect(validateIPPool(pool("a", { ipVersion: 4, subnet: "10.1.0.0/24", ips: ["10.1.0.2-10.1.0.9"], gateway: "10.1.0.1" }), undefined, none)).toEqual([]);
  });

  it("reports every problem, each on its field", () => {
    const v = validateIPPool(pool("a", { subnet: "10.1.0.0/24", ips: ["10.2.0.1"], gateway: "10.3.0.1", podAffinity: {} }), undefined, none);
    expect(v.map((x) => x.field)).toEqual(["spec.ips", "spec.gateway", "spec.podAffinity"]);
  });

  it("lets pools share a CIDR but not an address, and refuses overlapping CIDRs", () => {
    const other = pool("b", { subnet: "10.1.0.0/24", ips: ["10.1.0.5-10.1.0.9"] });
    expect(validateIPPool(pool("a", { subnet: "10.1.0.0/24", ips: ["10.1.0.10"] }), undefined, { pools: [other], subnets: [], held })).toEqual([]);
    expect(validateIPPool(pool("a", { subnet: "10.1.0.0/24", ips: ["10.1.0.9-10.1.0.10"] }), undefined, { pools: [other], subnets: [], held })[0]?.message).toContain(
      "spec.ips 10.1.0.9 are also in pool b",
    );
    expect(validateIPPool(pool("a", { subnet: "10.1.0.0/23" }), undefined, { pools: [other], subnets: [], held })[0]?.message).toContain("overlaps pool b's subnet 10.1.0.0/24");
    // Another family never conflicts.
    expect(validateIPPool(pool("a", { subnet: "fd00::/64" }), undefined, { pools: [other], subnets: [], held })).toEqual([]);
  });

  it("keeps addresses in use in the pool", () => {
    const old = pool("a", { ipVersion: 4, subnet: "10.1.0.0/24", ips: ["10.1.0.2-10.1.0.9"] }, ["10.1.0.3"]);
    const shrunk = { ...old, spec: { ...old.spec, ips: ["10.1.0.4-10.1.0.9"] } };
    expect(validateIPPool(shrunk, old, none)[0]?.message).toContain("would take 10.1.0.3 out of pool a, but it is in use");
    const grown = { ...old, spec: { ...old.spec, ips: ["10.1.0.2-10.1.0.20"] } };
    expect(validateIPPool(grown, old, none)).toEqual([]);
  });
});

describe("subnets and reserved addresses", () => {
  it("refuses a subnet that would leave a pool's addresses outside it", () => {
    const p = pool("a", { subnet: "10.1.0.0/24", ips: ["10.1.0.200"] });
    expect(validateSubnet(subnet("s", { subnet: "10.1.0.0/24", ips: ["10.1.0.1-10.1.0.100"] }), undefined, { pools: [p], subnets: [], held })[0]?.message).toContain(
      "spec.ips must keep 10.1.0.200, which pool a holds",
    );
  });

  it("defaults a reserved object's family and warns about addresses in use", () => {
    const r = defaultReservedIP({ metadata: { name: "r" }, spec: { ips: ["10.1.0.4", "10.1.0.3"] } });
    expect(r.spec).toEqual({ ipVersion: 4, ips: ["10.1.0.3-10.1.0.4"] });
    const inUse = pool("a", { subnet: "10.1.0.0/24", ips: ["10.1.0.2-10.1.0.9"] }, ["10.1.0.4"]);
    expect(reservedIPWarnings(r, { pools: [inUse], subnets: [], held })).toEqual(["10.1.0.4 of pool a is in use; reserved from now on, but kept by its pod until released"]);
  });
});
