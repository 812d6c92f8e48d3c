import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeConfig } from "@kubernetes/client-node";
import { encodeAllocations } from "../../ipam/allocation/codec.js";
import { emptyAllocations } from "../../ipam/allocation/state.js";
import { parseCIDR } from "../../ipam/address/cidr.js";
import { parseIP } from "../../ipam/address/ip.js";
import { IPPOOL_PLURAL, type IPPoolSpec, type SpiderIPPool } from "../../ipam/kinds/ippool.js";
import { API_VERSION } from "../../ipam/kinds/meta.js";
import { CustomResources } from "../../k8s/resources.js";
import { startTestController, type TestController } from "../harness/controller.js";
import { applyCrds, waitFor } from "../../local-cluster/kube.js";
import { kubectl, refusal, replaceFresh as replaceFreshIn, testKubeConfig } from "../harness/kube.js";

/** Every SpiderIPPool admission rule of api.md, each refused with its sentence, and the defaults. */
describe("SpiderIPPool admission", () => {
  let kc: KubeConfig;
  let tc: TestController;
  let pools: CustomResources<SpiderIPPool>;
  let n = 0;
  const pool = (spec: Partial<IPPoolSpec>, name = `p${++n}-${Date.now() % 100000}`): SpiderIPPool => ({
    apiVersion: API_VERSION,
    kind: "SpiderIPPool",
    metadata: { name, labels: tc.labels },
    spec: spec as IPPoolSpec,
  });

  beforeAll(async () => {
    kc = testKubeConfig();
    await applyCrds(kc);
    tc = await startTestController(kc, "pooladm");
    pools = new CustomResources<SpiderIPPool>(kc, IPPOOL_PLURAL);
    // Neighbours for the overlap rules.
    await pools.create(pool({ subnet: "10.60.1.0/24", ips: ["10.60.1.10-10.60.1.20"] }, "pooladm-neighbour"));
  });
  afterAll(() => tc.stop());

  const refusals: [string, Partial<IPPoolSpec>, string][] = [
    ["a subnet with host bits", { subnet: "10.60.0.5/24" }, "spec.subnet '10.60.0.5/24' is not a valid CIDR: host bits are set; the network is 10.60.0.0/24"],
    ["an ipVersion that is not the subnet's", { ipVersion: 6, subnet: "10.60.2.0/24" }, "spec.ipVersion is 6 but spec.subnet 10.60.2.0/24 is an IPv4 network"],
    ["ips outside the subnet", { subnet: "10.60.2.0/24", ips: ["10.60.3.1"] }, "spec.ips 10.60.3.1 lie outside spec.subnet 10.60.2.0/24"],
    ["excludeIPs outside the subnet", { subnet: "10.60.2.0/24", ips: ["10.60.2.1"], excludeIPs: ["10.61.0.1"] }, "spec.excludeIPs 10.61.0.1 lie outside spec.subnet 10.60.2.0/24"],
    ["a range whose end is before its start", { subnet: "10.60.2.0/24", ips: ["10.60.2.9-10.60.2.3"] }, "spec.ips[0]:"],
    ["an IPv6 address in an IPv4 pool", { subnet: "10.60.2.0/24", ips: ["fd00::1"] }, "spec.ips[0]:"],
    ["a gateway outside the subnet", { subnet: "10.60.2.0/24", gateway: "10.60.9.1" }, "spec.gateway 10.60.9.1 lies outside spec.subnet 10.60.2.0/24"],
    ["a default route", { subnet: "10.60.2.0/24", routes: [{ dst: "0.0.0.0/0", gw: "10.60.2.1" }] }, "spec.routes[0].dst 0.0.0.0/0 is the default route"],
    ["a repeated route", { subnet: "10.60.2.0/24", routes: [{ dst: "172.16.0.0/16", gw: "10.60.2.1" }, { dst: "172.16.0.0/16", gw: "10.60.2.2" }] }, "spec.routes[1].dst 172.16.0.0/16 repeats spec.routes[0].dst"],
    ["a route next hop outside the subnet", { subnet: "10.60.2.0/24", routes: [{ dst: "172.16.0.0/16", gw: "10.9.0.1" }] }, "spec.routes[0].gw 10.9.0.1 lies outside spec.subnet 10.60.2.0/24"],
    ["an empty podAffinity", { subnet: "10.60.2.0/24", podAffinity: {} }, "spec.podAffinity is empty and would match every pod"],
    ["an In expression without values", { subnet: "10.60.2.0/24", nodeAffinity: { matchExpressions: [{ key: "zone", operator: "In" }] } }, "spec.nodeAffinity.matchExpressions[0] uses In on 'zone' without values"],
    ["a bad node name", { subnet: "10.60.2.0/24", nodeName: ["Node_A"] }, "spec.nodeName[0] 'Node_A' is not a valid node name"],
    ["a bad Multus reference", { subnet: "10.60.2.0/24", multusName: ["a/b/c"] }, "spec.multusName[0] 'a/b/c' is not a NetworkAttachmentDefinition reference"],
    ["a subnet overlapping another pool's", { subnet: "10.60.1.0/25" }, "spec.subnet 10.60.1.0/25 overlaps pool pooladm-neighbour's subnet 10.60.1.0/24"],
    ["ips shared with a pool on the same subnet", { subnet: "10.60.1.0/24", ips: ["10.60.1.15-10.60.1.30"] }, "spec.ips 10.60.1.15-10.60.1.20 are also in pool pooladm-neighbour on the same subnet"],
  ];

  it.each(refusals)("refuses %s", async (_what, spec, message) => {
    const status = await refusal(pools.create(pool(spec)));
    expect(status.code).toBe(422);
    expect(status.message).toContain(message);
  });

  it("defaults ipVersion, stores ips in canonical form and adds the finalizer", async () => {
    const created = await pools.create(pool({ subnet: "10.60.4.0/24", ips: ["10.60.4.12", "10.60.4.10-10.60.4.11", "10.60.4.20"], excludeIPs: ["10.60.4.20"] }));
    expect(created.spec.ipVersion).toBe(4);
    expect(created.spec.ips).toEqual(["10.60.4.10-10.60.4.12", "10.60.4.20"]);
    expect(created.metadata.finalizers).toContain("spiderpool.spidernet.io");
    // The reconciler fills the counters: |ips - excludeIPs| = 3.
    const counted = await waitFor("status counters", async () => {
      const got = await pools.get(created.metadata.name ?? "");
      return got?.status?.totalIPCount === 3 ? got : undefined;
    });
    expect(counted.status?.allocatedIPCount).toBe(0);
    // What an operator sees.
    const table = await kubectl(["get", "sp", created.metadata.name ?? ""]);
    expect(table).toMatch(/NAME\s+VERSION\s+SUBNET\s+ALLOCATED-IP-COUNT\s+TOTAL-IP-COUNT\s+DEFAULT\s+DISABLE\s+AGE/);
    expect(table).toMatch(new RegExp(`${created.metadata.name}\\s+4\\s+10\\.60\\.4\\.0/24\\s+0\\s+3\\s`));
  });

  it("accepts IPv6 pools and shortens addresses to their canonical form", async () => {
    const created = await pools.create(pool({ subnet: "fd00:60::/64", ips: ["fd00:60:0:0::10-fd00:60::0:20"], gateway: "fd00:60::1" }));
    expect(created.spec.ipVersion).toBe(6);
    expect(created.spec.ips).toEqual(["fd00:60::10-fd00:60::20"]);
  });

  describe("addresses in use", () => {
    let name: string;
    beforeAll(async () => {
      const created = await pools.create(pool({ subnet: "10.60.5.0/24", ips: ["10.60.5.10-10.60.5.19"], gateway: "10.60.5.1" }));
      name = created.metadata.name ?? "";
      await holdAddresses(created, ["10.60.5.12", "10.60.5.13"]);
    });

    /** The pool as it is now with its spec changed (a lost compare-and-swap tried again). */
    const replaceFresh = (change: (spec: IPPoolSpec) => IPPoolSpec): Promise<SpiderIPPool> => replaceFreshIn(pools, name, change);

    async function holdAddresses(p: SpiderIPPool, addresses: string[]): Promise<void> {
      const subnet = parseCIDR(p.spec.subnet);
      const runs = addresses.map((a, i) => ({ start: parseIP(a).value, count: 1, firstToken: i + 1 }));
      const allocations = encodeAllocations({ ...emptyAllocations(), nextToken: addresses.length + 1, runs }, subnet);
      // The controller's reconciler writes status too: retry a lost compare-and-swap.
      await waitFor("status written", async () => {
        const fresh = (await pools.get(p.metadata.name ?? "")) as SpiderIPPool;
        await pools.replaceStatus({ ...fresh, status: { ...fresh.status, allocations, allocatedIPCount: addresses.length } });
        return true;
      });
    }

    it("refuses removing them from ips", async () => {
      const status = await refusal(replaceFresh((spec) => ({ ...spec, ips: ["10.60.5.14-10.60.5.19"] })));
      expect(status.message).toContain(`spec.ips or spec.excludeIPs would take 10.60.5.12-10.60.5.13 out of pool ${name}, but they are in use`);
    });

    it("refuses excluding them", async () => {
      const status = await refusal(replaceFresh((spec) => ({ ...spec, excludeIPs: ["10.60.5.13"] })));
      expect(status.message).toContain("would take 10.60.5.13 out of pool");
    });

    it("refuses making one the gateway", async () => {
      const status = await refusal(replaceFresh((spec) => ({ ...spec, gateway: "10.60.5.12" })));
      expect(status.message).toContain(`spec.gateway 10.60.5.12 is in use by a pod of pool ${name}`);
    });

    it("accepts growing the pool and removing free addresses", async () => {
      const updated = await replaceFresh((spec) => ({ ...spec, ips: ["10.60.5.12-10.60.5.13", "10.60.5.100"] }));
      expect(updated.spec.ips).toEqual(["10.60.5.12-10.60.5.13", "10.60.5.100"]);
    });

    it("keeps a deleted pool until its addresses are released, then lets it go", async () => {
      await pools.delete(name, undefined, {});
      const terminating = (await pools.get(name)) as SpiderIPPool;
      expect(terminating.metadata.deletionTimestamp).toBeTruthy();
      await tc.controller.settled();
      expect(await pools.get(name)).toBeDefined();
      await holdAddresses(terminating, []);
      await waitFor("pool gone once empty", async () => (await pools.get(name)) === undefined);
    });
  });
});
